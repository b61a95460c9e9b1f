"""The current time, the one way both sides read it: aware UTC, and the RFC 3339 text the
collector stores (UTC, milliseconds, `Z`)."""
from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def rfc3339(moment: dt.datetime) -> str:
    """`moment` (aware, UTC) as stored: 2026-01-31T09:30:00.000Z."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_rfc3339() -> str:
    return rfc3339(utcnow())
