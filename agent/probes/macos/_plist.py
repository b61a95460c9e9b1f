"""Property lists from files and from tools' ``-a``/XML output, never raising."""

from __future__ import annotations

import plistlib
from typing import Any

from ..context import ProbeContext


def parse_plist(data: str | bytes) -> Any:
    """XML or binary plist; raises ValueError (plistlib's InvalidFileException is one)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        return plistlib.loads(raw)
    except ValueError:  # plistlib's InvalidFileException among them
        raise
    except Exception as exc:  # noqa: BLE001 - expat errors, truncated binary plists
        raise ValueError(str(exc)) from exc


def read_plist(ctx: ProbeContext, machine_path: str) -> dict[str, Any] | None:
    """A plist file's top-level dict; None when absent, a gap when unreadable."""
    data = ctx.read_bytes(machine_path)
    if data is None:
        return None
    try:
        document = parse_plist(data)
    except ValueError as exc:
        ctx.gap(f"{machine_path}: not a property list ({exc})")
        return None
    return document if isinstance(document, dict) else None


def tool_plist(ctx: ProbeContext, argv: list[str]) -> Any:
    """A tool's plist output (``ioreg -a``); None, with a gap, when it is missing or garbled."""
    output = ctx.run(argv, missing_is_gap=True)
    if not output or not output.strip():
        return None
    try:
        return parse_plist(output)
    except ValueError as exc:
        ctx.gap(f"{' '.join(argv)}: unparsable plist ({exc})")
        return None
