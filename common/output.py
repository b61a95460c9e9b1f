"""Rows out: an aligned table for people, JSON or CSV for machines; each format escaped by one helper
(`one_line`, `json_text`, `csv_cell`) whichever command writes it."""
from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import textwrap
import unicodedata
from typing import Iterable, Sequence

from farmwatch.common.printable import json_text, visible

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
        out.write(json_text(rows if isinstance(rows, dict) else list(rows), indent=2, default=str) + "\n")
    elif fmt == "csv" and isinstance(rows, dict):  # one object: a field,value row per field
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("field", "value"))
        writer.writerows((csv_cell(key), csv_cell(value)) for key, value in rows.items())
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([csv_cell(c) for c in columns])
        writer.writerows([csv_cell(r.get(c)) for c in columns] for r in rows)
    else:
        out.write(table(rows, columns))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP, "CSV Injection"


def csv_cell(value):
    """A value as a CSV cell a spreadsheet will not run: text starting like a formula gets a leading
    single quote (OWASP's advice), hidden characters are escaped as in tables, so every row is one
    line. Numbers stay numbers: a score of -5 is written -5 (only text can hold a formula)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = _cell(value)
    return visible(("'" if text.startswith(_FORMULA_START) else "") + text)


def table(rows: Iterable[dict], columns: Sequence[str], max_width: int = 60, width: int | None = None) -> str:
    """An aligned table. Cells are one line each (control characters shown escaped), measured in
    terminal columns (a CJK character takes two), and cut with "…" at `max_width`. With `width`
    (default: $COLUMNS, else the terminal's when stdout is one) the widest columns are narrowed,
    and the columns that still do not fit are left out from the right, named in a last line."""
    cells = [[_fit(one_line(r.get(c)), max_width) for c in columns] for r in rows]
    if not cells:
        return "(none)\n"
    headers = [one_line(c.upper()) for c in columns]
    widths = [max(_width(h), *(_width(row[i]) for row in cells)) for i, h in enumerate(headers)]
    limit = _available_width() if width is None else width
    left_out: Sequence[str] = ()
    if limit:
        floors = _floors(widths, [_width(h) for h in headers], limit)
        shown = _columns_that_fit(floors, limit)
        left_out = columns[shown:]
        widths = _narrow(widths[:shown], floors[:shown], limit)
        headers = [_fit(h, w) for h, w in zip(headers, widths)]
        cells = [[_fit(v, w) for v, w in zip(row, widths)] for row in cells]
    lines = [_join(headers, widths)] + [_join(row, widths) for row in cells]
    if left_out:
        lines += textwrap.wrap(f"({len(left_out)} column(s) left out to fit {limit} characters: "
                               f"{', '.join(map(one_line, left_out))}; --json or --csv shows every column)",
                               limit, break_on_hyphens=False)
    return "\n".join(lines) + "\n"


def paragraph(text: str, width: int | None = None) -> str:
    """A sentence for people, wrapped at the width tables fit."""
    limit = _available_width() if width is None else width
    return ("\n".join(textwrap.wrap(text, limit, break_on_hyphens=False)) if limit else text) + "\n"


def fields(record: dict, names: Sequence[str], width: int | None = None) -> str:
    """`name: value` lines, names right-aligned, each value one line cut to fit the width (as `table`)."""
    label = max(map(len, names))
    limit = _available_width() if width is None else width
    room = max(limit - label - 2, 1) if limit else None
    values = (one_line(record.get(name)) for name in names)
    return "".join(f"{name:>{label}}: {_fit(value, room) if room else value}\n" for name, value in zip(names, values))


def _join(values: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths)).rstrip()


def _floors(widths: list[int], header_widths: list[int], limit: int, least: int = 16) -> list[int]:
    """How narrow each column may get: never below its header or `least`, and the first column (the
    key: a cut device id is useless) not at all, unless it alone is wider than `limit`."""
    return [min(widths[0], limit)] + [max(h, min(w, least)) for h, w in zip(header_widths[1:], widths[1:])]


def _columns_that_fit(floors: list[int], limit: int) -> int:
    """How many columns, from the left, fit in `limit` at their narrowest (at least the first)."""
    used = floors[0]
    for shown, floor in enumerate(floors[1:], start=1):
        used += 2 + floor
        if used > limit:
            return shown
    return len(floors)


def _narrow(widths: list[int], floors: list[int], limit: int) -> list[int]:
    """Take from the widest column first, never below its floor, until the line fits."""
    widths = list(widths)
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


def one_line(value) -> str:
    """A value as people read it in a table: one line, hidden characters shown escaped (a
    right-to-left override in a hostname must not rearrange what is shown), yes/no, lists
    comma-separated."""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        value = ", ".join(map(str, value))
    return visible(_cell(value))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
