"""The agent's probes: one module per kind of fact, each with one ``collect(ctx)``.

A probe module declares itself with ``PROBE = Probe(...)`` (see _probe.py): its name, its report
field, its collect function and the OSes it serves. PROBES, found here by looking through this
package, maps each probe's name to its Probe, in the order a scan runs them: the order of their
fields in report.proto's AgentReport. A new probe is therefore its module, its tests and its
field in the proto; nothing here or in scan.py changes.
Each collect returns proto message objects (one message, or a list of them) and records
what it could not see on the context instead of raising.
"""

from __future__ import annotations

import importlib
import pkgutil

from farmwatch.v1 import report_pb2

from ._probe import OPERATING_SYSTEMS, Collect, Probe
from .context import ProbeContext


class ProbeDeclarationError(Exception):
    """A probe module's PROBE names a field AgentReport lacks, or a name another probe took."""


def discover(package: str = __name__) -> dict[str, Probe]:
    """The probes the (public, non-package) modules of `package` declare, in report field order."""
    path = importlib.import_module(package).__path__
    found: dict[str, Probe] = {}
    for module in pkgutil.iter_modules(path):
        if module.ispkg or module.name.startswith("_"):
            continue
        probe = getattr(importlib.import_module(f"{package}.{module.name}"), "PROBE", None)
        if probe is None:
            continue
        if probe.field not in report_pb2.AgentReport.DESCRIPTOR.fields_by_name:
            raise ProbeDeclarationError(f"probe {probe.name!r} ({module.name}.py) fills {probe.field!r}, "
                                        "which AgentReport (report.proto) does not have")
        if probe.name in found:
            raise ProbeDeclarationError(f"two probes are named {probe.name!r}")
        found[probe.name] = probe
    return dict(sorted(found.items(), key=lambda item: _field_number(item[1].field)))


def _field_number(field: str) -> int:
    return report_pb2.AgentReport.DESCRIPTOR.fields_by_name[field].number


PROBES: dict[str, Probe] = discover()

__all__ = ["OPERATING_SYSTEMS", "PROBES", "Collect", "Probe", "ProbeContext", "ProbeDeclarationError", "discover"]
