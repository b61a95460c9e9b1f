"""The issued-device roster: which laptop (by hardware serial) went to whom, and where it was shipped.

The roster is what the fleet rules compare reports with: a device that reports but is not on the
roster, a roster device that never reports, several devices of different people behind one
address, a time zone at odds with the ship-to country. It comes from the MDM's own CSV export, so
IT needs no new tooling: `parse(path, fmt)` reads one export, `import_roster(db, result)` upserts
it into the `roster` table.

Formats (`fmt`)
---------------
``jamf``    Jamf Pro computer inventory export (an Advanced Computer Search exported as CSV). The
            display fields read are "Serial Number", "Full Name" (else "Username"), "Email
            Address", "Department", and, when no issue-date column is present, "Last Enrollment".
            "Building" and "Room" are office locations, not ship-to addresses, and are not used.
``intune``  Intune "Devices > All devices > Export" CSV: "Serial number", "Primary user display
            name", "Primary user email address" (else "Primary user UPN"), and "Enrollment date"
            as the issue-date fallback. Intune exports no department or address.
``kandji``  Kandji device list export: "Serial Number", "User Name", "User Email", and "First
            Enrollment"/"Last Enrollment" as the issue-date fallback. The API field names of
            Kandji's device report script (serial_number, user, first_enrollment …) are accepted
            too, including its `user` column holding a {'name': …, 'email': …} object.
``csv``     our plain format, below.

Every MDM format must have a serial column and at least one user column (name or e-mail): a
roster that does not say who has the laptop cannot tell one person's devices from another's, and
the check catches an export read with the wrong `fmt`.

Ship-to address and issue date
------------------------------
MDM exports rarely carry where a laptop was shipped. Add the columns and they are read under
these names (any format): "Ship To City"/"City", "Ship To State"/"State"/"Region"/"Province",
"Ship To Country"/"Country"/"Country/Region", "Ship To Postal Code"/"Postal Code"/"ZIP",
"Issue Date"/"Date Issued"/"Ship Date". How:

- Jamf Pro: create computer extension attributes (Settings > Computer management > Extension
  attributes, input type "Text field", inventory display "User and Location") named e.g. "Ship To
  City", "Ship To Country", "Issue Date"; fill them per computer (by hand, the MUT, or the API)
  and add them to the Advanced Computer Search's display fields before exporting.
- Intune: the export has no custom columns. Download the users (Entra ID > Users > Download
  users: department, city, state, country, postalCode) and append those columns to the device
  export, matched on the primary user's UPN, in a spreadsheet; they are read under those names.
- Kandji: add the columns to the exported CSV the same way (from the HR system or the shipping
  list), or keep the address in the plain format below.

The plain format (`csv`)
------------------------
A header row with any of these columns, in any order; only `serial` is required:

    serial        hardware serial number (as the agent reports it; compared upper-cased)
    user          the person the laptop was issued to (also accepted: user_name)
    email         their e-mail address
    department
    city          ship-to city
    region        ship-to state, province or region
    country       ship-to country: ISO 3166-1 alpha-2 code or an English name ("United States",
                  "USA", "Korea, Republic of")
    postal_code   ship-to postal or ZIP code
    issue_date    date the laptop was issued or shipped

Reading rules (all formats)
---------------------------
- Header names match ignoring case, spaces, underscores and hyphens; unknown columns are ignored.
- UTF-8 with or without BOM, UTF-16 with BOM (Excel "Unicode text"), else Windows-1252; comma,
  semicolon or tab separated (chosen from the header line); Excel-style quoting, including line
  breaks inside quoted cells. Line numbers in messages are the file's physical lines.
- A row without a serial, or with a placeholder such as "To be filled by O.E.M.", is skipped and
  reported with its line number; a blank row is skipped silently. A serial given twice in one
  file: the later row wins and the earlier one is reported.
- Serials are trimmed and upper-cased. E-mail addresses are lower-cased. Countries become ISO
  3166-1 alpha-2 codes. US states and Canadian provinces become their two-letter postal codes
  ("Oregon" → "OR", "Québec" → "QC"). Postal codes are upper-cased with spaces collapsed; US ZIP+4
  codes become the 5-digit ZIP, ZIP codes that lost their leading zero in Excel are padded again,
  and Canadian codes are written "A1A 1A1". `ship_to` puts ship-to addresses in that one
  spelling, also for rows imported before these rules, and `same_household` compares two of them,
  forgiving city spellings and a missing postal code.
- Dates become ISO dates (YYYY-MM-DD) from ISO forms (with or without time, fraction and zone),
  "Mar 5, 2024"/"5 March 2024", and numeric D/M/Y forms. Numeric dates are read month-first, as
  US-locale exports write them, unless a value in the same file only makes sense day-first
  (e.g. 25/03/2024). A value that cannot be read is left empty and reported.

Re-import
---------
`import_roster` upserts on the normalised serial: a known serial is updated, never duplicated.
A column present in the file is authoritative (an empty cell clears the stored value); a column
the file does not have leaves the stored value alone, so an Intune export does not wipe the
departments an earlier Jamf export supplied. `source_format`/`source_file` name the import that
last changed the row; `imported_at` is when the serial was first imported.
"""
from __future__ import annotations

