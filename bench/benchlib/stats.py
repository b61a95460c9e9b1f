"""Percentiles, "median [min–max]" spreads and plain-text tables, as docs/design.md "Measured baseline" shows."""
from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (fraction in 0..1) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def spread(values: Sequence[float]) -> dict:
    """{"median", "min", "max", "runs"} of repeated runs."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def format_spread(summary: dict, digits: int = 0) -> str:
    fmt = f"{{:,.{digits}f}}"
    if summary["runs"] == 1:
        return fmt.format(summary["median"])
    return f"{fmt.format(summary['median'])} [{fmt.format(summary['min'])}–{fmt.format(summary['max'])}]"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (readable in a terminal, pasteable into docs/performance.md)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
