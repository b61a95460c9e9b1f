"""Tools that print one "Key : value" per line (macOS wdutil and ipconfig, Windows netsh)."""

from __future__ import annotations

import re

# a key starts with a letter of any script: netsh prints its keys in the display language
_FIELD = re.compile(r"^\s*([^\W\d_][\w ()-]*?)\s*:\s(.*?)\s*$|^\s*([^\W\d_][\w ()-]*?)\s*:$")


def colon_fields(output: str) -> dict[str, str]:
    """Keys to values, the first occurrence of a key winning; keys keep their spelling."""
    fields: dict[str, str] = {}
    for key, value in _pairs(output.splitlines()):
        fields.setdefault(key, value)
    return fields


def colon_blocks(output: str) -> list[dict[str, str]]:
    """The fields of each block (one per interface in netsh's output): blocks end at a blank
    line or where a key comes again."""
    blocks: list[dict[str, str]] = [{}]
    for line in output.splitlines():
        if not line.strip():
            blocks.append({})
            continue
        for key, value in _pairs([line]):
            if key in blocks[-1]:
                blocks.append({})
            blocks[-1][key] = value
    return [block for block in blocks if block]


def _pairs(lines: list[str]):
    for line in lines:
        match = _FIELD.match(line)
        if match:
            yield (match[1], match[2]) if match[1] else (match[3], "")