import ast
import calendar
import codecs
import csv
import datetime as dt
import functools
import io
import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import sqlite_utils

from farmwatch.common.device_id import valid_device_id  # the agent and the collector share one rule

FORMATS = ("jamf", "intune", "kandji", "csv")

# Fields of a roster entry, in table order. `user_name`, not `user`: USER is reserved in
# PostgreSQL, the storage backend that comes later.
FIELDS = ("serial", "user_name", "email", "department", "city", "region", "country", "postal_code",
          "issue_date")
IDENTITY_FIELDS = ("user_name", "email")

# Ship-to columns an admin adds to any export (see the module docstring), and the explicit
# issue-date columns that beat an MDM's enrollment date.
_SHIP_TO = {
    "city": ("Ship To City", "Shipping City", "City"),
    "region": ("Ship To State", "Ship To Region", "Ship To Province", "Shipping State", "State",
               "Region", "Province", "State/Province", "State or Province"),
    "country": ("Ship To Country", "Shipping Country", "Country", "Country/Region", "Country or Region",
                "Country Code"),
    "postal_code": ("Ship To Postal Code", "Ship To ZIP", "Ship To ZIP Code", "Shipping Postal Code",
                    "Postal Code", "Postcode", "ZIP", "ZIP Code"),
}
_ISSUE_DATE = ("Issue Date", "Issued", "Date Issued", "Issued On", "Ship Date", "Shipped", "Assigned Date")

# Candidate headers per field, best first. For a row, the first candidate column with a value wins.
_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "jamf": {
        "serial": ("Serial Number",),
        "user_name": ("Full Name", "Username"),
        "email": ("Email Address",),
        "department": ("Department",),
        **_SHIP_TO,
        "issue_date": _ISSUE_DATE + ("Last Enrollment",),
    },
    "intune": {
        "serial": ("Serial number",),
        "user_name": ("Primary user display name",),
        "email": ("Primary user email address", "Primary user UPN"),
        "department": ("Department",),
        **_SHIP_TO,
        "issue_date": _ISSUE_DATE + ("Enrollment date",),
    },
    "kandji": {
        "serial": ("Serial Number",),
        "user_name": ("User Name", "User"),
        "email": ("User Email", "User Email Address"),
        "department": ("Department",),
        **_SHIP_TO,
        "issue_date": _ISSUE_DATE + ("First Enrollment", "Enrollment Date", "Last Enrollment"),
    },
    "csv": {
        "serial": ("serial",),
        "user_name": ("user", "user_name"),
        "email": ("email",),
        "department": ("department",),
        "city": ("city",),
        "region": ("region",),
        "country": ("country",),
        "postal_code": ("postal_code",),
        "issue_date": ("issue_date",),
    },
}

# Values that stand for "no serial": BIOS defaults of white-box and virtual machines, export
# fillers. Taking one as a serial would merge unrelated laptops into one roster row.
_PLACEHOLDER_SERIALS = {
    "0", "NONE", "N/A", "NA", "NULL", "UNKNOWN", "INVALID", "NOT AVAILABLE", "NOT APPLICABLE",
    "NOT SPECIFIED", "DEFAULT STRING", "TO BE FILLED BY O.E.M.", "SYSTEM SERIAL NUMBER",
    "CHASSIS SERIAL NUMBER", "0123456789", "123456789", "SERIAL",
}
_PLACEHOLDER_SERIAL_SHAPE = re.compile(r"^[0\-_.X ]+$")
# Empty-looking cells. "NA" means "not available" far more often than Namibia in these exports.
_BLANKS = {"", "-", "--", "?", "n/a", "na", "none", "null", "unknown", "not available"}


