"""`parse`: read one MDM export (bytes, encoding, CSV dialect) into checked roster entries."""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Iterator

from farmwatch.collector.roster.columns import (COLUMNS, FORMATS, header_warnings, ignored_columns, map_columns,
                                               raw_values)
from farmwatch.collector.roster.entries import ParseResult, Problem, RosterEntry, RosterError
from farmwatch.collector.roster.normalise import (is_placeholder_serial, normalise_date, normalise_email,
                                                  normalise_serial, reads_day_first)
from farmwatch.collector.roster.places import normalise_country, normalise_postal_code, normalise_region
from farmwatch.collector.storage.roster import FIELDS


def parse(path_or_file, fmt: str) -> ParseResult:
    """Read one roster export. Raises RosterError when the file is not a usable export of `fmt`."""
    if fmt not in COLUMNS:
        raise RosterError(f"unknown roster format {fmt!r}; expected one of {', '.join(FORMATS)}")
    name, text = _read_text(path_or_file)
    rows = _csv_rows(name, text)
    _, header = next(rows, (0, None))
    if not header or not any(cell.strip() for cell in header):
        raise RosterError(f"{name}: the file is empty; expected a CSV export with a header row")
    mapping = map_columns(name, header, fmt)
    return _build_result(name, fmt, header, mapping, rows)


def _build_result(name: str, fmt: str, header: list[str], mapping: dict[str, list[int]],
                  rows: Iterator[tuple[int, list[str]]]) -> ParseResult:
    result = ParseResult(
        source_format=fmt, source_file=name, entries=[], provided=(),
        columns={f: [header[i].strip() for i in mapping[f]] for f in FIELDS if mapping[f]},
        ignored_columns=ignored_columns(header, mapping),
        warnings=[Problem(1, warning) for warning in header_warnings(header, mapping, fmt)],
    )
    raw_rows = [(line, raw_values(cells, mapping)) for line, cells in rows if any(c.strip() for c in cells)]
    day_first = reads_day_first(values["issue_date"] for _, values in raw_rows)
    entries = [entry for line, values in raw_rows if (entry := _entry(line, values, day_first, result))]
    result.entries = _last_per_serial(entries, result.skipped)
    # A field is provided when it has a column, or a value from another one (Kandji's user object).
    result.provided = tuple(f for f in FIELDS if mapping[f] or any(getattr(e, f) is not None for e in result.entries))
    result.skipped.sort(key=lambda problem: problem.line)
    return result


def _last_per_serial(entries: list[RosterEntry], skipped: list[Problem]) -> list[RosterEntry]:
    by_serial: dict[str, RosterEntry] = {}
    for entry in entries:
        if earlier := by_serial.get(entry.serial):
            skipped.append(Problem(earlier.line, f"serial {entry.serial} appears again on line {entry.line}; "
                                                 "the later row is used"))
        by_serial[entry.serial] = entry
    return sorted(by_serial.values(), key=lambda entry: entry.line)


def _read_text(path_or_file) -> tuple[str, str]:
    if isinstance(path_or_file, (str, Path)):
        name = str(path_or_file)
        try:
            data = Path(path_or_file).read_bytes()
        except OSError as exc:
            raise RosterError(f"{name}: cannot read the file ({exc.strerror or exc})") from exc
    else:
        name = str(getattr(path_or_file, "name", "<stream>"))
        data = path_or_file.read()
        if isinstance(data, str):
            return name, data.lstrip("\ufeff")
    return name, _decode(name, data)


def _decode(name: str, data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RosterError(f"{name}: this is a spreadsheet workbook, not CSV; save it as "
                          "\"CSV UTF-8 (comma delimited)\" and import that")
    if b"\x00" in data[:4096]:
        raise RosterError(f"{name}: binary data, not a CSV text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV (comma delimited)" on Windows writes the ANSI code page.
        return data.decode("cp1252", errors="replace")


def _csv_rows(name: str, text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) per record; a quoted cell may span lines."""
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    # strict: an unclosed quote would otherwise swallow every later row into one cell
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise RosterError(f"{name}: line {line}: not valid CSV ({exc})") from exc


def _entry(line: int, values: dict[str, str], day_first: bool, result: ParseResult) -> RosterEntry | None:
    raw_serial = values.get("serial", "")
    serial = normalise_serial(raw_serial)
    if serial is None:
        result.skipped.append(Problem(line, _serial_problem(raw_serial)))
        return None
    clean = {name: values.get(name) or None for name in FIELDS if name != "serial"}
    clean["email"] = _checked(line, "e-mail address", clean["email"], normalise_email, result)
    clean["country"] = _checked(line, "country", clean["country"], normalise_country, result)
    clean["issue_date"] = _checked(line, "date", clean["issue_date"],
                                   lambda v: normalise_date(v, day_first=day_first), result)
    clean["region"] = normalise_region(clean["region"], clean["country"])
    clean["postal_code"] = normalise_postal_code(clean["postal_code"], clean["country"])
    return RosterEntry(line=line, serial=serial, **clean)


def _serial_problem(raw: str) -> str:
    if not raw:
        return "no serial number"
    if is_placeholder_serial(raw.upper()):
        return f"placeholder serial {raw!r} is not a hardware serial"
    return f"serial {raw!r} has characters a hardware serial cannot have"


def _checked(line: int, what: str, value: str | None, normalise, result: ParseResult) -> str | None:
    if value is None:
        return None
    normal = normalise(value)
    if normal is None:
        result.warnings.append(Problem(line, f"{what} {value!r} not recognised; left empty"))
    return normal
