"""Rows out: an aligned table for people, JSON or CSV for machines."""
from __future__ import annotations

import csv
import json
import sys
from typing import Iterable, Sequence

FORMATS = ("table", "json", "csv")


def add_format_flags(parser, json_help: str = "print a JSON array (for scripts)") -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", dest="format", action="store_const", const="json", help=json_help)
    group.add_argument("--csv", dest="format", action="store_const", const="csv",
                       help="print CSV with a header row")
    parser.set_defaults(format="table")


def emit(rows: Sequence[dict], columns: Sequence[str], fmt: str, out=None) -> None:
    out = out or sys.stdout
    if fmt == "json":
        json.dump(rows if isinstance(rows, dict) else list(rows), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    elif fmt == "csv" and isinstance(rows, dict):  # one object: a field,value row per field
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("field", "value"))
        writer.writerows((key, _cell(value)) for key, value in rows.items())
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: _cell(r.get(c)) for c in columns} for r in rows)
    else:
        out.write(table(rows, columns))


def table(rows: Iterable[dict], columns: Sequence[str], max_width: int = 60) -> str:
    cells = [[_cell(r.get(c))[:max_width] for c in columns] for r in rows]
    if not cells:
        return "(none)\n"
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