class RosterError(ValueError):
    """The file cannot be read as the chosen roster format; the message names the file and the gap."""


@dataclass(frozen=True)
class Problem:
    line: int  # physical line in the file; the header is line 1
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class RosterEntry:
    line: int
    serial: str
    user_name: str | None = None
    email: str | None = None
    department: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    postal_code: str | None = None
    issue_date: str | None = None

    def values(self, fields: Iterable[str]) -> dict:
        return {name: getattr(self, name) for name in fields}


@dataclass
class ParseResult:
    source_format: str
    source_file: str
    entries: list[RosterEntry]
    provided: tuple[str, ...]  # fields the file has a column for (others are left alone on import)
    columns: dict[str, list[str]]  # field -> headers read for it, best first
    ignored_columns: list[str]
    skipped: list[Problem] = field(default_factory=list)  # rows not imported
    warnings: list[Problem] = field(default_factory=list)  # rows imported with a value left empty


@dataclass(frozen=True)
class Change:
    serial: str
    fields: tuple[str, ...]


@dataclass
class ImportSummary:
    source_file: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def describe(self) -> list[str]:
        """Lines for a person: the totals, then every skipped row and warning."""
        lines = [f"{self.source_file}: {self.inserted} new, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.skipped)} skipped"]
        lines += [f"  skipped {problem}" for problem in self.skipped]
        lines += [f"  warning {problem}" for problem in self.warnings]
        return lines


# -- parsing ------------------------------------------------------------------------------

def parse(path_or_file, fmt: str) -> ParseResult:
    """Read one roster export. Raises RosterError when the file is not a usable export of `fmt`."""
    if fmt not in _COLUMNS:
        raise RosterError(f"unknown roster format {fmt!r}; expected one of {', '.join(FORMATS)}")
    name, text = _read_text(path_or_file)
    rows = _csv_rows(name, text)
    _, header = next(rows, (0, None))
    if not header or not any(cell.strip() for cell in header):
        raise RosterError(f"{name}: the file is empty; expected a CSV export with a header row")
    mapping = _map_columns(name, header, fmt)
    return _build_result(name, fmt, header, mapping, rows)


def _build_result(name: str, fmt: str, header: list[str], mapping: dict[str, list[int]],
                  rows: Iterator[tuple[int, list[str]]]) -> ParseResult:
    result = ParseResult(
        source_format=fmt, source_file=name, entries=[], provided=(),
        columns={f: [header[i].strip() for i in mapping[f]] for f in FIELDS if mapping[f]},
        ignored_columns=_ignored_columns(header, mapping),
    )
    raw_rows = [(line, _raw_values(cells, mapping)) for line, cells in rows if any(c.strip() for c in cells)]
    day_first = _day_first(values["issue_date"] for _, values in raw_rows)
    entries = [entry for line, values in raw_rows if (entry := _entry(line, values, day_first, result))]
    result.entries = _last_per_serial(entries, result.skipped)
    # A field is provided when it has a column, or a value from another one (Kandji's user object).
    result.provided = tuple(f for f in FIELDS if mapping[f] or any(getattr(e, f) is not None for e in result.entries))
    result.skipped.sort(key=lambda problem: problem.line)
    return result


def _ignored_columns(header: list[str], mapping: dict[str, list[int]]) -> list[str]:
    used = {index for indices in mapping.values() for index in indices}
    return [cell.strip() for index, cell in enumerate(header) if index not in used and cell.strip()]


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


def _header_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().casefold())


def _map_columns(name: str, header: list[str], fmt: str) -> dict[str, list[int]]:
    mapping = _match(header, _COLUMNS[fmt])
    if not mapping["serial"]:
        raise RosterError(f"{name}: no serial number column; expected one of "
                          f"{_quoted(_COLUMNS[fmt]['serial'])}{_hint(header, fmt)}")
    if fmt != "csv" and not any(mapping[f] for f in IDENTITY_FIELDS):
        wanted = [h for f in IDENTITY_FIELDS for h in _COLUMNS[fmt][f]]
        raise RosterError(f"{name}: no user column (who has the laptop); expected one of "
                          f"{_quoted(wanted)}{_hint(header, fmt)}")
    return mapping


