"""Waiting between retries: the agent between calls to the collector, the collector between
deliveries to an export sink."""
from __future__ import annotations

import random


class Backoff:
    """Exponential backoff with full jitter: the n-th delay is uniform in [0, min(cap, base·factor^n)].

    Full jitter spreads a fleet that lost the collector at the same moment over the whole window,
    so they do not all come back at once.
    """

    def __init__(self, base: float = 1.0, factor: float = 2.0, cap: float = 120.0,
                 rng: random.Random | None = None):
        self.base, self.factor, self.cap = base, factor, cap
        self.failures = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        # The exponent stops growing long before float overflow (2.0 ** 1024 raises): an agent
        # whose collector was down for a day must not crash on its 1024th retry.
        return min(self.cap, self.base * self.factor ** min(self.failures, 64))

    def next_delay(self) -> float:
        delay = self._rng.uniform(0, self.ceiling())
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0
