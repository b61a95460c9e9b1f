"""The words verdicts and findings are given in, mildest first; one list for every module that
checks, orders, weighs or prints them.

Members are `str`s (`Verdict.RELAY == "relay"`, `json.dumps` writes `"relay"`), so a value read
back from the database or a report compares equal to them. What leaves the code (database rows,
JSON, a report) is the plain string, `.value`: sqlite-utils picks a column's type by
`type(value)` and knows no enum, and `repr` of a member is not its text. The tuples hold the plain
strings, for `argparse` choices and the error messages that list them.
"""
from __future__ import annotations

import enum


class Verdict(enum.StrEnum):
    """What the collector concludes about a device."""

    CLEAN = "clean"
    SUSPICIOUS = "suspicious"
    RELAY = "relay"


class Severity(enum.StrEnum):
    """How much one finding weighs."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


VERDICTS: tuple[str, ...] = tuple(verdict.value for verdict in Verdict)
SEVERITIES: tuple[str, ...] = tuple(severity.value for severity in Severity)


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


class TriageState(enum.StrEnum):
    """Where the security team stands on a flagged device (`farmwatch-analyst triage`, the console)."""

    NEW = "new"
    INVESTIGATING = "investigating"
    CONFIRMED_FARM = "confirmed-farm"
    FALSE_POSITIVE = "false-positive"
    RESOLVED = "resolved"


TRIAGE_STATES: tuple[str, ...] = tuple(state.value for state in TriageState)