def _match(header: list[str], candidates: dict[str, tuple[str, ...]]) -> dict[str, list[int]]:
    index_of: dict[str, int] = {}
    for index, cell in enumerate(header):
        index_of.setdefault(_header_key(cell), index)
    return {f: [index_of[_header_key(h)] for h in candidates[f] if _header_key(h) in index_of] for f in FIELDS}


def _hint(header: list[str], fmt: str) -> str:
    fits = [other for other in FORMATS if other != fmt and _fits(header, other)]
    return f" (the columns look like format {_quoted(fits)})" if fits else ""


def _fits(header: list[str], fmt: str) -> bool:
    mapping = _match(header, _COLUMNS[fmt])
    return bool(mapping["serial"]) and any(mapping[f] for f in IDENTITY_FIELDS)


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _raw_values(cells: list[str], mapping: dict[str, list[int]]) -> dict[str, str]:
    values = {}
    for name, indices in mapping.items():
        present = [cells[i].strip() for i in indices if i < len(cells)]
        values[name] = next((v for v in present if v.casefold() not in _BLANKS), "")
    _expand_user_object(values)
    return values


def _expand_user_object(values: dict[str, str]) -> None:
    """Kandji's API report writes the user as a Python dict literal; take its name and e-mail."""
    text = values.get("user_name", "")
    user = _object_literal(text) if text.startswith("{") else None
    if isinstance(user, dict):
        values["user_name"] = str(user.get("name") or "").strip()
        values["email"] = values.get("email") or str(user.get("email") or "").strip()


def _object_literal(text: str):
    if len(text) > 4096:  # a user record is short; don't feed a parser megabytes from a cell
        return None
    for load in (json.loads, ast.literal_eval):
        try:
            return load(text)
        except (ValueError, SyntaxError, RecursionError, MemoryError):
            continue
    return None


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
    if _is_placeholder_serial(raw.upper()):
        return f"placeholder serial {raw!r} is not a hardware serial"
    return f"serial {raw!r} has characters a hardware serial cannot have"


def _checked(line: int, what: str, value: str | None, normalise, result: ParseResult) -> str | None:
    if value is None:
        return None
    normal = normalise(value)
    if normal is None:
        result.warnings.append(Problem(line, f"{what} {value!r} not recognised; left empty"))
    return normal


# -- value normalisation -------------------------------------------------------------------

def normalise_serial(value: str | None) -> str | None:
    """The roster key: trimmed, upper-cased; None for blanks, placeholders and impossible ids."""
    serial = (value or "").strip().upper()
    if _is_placeholder_serial(serial):
        return None
    return serial if valid_device_id(serial) else None


def _is_placeholder_serial(serial: str) -> bool:
    return serial in _PLACEHOLDER_SERIALS or bool(_PLACEHOLDER_SERIAL_SHAPE.match(serial or "0"))


def normalise_email(value: str) -> str | None:
    email = value.strip().lower()
    if email.startswith("mailto:"):
        email = email[len("mailto:"):]
    local, at, domain = email.partition("@")
    return email if at and local and "." in domain and " " not in email else None


# A US ZIP, maybe with its +4 part, maybe short of the leading zeros Excel drops (02134 → 2134).
_US_ZIP = re.compile(r"(\d{3,5})(?:[\s-]?\d{4})?")
_CA_POSTAL = re.compile(r"([A-Z]\d[A-Z])\s?(\d[A-Z]\d)")


def normalise_postal_code(value: str | None, country: str | None) -> str | None:
    """Upper case, spaces collapsed; a US ZIP as its 5 digits, a Canadian code as "A1A 1A1"."""
    if not value:
        return value
    text = " ".join(value.split()).upper()
    if country == "US" and (zip_code := _US_ZIP.fullmatch(text)):
        return zip_code[1].zfill(5)
    if country == "CA" and (postal := _CA_POSTAL.fullmatch(text)):
        return f"{postal[1]} {postal[2]}"
    return text


@functools.lru_cache(maxsize=4096)
def normalise_region(value: str | None, country: str | None) -> str | None:
    """A US state or Canadian province as its postal code ("Oregon", "or" → "OR"); other regions
    as given, spaces collapsed."""
    if not value:
        return value
    text = " ".join(value.split())
    return _REGION_CODES.get(country, {}).get(_name_key(text), text)


