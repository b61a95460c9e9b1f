"""What one device may cost the collector: a rate and a byte budget, and one report at a time.

An enrolled laptop is trusted to speak for itself, not to spend the collector: without a budget
one device could flood it with reports until the disk is full and every agent is refused, or hold
many workers with reports that are expensive to classify. Each device has two token buckets
(reports and bytes, refilled continuously up to a burst) and one report in progress at a time: a
second waits its turn (an agent's retry after a timeout, while its first attempt is still being
stored), a third is refused. Past any of these the report is answered RESOURCE_EXHAUSTED and the
agent keeps it spooled and backs off. So a device's flood queues behind itself and holds at most
two workers, never all of them.

The budgets live in memory: a restarted collector starts every device with a full burst, which
costs at most one burst per device and restart. Only authenticated devices get an entry. Each of
`serve --workers N`'s processes keeps its own: an agent holds one connection, so one worker sees
all its reports; a device that opens connections to k workers gets k budgets, still at most two
threads in each.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """How much one device may send: `burst` at once, refilled at `per_second` (0: no limit)."""

    burst: float
    per_second: float

    @property
    def unlimited(self) -> bool:
        return self.burst <= 0 or self.per_second <= 0


class _Bucket:
    def __init__(self, budget: Budget, now: float):
        self.tokens, self.updated = budget.burst, now

    def refill(self, budget: Budget, now: float) -> None:
        self.tokens = min(budget.burst, self.tokens + (now - self.updated) * budget.per_second)
        self.updated = now


class OverBudget(Exception):
    """The device has spent its budget (or has a report in progress); the message says which."""


class DeviceBudgets:
    """Per device: `admit(device_id, size)` as a context manager around the work for one report.

    Raises OverBudget (and charges nothing) when the report would take more reports or bytes than
    the device has left, when another report of the device already waits its turn, or when the
    turn does not come within `wait` seconds."""

    WAITING_AT_MOST = 1

    def __init__(self, reports: Budget, size: Budget, wait: float = 10.0, clock=time.monotonic):
        self.reports, self.size, self.wait, self.clock = reports, size, wait, clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[_Bucket, _Bucket]] = {}
        self._turns: dict[str, tuple[threading.Lock, int]] = {}  # device → (its turn, reports holding or awaiting it)

    def admit(self, device_id: str, size: int) -> "_Admitted":
        with self._lock:
            turn, queued = self._turns.get(device_id) or (threading.Lock(), 0)
            if queued > self.WAITING_AT_MOST:
                raise OverBudget("a report of this device is being stored and another one waits its turn")
            now = self.clock()
            counts = self._buckets.get(device_id)
            if counts is None:
                counts = self._buckets[device_id] = (_Bucket(self.reports, now), _Bucket(self.size, now))
            for bucket, budget in zip(counts, (self.reports, self.size)):
                bucket.refill(budget, now)
            self._charge(counts, size)
            self._turns[device_id] = (turn, queued + 1)
        if not turn.acquire(timeout=self.wait):
            self._leave(device_id)
            raise OverBudget("another report of this device is still being stored")
        return _Admitted(self, device_id)

    def _charge(self, counts: tuple[_Bucket, _Bucket], size: int) -> None:
        reports, size_left = counts
        if not self.reports.unlimited and reports.tokens < 1:
            raise OverBudget(f"over its budget of {self.reports.per_second * 3600:g} reports an hour "
                             f"(burst {self.reports.burst:g}); retry in {self._wait(reports, self.reports, 1):.0f} s")
        if not self.size.unlimited and size_left.tokens < size:  # size <= burst: the config holds to it
            raise OverBudget(f"over its budget of {self.size.per_second * 86400:g} bytes a day "
                             f"(burst {self.size.burst:g}); retry in "
                             f"{self._wait(size_left, self.size, size):.0f} s")
        reports.tokens -= 1
        size_left.tokens -= size

    @staticmethod
    def _wait(bucket: _Bucket, budget: Budget, needed: float) -> float:
        return max(0.0, (needed - bucket.tokens) / budget.per_second)

    def _done(self, device_id: str) -> None:
        self._turns[device_id][0].release()
        self._leave(device_id)

    def _leave(self, device_id: str) -> None:
        with self._lock:
            turn, queued = self._turns[device_id]
            if queued > 1:
                self._turns[device_id] = (turn, queued - 1)
            else:
                del self._turns[device_id]


class _Admitted:
    def __init__(self, budgets: DeviceBudgets, device_id: str):
        self.budgets, self.device_id = budgets, device_id

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.budgets._done(self.device_id)
