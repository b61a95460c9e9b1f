"""Figures the security and fault tests measure, printed at the end of the pytest run.

Tests call `count`/`note`; conftest's `pytest_terminal_summary` prints every figure under its
section, so they show in plain `pytest -q` output (and `-s` shows each one as it is taken).
"""
from __future__ import annotations

from collections import defaultdict

_figures: dict[str, dict[str, int]] = defaultdict(dict)
_totalled: set[str] = set()  # sections of counts, which also print their sum


def count(section: str, name: str, amount: int = 1) -> None:
    """Add `amount` to a running total (e.g. refused calls of one class)."""
    _figures[section][name] = _figures[section].get(name, 0) + amount
    _totalled.add(section)


def note(section: str, name: str, value: int) -> None:
    """Record a measured value (e.g. reports lost), replacing an earlier one of the same name."""
    _figures[section][name] = value
    print(f"[figure] {section}: {name} = {value}")


def lines() -> list[str]:
    out = []
    for section in sorted(_figures):
        total = f" total {sum(_figures[section].values())}" if section in _totalled else ""
        out.append(f"{section}:{total}")
        out += [f"    {name} = {value}" for name, value in sorted(_figures[section].items())]
    return out