def ship_to(country: str | None, region: str | None, city: str | None, postal_code: str | None) -> tuple | None:
    """A ship-to address as (country, region, city, postal code) in one spelling for `same_household`:
    names compared without case, accents or punctuation ("Zürich" = "Zurich"), blanks as None."""
    if country:
        country = normalise_country(country) or country
    parts = (country, normalise_region(region, country), city, normalise_postal_code(postal_code, country))
    keyed = tuple(_name_key(part) or None if part and part.strip() else None for part in parts)
    return keyed if any(keyed) else None


def same_household(first: tuple | None, second: tuple | None) -> bool:
    """Whether two `ship_to` addresses can be one home: no part both rows give differs, and they
    agree on the postal code, or (one row lacking it) on the city. With both postal codes the city
    and region are not compared: one ZIP is "Brooklyn" on one row and "New York" on the other, a
    Swiss canton "ZH" or "Zurich". Exports often leave the postal code out; two rows of one city
    without it cannot be told apart from one home."""
    if first is None or second is None:
        return False
    (country_a, region_a, city_a, postal_a), (country_b, region_b, city_b, postal_b) = first, second
    if country_a and country_b and country_a != country_b:
        return False
    if postal_a and postal_b:
        return postal_a == postal_b
    if region_a and region_b and region_a != region_b:
        return False
    return bool(city_a and city_b and city_a == city_b)


_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[T\s])")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:$|[\s,T])")
_MONTH_FIRST = re.compile(r"^([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DAY_FIRST = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-]+([A-Za-z]{3,9})\.?[\s\-,]+(\d{4})\b")
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9


def normalise_date(value: str, *, day_first: bool = False) -> str | None:
    """An ISO date (YYYY-MM-DD) from the forms MDM exports and spreadsheets write, else None."""
    text = value.strip()
    parts = _date_parts(text, day_first)
    if parts is None:
        return None
    year, month, day = parts
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _date_parts(text: str, day_first: bool) -> tuple[int, int, int] | None:
    if match := _ISO_DATE.match(text):
        return int(match[1]), int(match[2]), int(match[3])
    if match := _NUMERIC_DATE.match(text):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        year += 2000 if year < 100 else 0
        return (year, second, first) if day_first else (year, first, second)
    if match := _MONTH_FIRST.match(text):
        month = _MONTHS.get(match[1].lower())
        return (int(match[3]), month, int(match[2])) if month else None
    if match := _DAY_FIRST.match(text):
        month = _MONTHS.get(match[2].lower())
        return (int(match[3]), month, int(match[1])) if month else None
    return None


def _day_first(values: Iterable[str | None]) -> bool:
    """Whether this file's numeric dates are day-first: some value reads only that way."""
    for value in values:
        match = _NUMERIC_DATE.match((value or "").strip())
        if match and int(match[1]) > 12 >= int(match[2]):
            return True
    return False


@functools.lru_cache(maxsize=4096)  # a roster repeats a handful of countries thousands of times
def normalise_country(value: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a code or an English name ("USA", "Korea, Republic of"), else None."""
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        code = text.upper()
        return code if code in _COUNTRY_CODES else _COUNTRY_NAMES.get(_name_key(text))
    for candidate in _country_name_forms(text):
        code = _COUNTRY_NAMES.get(_name_key(candidate))
        if code:
            return code
    return None


def _country_name_forms(text: str) -> list[str]:
    """The name as given, then ISO's inverted "Korea, Republic of" read as "Republic of Korea", then the head."""
    forms = [text]
    if "," in text:
        head, tail = (part.strip() for part in text.split(",", 1))
        forms += [f"{tail} {head}", head]
    return forms


def _name_key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("&", " and ")
    text = re.sub(r"[’'`.]", "", text)  # "U.S." -> "us", "d’Ivoire" -> "divoire"
    words = ["saint" if word == "st" else word for word in re.sub(r"[^a-z0-9]+", " ", text).split()]
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words)


