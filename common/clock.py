"""The current time, the one way both sides read it: aware UTC, and its RFC 3339 text as the
collector stores it (milliseconds, `Z`)."""
from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def now_rfc3339() -> str:
    return utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z")
