"""Progress for long work, on stderr: a bar on a terminal, a line every few seconds otherwise.

Work that ends before the first update is due prints nothing: a progress line is for work long
enough that someone wonders whether it is stuck.
"""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str, stream=None, every: float = 5.0):
        self.total, self.label, self.done = total, label, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = 0.1 if self.tty else every
        self.started = self.last = time.monotonic()
        self.drawn = False

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every or (self.done == self.total and self.drawn):
            self.last = now
            self._draw(now)

    def say(self, text: str) -> None:
        """A message of its own line (e.g. a skipped file) that does not tear the bar."""
        if self.tty and self.drawn and self.done < self.total:
            self.stream.write("\r\x1b[K" + text + "\n")
            self._draw(time.monotonic())
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _draw(self, now: float) -> None:
        self.drawn = True
        share = self.done / self.total if self.total else 1.0
        rate = self.done / max(now - self.started, 1e-9)
        text = f"{self.label} {self.done}/{self.total} ({share:.0%}, {rate:,.0f}/s)"
        if self.tty:
            bar = "#" * int(share * 30)
            self.stream.write(f"\r[{bar:<30}] {text}")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