# Code, English short name, then other names in use (ISO's formal names, older or local ones).
_COUNTRY_TABLE = """
AD Andorra|AE United Arab Emirates; UAE|AF Afghanistan|AG Antigua and Barbuda|AI Anguilla|AL Albania
AM Armenia|AO Angola|AQ Antarctica|AR Argentina|AS American Samoa|AT Austria; Österreich|AU Australia
AW Aruba|AX Åland Islands|AZ Azerbaijan|BA Bosnia and Herzegovina; Bosnia|BB Barbados|BD Bangladesh
BE Belgium|BF Burkina Faso|BG Bulgaria|BH Bahrain|BI Burundi|BJ Benin|BL Saint Barthélemy|BM Bermuda
BN Brunei; Brunei Darussalam|BO Bolivia; Plurinational State of Bolivia
BQ Caribbean Netherlands; Bonaire, Sint Eustatius and Saba; Bonaire|BR Brazil; Brasil|BS Bahamas
BT Bhutan|BV Bouvet Island|BW Botswana|BY Belarus|BZ Belize|CA Canada|CC Cocos (Keeling) Islands
CD Democratic Republic of the Congo; DR Congo; DRC; Congo (Dem. Rep.); Congo-Kinshasa
CF Central African Republic|CG Congo; Republic of the Congo; Congo (Rep.); Congo-Brazzaville
CH Switzerland; Schweiz; Suisse|CI Côte d'Ivoire; Ivory Coast|CK Cook Islands|CL Chile|CM Cameroon
CN China; People's Republic of China; PRC|CO Colombia|CR Costa Rica|CU Cuba|CV Cabo Verde; Cape Verde
CW Curaçao|CX Christmas Island|CY Cyprus|CZ Czechia; Czech Republic|DE Germany; Deutschland|DJ Djibouti
DK Denmark|DM Dominica|DO Dominican Republic|DZ Algeria|EC Ecuador|EE Estonia|EG Egypt|EH Western Sahara
ER Eritrea|ES Spain; España|ET Ethiopia|FI Finland|FJ Fiji|FK Falkland Islands; Falkland Islands (Malvinas)
FM Micronesia; Federated States of Micronesia|FO Faroe Islands|FR France|GA Gabon
GB United Kingdom; UK; Great Britain; Britain; England; Scotland; Wales; Northern Ireland
GB United Kingdom of Great Britain and Northern Ireland
GD Grenada|GE Georgia|GF French Guiana|GG Guernsey|GH Ghana|GI Gibraltar|GL Greenland|GM Gambia
GN Guinea|GP Guadeloupe|GQ Equatorial Guinea|GR Greece|GS South Georgia and the South Sandwich Islands
GT Guatemala|GU Guam|GW Guinea-Bissau|GY Guyana|HK Hong Kong|HM Heard Island and McDonald Islands
HN Honduras|HR Croatia|HT Haiti|HU Hungary|ID Indonesia|IE Ireland|IL Israel|IM Isle of Man|IN India
IO British Indian Ocean Territory|IQ Iraq|IR Iran; Islamic Republic of Iran|IS Iceland|IT Italy; Italia
JE Jersey|JM Jamaica|JO Jordan|JP Japan|KE Kenya|KG Kyrgyzstan|KH Cambodia|KI Kiribati|KM Comoros
KN Saint Kitts and Nevis
KP North Korea; Democratic People's Republic of Korea; DPRK; Korea (North); Korea, North
KR South Korea; Republic of Korea; ROK; Korea (South); Korea, South
KW Kuwait|KY Cayman Islands|KZ Kazakhstan|LA Laos; Lao People's Democratic Republic|LB Lebanon
LC Saint Lucia|LI Liechtenstein|LK Sri Lanka|LR Liberia|LS Lesotho|LT Lithuania|LU Luxembourg|LV Latvia
LY Libya|MA Morocco|MC Monaco|MD Moldova; Republic of Moldova|ME Montenegro
MF Saint Martin; Saint Martin (French part)|MG Madagascar|MH Marshall Islands|MK North Macedonia; Macedonia
ML Mali|MM Myanmar; Burma|MN Mongolia|MO Macao; Macau|MP Northern Mariana Islands|MQ Martinique
MR Mauritania|MS Montserrat|MT Malta|MU Mauritius|MV Maldives|MW Malawi|MX Mexico|MY Malaysia
MZ Mozambique|NA Namibia|NC New Caledonia|NE Niger|NF Norfolk Island|NG Nigeria|NI Nicaragua
NL Netherlands; Holland; Nederland; Kingdom of the Netherlands|NO Norway|NP Nepal|NR Nauru|NU Niue
NZ New Zealand|OM Oman|PA Panama|PE Peru|PF French Polynesia|PG Papua New Guinea|PH Philippines
PK Pakistan|PL Poland; Polska|PM Saint Pierre and Miquelon|PN Pitcairn; Pitcairn Islands|PR Puerto Rico
PS Palestine; State of Palestine; Palestinian Territories|PT Portugal|PW Palau|PY Paraguay|QA Qatar
RE Réunion|RO Romania|RS Serbia|RU Russia; Russian Federation|RW Rwanda|SA Saudi Arabia
SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden; Sverige|SG Singapore
SH Saint Helena; Saint Helena, Ascension and Tristan da Cunha|SI Slovenia|SJ Svalbard and Jan Mayen
SK Slovakia; Slovak Republic|SL Sierra Leone|SM San Marino|SN Senegal|SO Somalia|SR Suriname
SS South Sudan|ST Sao Tome and Principe|SV El Salvador|SX Sint Maarten; Sint Maarten (Dutch part)
SY Syria; Syrian Arab Republic|SZ Eswatini; Swaziland|TC Turks and Caicos Islands|TD Chad
TF French Southern Territories|TG Togo|TH Thailand|TJ Tajikistan|TK Tokelau|TL Timor-Leste; East Timor
TM Turkmenistan|TN Tunisia|TO Tonga|TR Türkiye; Turkey|TT Trinidad and Tobago|TV Tuvalu
TW Taiwan; Republic of China|TZ Tanzania; United Republic of Tanzania|UA Ukraine|UG Uganda
UM United States Minor Outlying Islands
US United States; United States of America; USA; America|UY Uruguay|UZ Uzbekistan
VA Holy See; Vatican City; Vatican|VC Saint Vincent and the Grenadines
VE Venezuela; Bolivarian Republic of Venezuela
VG British Virgin Islands; Virgin Islands (British); Virgin Islands (UK)
VI U.S. Virgin Islands; Virgin Islands (U.S.); Virgin Islands (US)|VN Vietnam; Viet Nam|VU Vanuatu
WF Wallis and Futuna|WS Samoa|XK Kosovo|YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia|ZW Zimbabwe
"""


