"""What one device may cost the collector: a rate and a byte budget, and one report at a time.

An enrolled laptop is trusted to speak for itself, not to spend the collector: without a budget
one device could flood it with reports until the disk is full and every agent is refused, or hold
many workers with reports that are expensive to classify. Each device has two token buckets
(reports and bytes, refilled continuously up to a burst) and may have one report in progress; past
either, the report is answered RESOURCE_EXHAUSTED and the agent keeps it spooled and backs off.

The budgets live in memory: a restarted collector starts every device with a full burst, which
costs at most one burst per device and restart. Only authenticated devices get an entry.
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

    Raises OverBudget (and charges nothing) when the device has a report in progress, or when the
    report would take more reports or bytes than the device has left."""

    def __init__(self, reports: Budget, size: Budget, clock=time.monotonic):
        self.reports, self.size, self.clock = reports, size, clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[_Bucket, _Bucket]] = {}
        self._in_progress: set[str] = set()

    def admit(self, device_id: str, size: int) -> "_Admitted":
        with self._lock:
            if device_id in self._in_progress:
                raise OverBudget("another report of this device is still being stored")
            now = self.clock()
            counts = self._buckets.get(device_id)
            if counts is None:
                counts = self._buckets[device_id] = (_Bucket(self.reports, now), _Bucket(self.size, now))
            for bucket, budget in zip(counts, (self.reports, self.size)):
                bucket.refill(budget, now)
            self._charge(counts, size)
            self._in_progress.add(device_id)
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
        with self._lock:
            self._in_progress.discard(device_id)


class _Admitted:
    def __init__(self, budgets: DeviceBudgets, device_id: str):
        self.budgets, self.device_id = budgets, device_id

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.budgets._done(self.device_id)
