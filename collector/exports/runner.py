"""Run an export: send a sink what is pending, and with `follow`, keep polling until stopped."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable, Protocol

from farmwatch.collector.exports.delivery import DeliveryError, Stopped, with_retries
from farmwatch.collector.exports.feed import FlagEvent, MemoryCursor
from farmwatch.collector.storage import Storage as Store
from farmwatch.common.backoff import Backoff

log = logging.getLogger("farmwatch.collector.exports")


class Sink(Protocol):
    name: str

    def send(self, event: FlagEvent) -> None: ...

    def close(self) -> None: ...


@dataclass
class RetryPolicy:
    attempts: int = 5
    backoff_seconds: float = 1.0  # first retry waits up to this; each further one doubles it
    backoff_cap_seconds: float = 60.0

    def backoff(self) -> Backoff:
        return Backoff(base=self.backoff_seconds, cap=self.backoff_cap_seconds)


OnSent = Callable[[FlagEvent], None]


def send_pending(store: Store, cursor: MemoryCursor, sink: Sink, retry: RetryPolicy,
                 stop: threading.Event | None = None, on_sent: OnSent | None = None) -> int:
    """Deliver every pending event in order, marking each once the sink took it; returns how many.

    Stops at the first event the sink will not take (raising DeliveryError or Stopped), so the
    events after it stay pending for the next run.
    """
    backoff = retry.backoff()
    sent = 0
    for event in cursor.pending(store):
        with_retries(lambda: sink.send(event), attempts=retry.attempts, backoff=backoff, stop=stop,  # noqa: B023 (called now)
                     what=sink.name)
        cursor.mark(event)
        sent += 1
        if on_sent:
            on_sent(event)
    return sent


def follow(store: Store, cursor: MemoryCursor, sink: Sink, retry: RetryPolicy, *, interval: float,
           stop: threading.Event, on_sent: OnSent | None = None) -> int:
    """Poll every `interval` seconds and deliver what is pending, until `stop` is set.

    A sink that stays unreachable through every retry is tried again at the next poll (its
    events wait); one that refuses an event outright ends the run with that DeliveryError.
    """
    total = 0
    while not stop.is_set():
        try:
            total += _report(sink, send_pending(store, cursor, sink, retry, stop, on_sent))
        except Stopped:
            break
        except DeliveryError as exc:
            if exc.permanent:
                raise
            log.error("event=export_failed sink=%s reason=%r; trying again in %gs", sink.name, str(exc), interval)
        stop.wait(interval)
    return total


def _report(sink: Sink, sent: int) -> int:
    if sent:
        log.info("event=exported sink=%s events=%d", sink.name, sent)
    return sent