# Postal code, then names in use, of the US states (with DC and the territories) and Canada's
# provinces and territories.
_REGION_TABLE = {
    "US": """
AL Alabama|AK Alaska|AZ Arizona|AR Arkansas|CA California|CO Colorado|CT Connecticut|DE Delaware
DC District of Columbia; Washington DC|FL Florida|GA Georgia|HI Hawaii|ID Idaho|IL Illinois|IN Indiana
IA Iowa|KS Kansas|KY Kentucky|LA Louisiana|ME Maine|MD Maryland|MA Massachusetts|MI Michigan|MN Minnesota
MS Mississippi|MO Missouri|MT Montana|NE Nebraska|NV Nevada|NH New Hampshire|NJ New Jersey|NM New Mexico
NY New York|NC North Carolina|ND North Dakota|OH Ohio|OK Oklahoma|OR Oregon|PA Pennsylvania
RI Rhode Island|SC South Carolina|SD South Dakota|TN Tennessee|TX Texas|UT Utah|VT Vermont|VA Virginia
WA Washington|WV West Virginia|WI Wisconsin|WY Wyoming|AS American Samoa|GU Guam
MP Northern Mariana Islands|PR Puerto Rico|VI U.S. Virgin Islands; Virgin Islands|UM Minor Outlying Islands
""",
    "CA": """
AB Alberta|BC British Columbia|MB Manitoba|NB New Brunswick|NL Newfoundland and Labrador; Newfoundland; NF
NS Nova Scotia|NT Northwest Territories|NU Nunavut|ON Ontario|PE Prince Edward Island; PEI
QC Quebec; Québec; PQ|SK Saskatchewan|YT Yukon; Yukon Territory
""",
}


def _region_index() -> dict[str, dict[str, str]]:
    """country → {name key of a code or name: code}."""
    index: dict[str, dict[str, str]] = {}
    for country, table in _REGION_TABLE.items():
        for item in table.replace("\n", "|").split("|"):
            if item.strip():
                code, _, names = item.strip().partition(" ")
                index.setdefault(country, {}).update({_name_key(name): code for name in [code, *names.split(";")]})
    return index


def _country_index() -> tuple[frozenset[str], dict[str, str]]:
    codes, names = set(), {}
    for item in _COUNTRY_TABLE.replace("\n", "|").split("|"):
        if not item.strip():
            continue
        code, _, aliases = item.strip().partition(" ")
        codes.add(code)
        for alias in aliases.split(";"):
            names[_name_key(alias)] = code
    return frozenset(codes), names


_COUNTRY_CODES, _COUNTRY_NAMES = _country_index()
_REGION_CODES = _region_index()


# -- storage -------------------------------------------------------------------------------

