"""Rows out: an aligned table for people, JSON or CSV for machines."""
from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import unicodedata
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


def table(rows: Iterable[dict], columns: Sequence[str], max_width: int = 60, width: int | None = None) -> str:
    """An aligned table. Cells are one line each (control characters shown escaped), measured in
    terminal columns (a CJK character takes two), and cut with "…" at `max_width`. With `width`
    (default: $COLUMNS, else the terminal's when stdout is one) the widest columns are narrowed
    until each line fits."""
    cells = [[_fit(one_line(r.get(c)), max_width) for c in columns] for r in rows]
    if not cells:
        return "(none)\n"
    headers = [c.upper() for c in columns]
    widths = [max(_width(h), *(_width(row[i]) for row in cells)) for i, h in enumerate(headers)]
    limit = _available_width() if width is None else width
    if limit:
        widths = _narrow(widths, [_width(h) for h in headers], limit)
        cells = [[_fit(v, w) for v, w in zip(row, widths)] for row in cells]
    lines = [_join(headers, widths)] + [_join(row, widths) for row in cells]
    return "\n".join(lines) + "\n"


def _join(values: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths)).rstrip()


def _narrow(widths: list[int], floors: list[int], limit: int, least: int = 16) -> list[int]:
    """Take columns from the widest column first, never below its header or `least`, and never from
    the first column (the key: a cut device id is useless); a table that still does not fit wraps."""
    widths = list(widths)
    floors = [widths[0]] + [max(f, min(w, least)) for f, w in zip(floors[1:], widths[1:])]
    while sum(widths) + 2 * (len(widths) - 1) > limit:
        shrinkable = [i for i, w in enumerate(widths) if w > floors[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _available_width() -> int | None:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _width(text: str) -> int:
    """Terminal columns `text` takes: East Asian wide characters two, combining marks none."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def _fit(text: str, width: int) -> str:
    if _width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = _width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HIDDEN = ("Cc", "Cf", "Zl", "Zp")  # controls, invisible format characters (bidi overrides), line breaks


def one_line(value) -> str:
    """A value as people read it in a table: one line, hidden characters shown escaped (a
    right-to-left override in a hostname must not rearrange what is shown), yes/no, lists
    comma-separated."""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        value = ", ".join(map(str, value))
    return "".join(_ESCAPES.get(ch) or (_escape(ch) if unicodedata.category(ch) in _HIDDEN else ch)
                   for ch in _cell(value))


def _escape(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
