"""What a probe module declares about itself, so that nothing else needs an edit for a new probe.

Each probe module ends its public part with ``PROBE = Probe(...)``: the name the report knows it
by (``agent_stats.probe_seconds``, ``probe_errors``), the AgentReport field its result goes into,
its collect function and the OSes it has an implementation for. ``probes/__init__.py`` finds these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .context import ProbeContext

Collect = Callable[[ProbeContext], Any]
OPERATING_SYSTEMS = ("linux", "macos", "windows")


@dataclass(frozen=True)
class Probe:
    """One probe: called like its collect function, so the registry maps names to callables."""

    name: str
    collect: Collect
    field: str                   # the AgentReport field (report.proto) its result fills
    platforms: tuple[str, ...]   # the OSes its collect dispatches to; elsewhere it records a gap

    def __call__(self, ctx: ProbeContext) -> Any:
        return self.collect(ctx)
