"""What a roster export reads into: its entries, the problems found on the way, the error for an unusable file."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


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
