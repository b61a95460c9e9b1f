"""Which countries use an IANA time zone, from the tz database's own tables (zone1970.tab, zone.tab).

Read from the system's zoneinfo folder, else from the `tzdata` package. A zone the tables do not
place (UTC, Etc/*, old link names) maps to no country: it cannot contradict a roster.
"""
from __future__ import annotations

import functools
import zoneinfo
from importlib import resources
from pathlib import Path

_TABLES = ("zone1970.tab", "zone.tab")


def countries_of(zone: str | None) -> frozenset[str]:
    return _zone_countries().get((zone or "").strip(), frozenset())


@functools.cache
def _zone_countries() -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for text in _table_texts():
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) >= 3:
                found.setdefault(parts[2].strip(), set()).update(c for c in parts[0].split(",") if c)
    return {zone: frozenset(codes) for zone, codes in found.items()}


def _table_texts() -> list[str]:
    for folder in map(Path, zoneinfo.TZPATH):
        texts = [(folder / name).read_text(encoding="utf-8") for name in _TABLES if (folder / name).is_file()]
        if texts:
            return texts
    try:
        package = resources.files("tzdata") / "zoneinfo"
        return [(package / name).read_text(encoding="utf-8") for name in _TABLES if (package / name).is_file()]
    except ModuleNotFoundError:
        return []