_ROW_COLUMNS = FIELDS + ("source_format", "source_file", "imported_at", "updated_at")


def create_schema(db: sqlite_utils.Database) -> None:
    db["roster"].create({name: str for name in _ROW_COLUMNS}, pk="serial", if_not_exists=True)
    # Fleet rules group devices by person (e-mail, else name) and compare countries.
    db["roster"].create_index(["email"], if_not_exists=True)
    db["roster"].create_index(["user_name"], if_not_exists=True)
    db["roster"].create_index(["country"], if_not_exists=True)


def import_roster(conn_or_store, result: ParseResult, *, now: str | None = None) -> ImportSummary:
    """Upsert the parsed entries in one transaction; see "Re-import" in the module docstring."""
    db = _database(conn_or_store)
    stamp = now or _now()
    summary = ImportSummary(source_file=result.source_file, skipped=list(result.skipped),
                            warnings=list(result.warnings))
    with _transaction(db.conn):
        create_schema(db)
        existing = _existing_rows(db.conn, [entry.serial for entry in result.entries])
        for entry in result.entries:
            _upsert(db.conn, entry, existing.get(entry.serial), result, stamp, summary)
    return summary


def find(conn_or_store, device_id: str) -> dict | None:
    """The roster row of a reporting device (its id is the hardware serial, compared normalised)."""
    serial = normalise_serial(device_id)
    db = _database(conn_or_store)
    if serial is None or not db["roster"].exists():
        return None
    row = db.execute(f"SELECT {', '.join(_ROW_COLUMNS)} FROM roster WHERE serial = ?", (serial,)).fetchone()
    return dict(zip(_ROW_COLUMNS, row)) if row else None


def _upsert(conn: sqlite3.Connection, entry: RosterEntry, stored: dict | None, result: ParseResult,
            stamp: str, summary: ImportSummary) -> None:
    provenance = {"source_format": result.source_format, "source_file": result.source_file, "updated_at": stamp}
    if stored is None:
        _write(conn, "INSERT INTO roster ({names}) VALUES ({marks})",
               {**entry.values(FIELDS), **provenance, "imported_at": stamp})
        summary.inserted += 1
        return
    new = entry.values(f for f in result.provided if f != "serial")
    changed = tuple(name for name, value in new.items() if stored[name] != value)
    if not changed:
        summary.unchanged += 1
        return
    _write(conn, "UPDATE roster SET {assignments} WHERE serial = ?",
           {**{name: new[name] for name in changed}, **provenance}, entry.serial)
    summary.updated += 1
    summary.changes.append(Change(entry.serial, changed))


def _write(conn: sqlite3.Connection, template: str, values: dict, *key) -> None:
    # Column names come from FIELDS and fixed provenance names, never from the file.
    sql = template.format(names=", ".join(values), marks=", ".join("?" * len(values)),
                          assignments=", ".join(f"{name} = ?" for name in values))
    conn.execute(sql, (*values.values(), *key))


def _existing_rows(conn: sqlite3.Connection, serials: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    columns = ", ".join(FIELDS)
    for start in range(0, len(serials), 500):
        chunk = serials[start:start + 500]
        cursor = conn.execute(f"SELECT {columns} FROM roster WHERE serial IN ({', '.join('?' * len(chunk))})", chunk)
        for row in cursor:
            found[row[0]] = dict(zip(FIELDS, row))
    return found


def _database(conn_or_store) -> sqlite_utils.Database:
    if isinstance(conn_or_store, sqlite_utils.Database):
        return conn_or_store
    if isinstance(conn_or_store, sqlite3.Connection):
        return sqlite_utils.Database(conn_or_store)
    db = getattr(conn_or_store, "db", None)  # farmwatch.collector.store.Store
    if isinstance(db, sqlite_utils.Database):
        return db
    raise TypeError(f"import_roster needs a Store, sqlite_utils.Database or sqlite3.Connection, "
                    f"not {type(conn_or_store).__name__}")


class _transaction:
    """BEGIN IMMEDIATE … COMMIT, or join the caller's transaction when one is open."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.owned = False

    def __enter__(self):
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self.owned = True

    def __exit__(self, kind, value, traceback):
        if self.owned and self.conn.in_transaction:
            self.conn.execute("ROLLBACK" if kind else "COMMIT")
        return False


def _now() -> str:
    from farmwatch.collector.store import now_rfc3339

    return now_rfc3339()
