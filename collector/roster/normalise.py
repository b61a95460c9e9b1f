"""Serials, e-mail addresses and dates in the one spelling the roster stores."""
from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Iterable

from farmwatch.common.device_id import canonical_device_id, valid_device_id  # one rule, one spelling


# Values that stand for "no serial": BIOS defaults of white-box and virtual machines, export
# fillers. Taking one as a serial would merge unrelated laptops into one roster row.
_PLACEHOLDER_SERIALS = {
    "0", "NONE", "N/A", "NA", "NULL", "UNKNOWN", "INVALID", "NOT AVAILABLE", "NOT APPLICABLE",
    "NOT SPECIFIED", "DEFAULT STRING", "TO BE FILLED BY O.E.M.", "SYSTEM SERIAL NUMBER",
    "CHASSIS SERIAL NUMBER", "0123456789", "123456789", "SERIAL",
}
_PLACEHOLDER_SERIAL_SHAPE = re.compile(r"^[0\-_.X ]+$")


def normalise_serial(value: str | None) -> str | None:
    """The roster key: the serial's canonical spelling (common/device_id.py), the one enrollment
    certifies; None for blanks, placeholders and impossible ids."""
    serial = (value or "").strip()
    if not valid_device_id(serial):
        return None
    serial = canonical_device_id(serial)
    return None if is_placeholder_serial(serial) else serial


def is_placeholder_serial(serial: str) -> bool:
    return serial in _PLACEHOLDER_SERIALS or bool(_PLACEHOLDER_SERIAL_SHAPE.match(serial or "0"))


def normalise_email(value: str) -> str | None:
    email = value.strip().lower()
    if email.startswith("mailto:"):
        email = email[len("mailto:"):]
    local, at, domain = email.partition("@")
    return email if at and local and "." in domain and " " not in email else None


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


def reads_day_first(values: Iterable[str | None]) -> bool:
    """Whether this file's numeric dates are day-first: some value reads only that way."""
    for value in values:
        match = _NUMERIC_DATE.match((value or "").strip())
        if match and int(match[1]) > 12 >= int(match[2]):
            return True
    return False
