"""Retrying a delivery with exponential backoff, interruptible by a stop request."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from farmwatch.common.backoff import Backoff

log = logging.getLogger("farmwatch.collector.exports")


class DeliveryError(Exception):
    """A sink did not take an event; `permanent` means retrying the same event cannot help."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Stopped(Exception):
    """A stop was requested while waiting to retry; the event stays unsent."""


def with_retries(send: Callable[[], None], *, attempts: int, backoff: Backoff,
                 stop: threading.Event | None = None, what: str = "delivery") -> None:
    """Call `send` until it succeeds, at most `attempts` times, sleeping a backoff between tries.

    Raises the last DeliveryError once attempts run out (or at once if it is permanent), and
    Stopped if `stop` is set while waiting.
    """
    if attempts < 1:
        raise ValueError("a delivery needs at least one attempt")
    stop = stop or threading.Event()
    for attempt in range(1, attempts + 1):
        try:
            send()
            backoff.reset()
            return
        except DeliveryError as exc:
            if exc.permanent or attempt == attempts:
                raise
            delay = max(backoff.next_delay(), exc.retry_after or 0.0)
            log.warning("event=export_retry what=%s attempt=%d of=%d wait_s=%.2f reason=%r",
                        what, attempt, attempts, delay, str(exc))
            if stop.wait(min(delay, backoff.cap)):
                raise Stopped(f"stopped while retrying {what}") from exc
