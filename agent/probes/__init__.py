"""The agent's probes: one module per kind of fact, each with one ``collect(ctx)``.

PROBES maps a probe's name to its collect function, in the order a scan runs them.
Each collect returns proto message objects (one message, or a list of them) and records
what it could not see on the context instead of raising.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import applications, displays, host, network, processes, remote_access, sessions, usb
from .context import ProbeContext

Collect = Callable[[ProbeContext], Any]

PROBES: dict[str, Collect] = {
    "host": host.collect,
    "processes": processes.collect,
    "applications": applications.collect,
    "usb": usb.collect,
    "displays": displays.collect,
    "network": network.collect,
    "sessions": sessions.collect,
    "remote_access": remote_access.collect,
}

__all__ = ["PROBES", "Collect", "ProbeContext"]
