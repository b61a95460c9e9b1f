"""Which header of each export format holds which roster field, and reading a row's cells by them.

The formats and the columns each is read from are described in the package docstring
(`farmwatch.collector.roster`)."""
from __future__ import annotations

import ast
import difflib
import json
import re
from typing import Iterable

from farmwatch.collector.roster.entries import RosterError
from farmwatch.collector.storage.roster import FIELDS

FORMATS = ("jamf", "intune", "kandji", "csv")

IDENTITY_FIELDS = ("user_name", "email")

# Ship-to columns an admin adds to any export (see the package docstring), and the explicit
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
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
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

# Empty-looking cells. "NA" means "not available" far more often than Namibia in these exports.
_BLANKS = {"", "-", "--", "?", "n/a", "na", "none", "null", "unknown", "not available"}


def ignored_columns(header: list[str], mapping: dict[str, list[int]]) -> list[str]:
    used = {index for indices in mapping.values() for index in indices}
    return [cell.strip() for index, cell in enumerate(header) if index not in used and cell.strip()]


def _header_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().casefold())


def map_columns(name: str, header: list[str], fmt: str) -> dict[str, list[int]]:
    """Which columns hold each field. RosterError when the file lacks a required column, or has one
    whose name is a near miss of a column this format reads ("usr" for "user"): reading on would
    leave that field empty for every row without a word."""
    mapping = _match(header, COLUMNS[fmt])
    misspelt = [f'"{column}" (did you mean "{meant}"?)' for column, meant in _near_misses(header, mapping, fmt)]
    if misspelt:
        raise RosterError(f"{name}: column {', '.join(misspelt)} is not one format {fmt} reads; rename it "
                          f"(or remove it) and import again")
    if not mapping["serial"]:
        raise RosterError(f"{name}: no serial number column; expected one of "
                          f"{_quoted(COLUMNS[fmt]['serial'])}{_hint(header, fmt)}")
    if fmt != "csv" and not any(mapping[f] for f in IDENTITY_FIELDS):
        wanted = [h for f in IDENTITY_FIELDS for h in COLUMNS[fmt][f]]
        raise RosterError(f"{name}: no user column (who has the laptop); expected one of "
                          f"{_quoted(wanted)}{_hint(header, fmt)}")
    return mapping


def _near_misses(header: list[str], mapping: dict[str, list[int]], fmt: str) -> list[tuple[str, str]]:
    """(unread column, the header it resembles) for fields the file has no column for."""
    wanted = {_header_key(h): h for f, headers in COLUMNS[fmt].items() if not mapping[f] for h in headers}
    misses = []
    for column in ignored_columns(header, mapping):
        close = difflib.get_close_matches(_header_key(column), wanted, n=1, cutoff=0.8)
        if close:
            misses.append((column, wanted[close[0]]))
    return misses


def header_warnings(header: list[str], mapping: dict[str, list[int]], fmt: str) -> list[str]:
    """What the header of a plain (`csv`) roster says that its maker may not know. MDM exports carry
    dozens of columns farmwatch has no use for, so only the plain format, written for farmwatch,
    is told about unread columns."""
    if fmt != "csv":
        return []
    warnings = []
    unread = ignored_columns(header, mapping)
    if unread:
        warnings.append(f"column(s) {_quoted(unread)} not read; the plain format reads "
                        f"{', '.join(h for headers in COLUMNS['csv'].values() for h in headers)}")
    if not any(mapping[f] for f in IDENTITY_FIELDS):
        warnings.append("no user or email column: this file does not say who has each laptop "
                        "(names already imported are kept)")
    return warnings


def _match(header: list[str], candidates: dict[str, tuple[str, ...]]) -> dict[str, list[int]]:
    index_of: dict[str, int] = {}
    for index, cell in enumerate(header):
        index_of.setdefault(_header_key(cell), index)
    return {f: [index_of[_header_key(h)] for h in candidates[f] if _header_key(h) in index_of] for f in FIELDS}


def _hint(header: list[str], fmt: str) -> str:
    fits = [other for other in FORMATS if other != fmt and _fits(header, other)]
    return f" (the columns look like format {_quoted(fits)})" if fits else ""


def _fits(header: list[str], fmt: str) -> bool:
    mapping = _match(header, COLUMNS[fmt])
    return bool(mapping["serial"]) and any(mapping[f] for f in IDENTITY_FIELDS)


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def raw_values(cells: list[str], mapping: dict[str, list[int]]) -> dict[str, str]:
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
