"""The audit trail of analyst queries: who asked what, when, and how many rows they got back.

Every question put to the collector's data — over the gRPC Query service (who = the analyst
certificate's subject), from the CLI (who = the local OS user), or by an export — leaves one row
in the `audit` table. The row is written *before* the question runs and completed after, so a
query that crashes the process or never finishes is still on record; and if the row cannot be
written, the question is refused rather than answered unaudited.

The question is kept whole (`detail`), with its SHA-256 and size: never a prefix, which a long
comment in front of a statement would fill. Only a question too long for anything to run it
(more than `MAX_DETAIL_BYTES`, refused unrun) is kept as its hash and size alone, so a caller
cannot fill the disk through the audit. Outcomes are words (`ok`, `refused: …`, `error: …`),
never the name of a class inside the collector.
"""
from __future__ import annotations

import getpass
import hashlib
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from farmwatch.collector.storage.analyst_sql import MAX_STATEMENT_BYTES
from farmwatch.collector.storage.audit import AuditTrail
from farmwatch.collector.storage.types import WriteFailed

VIA_GRPC = "grpc"
VIA_CLI = "cli"
MAX_DETAIL_BYTES = MAX_STATEMENT_BYTES  # every statement that may run is kept whole
OUTCOME_LIMIT = 10_000  # characters of an outcome (an error message) kept
# What went wrong, in words, for exceptions that are not the collector's own (those say it themselves).
_FAULTS = ((sqlite3.Error, "database error"), (MemoryError, "out of memory"), (OSError, "system error"),
           (KeyboardInterrupt, "interrupted"))


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

    def __init__(self, database: Path | str):
        self._trail = AuditTrail(database)

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
            self._finish(entry, describe(exc), started)
            raise
        self._finish(entry, "ok", started)

    def refused(self, *, who: str, via: str, action: str, reason: str, detail: str = "", peer: str = "",
                cert_serial: str = "") -> None:
        """Record a question that was turned away before it ran (e.g. the wrong certificate role)."""
        entry = AuditEntry(self._begin(who, via, action, detail, peer, cert_serial))
        self._finish(entry, f"refused: {reason}", time.monotonic())

    def _begin(self, who, via, action, detail, peer, cert_serial) -> int:
        data = detail.encode("utf-8", "surrogateescape")  # a CLI argument may hold bytes that are not UTF-8
        try:
            return self._trail.begin(who=who, via=via, action=action, peer=peer, cert_serial=cert_serial,
                                     detail=data.decode("utf-8", "replace") if len(data) <= MAX_DETAIL_BYTES else "",
                                     detail_sha256=hashlib.sha256(data).hexdigest(), detail_bytes=len(data))
        except WriteFailed as exc:
            raise AuditUnavailable(f"cannot write the audit record ({exc}); the query was not run") from exc

    def _finish(self, entry: AuditEntry, outcome: str, started: float) -> None:
        self._trail.finish(entry.id, entry.rows, outcome[:OUTCOME_LIMIT], round((time.monotonic() - started) * 1000))


def describe(exc: BaseException) -> str:
    """An exception as an audit outcome. The collector's own exceptions carry a message for people;
    anything else (a fault) is named by its kind in words, not by its Python class."""
    text = str(exc)
    if type(exc).__module__.startswith("farmwatch."):
        return f"error: {text}" if text else "error"
    kind = next((words for kinds, words in _FAULTS if isinstance(exc, kinds)), "internal error")
    return f"error: {kind}: {text}" if text else f"error: {kind}"


@contextmanager
def local_question(database: Path, action: str, detail: str = "") -> Iterator[AuditEntry]:
    """Audit a CLI command's question as the local OS user."""
    log = AuditLog(database)
    try:
        with log.record(who=local_user(), via=VIA_CLI, action=action, detail=detail) as entry:
            yield entry
    finally:
        log.close()
