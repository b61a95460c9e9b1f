"""Tools that print one "Key : value" per line (macOS wdutil and ipconfig, Windows netsh)."""

from __future__ import annotations

import re

_FIELD = re.compile(r"^\s*([A-Za-z][\w ()-]*?)\s*:\s(.*?)\s*$|^\s*([A-Za-z][\w ()-]*?)\s*:$")


def colon_fields(output: str) -> dict[str, str]:
    """Keys to values, the first occurrence of a key winning; keys keep their spelling."""
    fields: dict[str, str] = {}
    for line in output.splitlines():
        match = _FIELD.match(line)
        if match:
            key, value = (match[1], match[2]) if match[1] else (match[3], "")
            fields.setdefault(key, value)
    return fields
