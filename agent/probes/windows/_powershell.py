"""PowerShell queries whose answer is JSON (``ConvertTo-Json``).

Every script starts with a comment line naming it: a recording knows a script by that
line, and a gap names the script by it. Windows PowerShell 5.1 has no ``-AsArray``, so a
single result comes back as an object rather than a one-item list: ``as_list`` evens that
out, and turns PowerShell's ``null`` for "no results" into []. Windows PowerShell 5.1 also
writes an array that carries extended members as ``{"value": [...], "Count": n}``, which
``as_list`` unwraps too. A console set to UTF-8 starts the answer with a byte order mark.
"""

from __future__ import annotations

import json
from typing import Any

from ..context import ProbeContext

POWERSHELL = ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command"]
# PowerShell takes most of a second to start, and PnP property reads add more
_TIMEOUT_SECONDS = 8.0


def query(ctx: ProbeContext, script: str) -> Any:
    """The script's JSON answer; None, with a gap, when PowerShell is missing, fails or
    prints something that is not JSON. An empty answer (no results) is None too."""
    output = ctx.run([*POWERSHELL, script], missing_is_gap=True, timeout=_TIMEOUT_SECONDS)
    if output is None or not output.strip():
        return None
    try:
        return json.loads(output.lstrip("\ufeff"))
    except ValueError as exc:
        ctx.gap(f"{script_name(script)}: PowerShell printed no JSON ({exc})")
        return None


def script_name(script: str) -> str:
    return script.strip().split("\n", 1)[0].lstrip("# ").strip()


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, dict) and set(value) == {"value", "Count"} and isinstance(value["value"], list):
        return value["value"]  # PowerShell 5.1's array with ETS members
    return value if isinstance(value, list) else [value]


def as_objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a ConvertTo-Json answer (one object or an array), anything else left out."""
    return [item for item in as_list(value) if isinstance(item, dict)]
