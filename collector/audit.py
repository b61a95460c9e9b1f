"""The audit trail of analyst queries: who asked what, when, and how many rows they got back.

Every question put to the collector's data — over the gRPC Query service (who = the analyst
certificate's subject), from the CLI (who = the local OS user), or by an export — leaves one row
in the `audit` table. The row is written *before* the question runs and completed after, so a
query that crashes the process or never finishes is still on record; and if the row cannot be
written, the question is refused rather than answered unaudited.
"""
from __future__ import annotations

import getpass
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from farmwatch.collector.storage.audit import AuditTrail
from farmwatch.collector.storage.types import WriteFailed

VIA_GRPC = "grpc"
VIA_CLI = "cli"
DETAIL_LIMIT = 10_000  # characters of query text kept; a pasted megabyte of SQL is not evidence


class AuditUnavailable(Exception):
    """The audit row could not be written; the question must not be answered."""


def local_user() -> str:
    """Who runs a CLI command: the OS account behind the process, not $USER (which anyone can set)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):  # no pwd on Windows; an account without a passwd entry
        return getpass.getuser()


def describe_filters(**given) -> str:
    """How a listing was narrowed, for the audit record: `verdict=relay user=a@b.c`, or `all`."""
    return " ".join(f"{name}={value}" for name, value in given.items() if value) or "all"


@dataclass
class AuditEntry:
    """One audited question; the caller sets `rows` once it knows how many it returned."""

    id: int
    rows: int = 0

    def count(self, _item=None) -> None:
        """One more row returned (usable as a per-item callback)."""
        self.rows += 1


class AuditLog:
    """Writes audit rows through its own connection (`storage.audit.AuditTrail`), safe to share
    between RPC threads."""

    def __init__(self, database: Path):
        self._trail = AuditTrail(Path(database))

    def close(self) -> None:
        self._trail.close()

    @contextmanager
    def record(self, *, who: str, via: str, action: str, detail: str = "", peer: str = "",
               cert_serial: str = "") -> Iterator[AuditEntry]:
        """Audit the block: a row before it runs, its outcome and row count after.

        Raises AuditUnavailable (and the block does not run) when the row cannot be written.
        An exception from the block is recorded as the outcome and raised again.
        """
        entry = AuditEntry(self._begin(who, via, action, detail, peer, cert_serial))
        started = time.monotonic()
        try:
            yield entry
        except GeneratorExit:  # a streamed answer whose reader went away: it ended, it did not fail
            self._finish(entry, "ok: stream closed", started)
            raise
        except BaseException as exc:
            self._finish(entry, _describe(exc), started)
            raise
        self._finish(entry, "ok", started)

    def refused(self, *, who: str, via: str, action: str, reason: str, peer: str = "",
                cert_serial: str = "") -> None:
        """Record a question that was turned away before it ran (e.g. the wrong certificate role)."""
        entry = AuditEntry(self._begin(who, via, action, "", peer, cert_serial))
        self._finish(entry, f"refused: {reason}", time.monotonic())

    def _begin(self, who, via, action, detail, peer, cert_serial) -> int:
        try:
            return self._trail.begin(who, via, action, detail[:DETAIL_LIMIT], peer, cert_serial)
        except WriteFailed as exc:
            raise AuditUnavailable(f"cannot write the audit record ({exc}); the query was not run") from exc

    def _finish(self, entry: AuditEntry, outcome: str, started: float) -> None:
        self._trail.finish(entry.id, entry.rows, outcome[:DETAIL_LIMIT], round((time.monotonic() - started) * 1000))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"error: {type(exc).__name__}: {text}" if text else f"error: {type(exc).__name__}"


@contextmanager
def local_question(database: Path, action: str, detail: str = "") -> Iterator[AuditEntry]:
    """Audit a CLI command's question as the local OS user."""
    log = AuditLog(database)
    try:
        with log.record(who=local_user(), via=VIA_CLI, action=action, detail=detail) as entry:
            yield entry
    finally:
        log.close()
