"""Registry keys of the machine and of the people logged in to it."""

from __future__ import annotations

import re

from ..context import ProbeContext
from ..registry import RegistryReader

# S-1-5-21-… are domain and local accounts; their classes hive is loaded as <SID>_Classes
_PERSON_SID = re.compile(r"^S-1-5-21-[\d-]+$")


def registry(ctx: ProbeContext) -> RegistryReader | None:
    """The machine's registry; None, with a gap, when this machine has none to read."""
    reader = ctx.machine.registry()
    if reader is None:
        ctx.gap("registry: not available on this machine")
    return reader


def user_hives(reader: RegistryReader) -> list[str]:
    """HKU\\<SID> for each person whose hive is loaded (logged in, or running a process)."""
    return [f"HKU\\{sid}" for sid in reader.subkeys("HKU") if _PERSON_SID.match(sid)]
