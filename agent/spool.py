"""The outbox: every report is written here before it is sent and deleted only once the collector
acknowledged it, so nothing is lost while the collector is down (at-least-once delivery; the
collector is idempotent on `report_id`).

SQLite in WAL mode with synchronous=FULL, one transaction per operation: a kill or power cut at
any moment leaves either the state before or the state after an operation, never half of one,
and an acknowledged report never comes back. The same database keeps the per-agent `sequence`
counter, so numbering survives restarts, and the time of the last delivery.

The outbox is bounded by count, age and bytes; when over a bound the oldest reports go first.
Every dropped report is counted and the count travels to the collector exactly once: `put`
stamps the next report with the drops nobody has been told about yet (`agent_stats.spool_dropped`)
and, should that report itself be dropped later, its count returns to the untold pile.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from farmwatch.v1 import report_pb2

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    sequence INTEGER PRIMARY KEY,
    report_id TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    size INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    carried_dropped INTEGER NOT NULL DEFAULT 0,  -- the spool_dropped this report tells
    body BLOB NOT NULL                           -- zlib(serialized AgentReport)
);
CREATE TABLE IF NOT EXISTS agent_state (name TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS delta_base (            -- the last report the collector acknowledged
    id INTEGER PRIMARY KEY CHECK (id = 1),
    report_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    deltas_accepted INTEGER NOT NULL,            -- the collector said it takes delta reports
    body BLOB NOT NULL                           -- zlib(serialized full AgentReport)
);
"""


@dataclass(frozen=True)
class SpoolLimits:
    max_reports: int = 2000
    max_age_seconds: float = 14 * 86400
    max_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class SpooledReport:
    sequence: int
    report_id: str
    created_at: float
    attempts: int
    report: report_pb2.AgentReport


@dataclass(frozen=True)
class DeltaBase:
    report: report_pb2.AgentReport  # full, as spooled
    deltas_accepted: bool           # the collector's last ack said it takes delta reports


@dataclass(frozen=True)
class SpoolStats:
    depth: int
    bytes: int
    oldest_created_at: float | None
    next_sequence: int
    dropped_since_last_delivery: int
    dropped_total: int
    last_delivery_at: float | None
    last_error: str | None
    last_error_at: float | None


class Spool:
    def __init__(self, path: Path | str, limits: SpoolLimits = SpoolLimits(),
                 clock: Callable[[], float] = time.time, *, read_only: bool = False):
        """`read_only` (for `status`): open an existing outbox without creating, repairing or
        moving anything; sqlite3.Error if it cannot be read."""
        self.path = Path(path)
        self.limits = limits
        self._clock = clock
        self._db = _open_read_only(self.path) if read_only else _open_database(self.path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------

    def put(self, report: report_pb2.AgentReport) -> SpooledReport:
        """Store `report`, first giving it the next sequence and the outbox's own statistics."""
        now = self._clock()
        with self._transaction() as db:
            sequence = _get(db, "next_sequence", 1)
            untold = _get(db, "untold_dropped", 0)
            report.sequence = sequence
            report.agent_stats.spool_depth = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
            report.agent_stats.spool_dropped = untold
            body = zlib.compress(report.SerializeToString())
            db.execute(
                "INSERT INTO outbox (sequence, report_id, created_at, size, carried_dropped, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (sequence, report.report_id, now, len(body), untold, body),
            )
            _set(db, "next_sequence", sequence + 1)
            _set(db, "untold_dropped", 0)
            self._enforce_limits(db, now, keep=sequence)
        return SpooledReport(sequence, report.report_id, now, 0, report)

    def ack(self, report_id: str, base: DeltaBase | None = None) -> bool:
        """The collector has the report: forget it, and make `base` (that report, in full) what the
        next delta reports are made against, in the same transaction. False if it was not (or no
        longer) spooled."""
        with self._transaction() as db:
            deleted = db.execute("DELETE FROM outbox WHERE report_id = ?", (report_id,)).rowcount
            _set(db, "last_delivery_at", self._clock())
            _set(db, "last_error", None)
            if base is not None:
                db.execute(
                    "INSERT INTO delta_base (id, report_id, sequence, deltas_accepted, body) VALUES (1, ?, ?, ?, ?)"
                    " ON CONFLICT(id) DO UPDATE SET report_id = excluded.report_id, sequence = excluded.sequence,"
                    " deltas_accepted = excluded.deltas_accepted, body = excluded.body",
                    (base.report.report_id, base.report.sequence, int(base.deltas_accepted),
                     zlib.compress(base.report.SerializeToString())))
        return bool(deleted)

    def delta_base(self) -> DeltaBase | None:
        """The last report the collector acknowledged, in full (None: none yet, e.g. an outbox
        made by an agent older than delta reports)."""
        row = self._db.execute("SELECT deltas_accepted, body FROM delta_base WHERE id = 1").fetchone()
        return DeltaBase(_decode(row[1]), bool(row[0])) if row else None

    def discard(self, report_id: str, reason: str) -> bool:
        """Give up on a report the collector will never take; it counts as dropped."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT sequence, carried_dropped FROM outbox WHERE report_id = ?", (report_id,)
            ).fetchone()
            if row is None:
                return False
            _drop(db, [row])
            _set(db, "last_error", reason)
            _set(db, "last_error_at", self._clock())
        log.warning("discarded a report the collector refuses report_id=%s reason=%r", report_id, reason)
        return True

    def record_failure(self, message: str, report_id: str | None = None) -> int:
        """Note a failed delivery; returns how often this report has now failed (0 without one)."""
        with self._transaction() as db:
            _set(db, "last_error", message)
            _set(db, "last_error_at", self._clock())
            if report_id is None:
                return 0
            db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE report_id = ?", (report_id,))
            row = db.execute("SELECT attempts FROM outbox WHERE report_id = ?", (report_id,)).fetchone()
        return row[0] if row else 0

    # -- reading -------------------------------------------------------------------------------

    def pending(self, limit: int = 100) -> list[SpooledReport]:
        """Reports not yet acknowledged, oldest first."""
        rows = self._db.execute(
            "SELECT sequence, report_id, created_at, attempts, body FROM outbox"
            " ORDER BY sequence LIMIT ?",
            (limit,),
        ).fetchall()
        return [SpooledReport(seq, rid, created, attempts, _decode(body))
                for seq, rid, created, attempts, body in rows]

    def depth(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def dropped_since_last_delivery(self) -> int:
        """Drops the collector has not been told about: untold ones plus those riding in the outbox."""
        riding = self._db.execute("SELECT COALESCE(SUM(carried_dropped), 0) FROM outbox").fetchone()[0]
        return _get(self._db, "untold_dropped", 0) + riding

    def last_delivery_at(self) -> float | None:
        return _get(self._db, "last_delivery_at", None)

    def stats(self) -> SpoolStats:
        depth, size, oldest = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0), MIN(created_at) FROM outbox"
        ).fetchone()
        return SpoolStats(
            depth=depth,
            bytes=size,
            oldest_created_at=oldest,
            next_sequence=_get(self._db, "next_sequence", 1),
            dropped_since_last_delivery=self.dropped_since_last_delivery(),
            dropped_total=_get(self._db, "dropped_total", 0),
            last_delivery_at=self.last_delivery_at(),
            last_error=_get(self._db, "last_error", None),
            last_error_at=_get(self._db, "last_error_at", None),
        )

    # -- internals -----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _enforce_limits(self, db: sqlite3.Connection, now: float, keep: int) -> None:
        """Drop the oldest reports until every bound holds again; the newest is always kept."""
        rows = db.execute(
            "SELECT sequence, carried_dropped, created_at, size FROM outbox ORDER BY sequence"
        ).fetchall()
        count, total = len(rows), sum(row[3] for row in rows)
        oldest_allowed = now - self.limits.max_age_seconds
        victims = []
        for sequence, carried, created_at, size in rows:
            over = count > self.limits.max_reports or total > self.limits.max_bytes
            if sequence == keep or not (over or created_at < oldest_allowed):
                continue
            victims.append((sequence, carried))
            count, total = count - 1, total - size
        if victims:
            _drop(db, victims)
            log.warning("outbox over its bounds; dropped the oldest reports count=%d", len(victims))


def _drop(db: sqlite3.Connection, rows: list[tuple[int, int]]) -> None:
    """Delete (sequence, carried_dropped) rows; their own drop and what they carried become untold."""
    db.executemany("DELETE FROM outbox WHERE sequence = ?", [(seq,) for seq, _ in rows])
    untold = len(rows) + sum(carried for _, carried in rows)
    _set(db, "untold_dropped", _get(db, "untold_dropped", 0) + untold)
    _set(db, "dropped_total", _get(db, "dropped_total", 0) + len(rows))


def _get(db: sqlite3.Connection, name: str, default):
    row = db.execute("SELECT value FROM agent_state WHERE name = ?", (name,)).fetchone()
    return default if row is None or row[0] is None else row[0]


def _set(db: sqlite3.Connection, name: str, value) -> None:
    db.execute(
        "INSERT INTO agent_state (name, value) VALUES (?, ?)"
        " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def _decode(body: bytes) -> report_pb2.AgentReport:
    report = report_pb2.AgentReport()
    report.ParseFromString(zlib.decompress(body))
    return report


# SQLite's answers that mean the file itself is damaged or no database. Anything else (disk full,
# I/O error, read-only file system, locked, cannot open) says nothing about the reports inside:
# moving the outbox aside then would lose every spooled report to a full disk.
_CORRUPT = {getattr(sqlite3, "SQLITE_CORRUPT", 11), getattr(sqlite3, "SQLITE_NOTADB", 26)}


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _CORRUPT
    return not isinstance(exc, sqlite3.OperationalError)


def _open_database(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the outbox; a file SQLite cannot read is moved aside, not fatal.
    Any other failure (disk full, read-only, I/O error) is raised and the outbox left as it is."""
    try:
        return _connect(path)
    except sqlite3.DatabaseError as exc:
        if not _is_corrupt(exc):
            raise
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        log.error("outbox unreadable; moved aside, starting empty path=%s moved_to=%s error=%r",
                  path, aside, str(exc))
        for suffix in ("", "-wal", "-shm"):
            source = path.with_name(path.name + suffix)
            if source.exists():
                source.rename(aside.with_name(aside.name + suffix))
        db = _connect(path)
        # The lost count is unknown; restarting at 1 would make the collector mark every report of
        # this certificate a replay. The clock in seconds is above any count reached at one report
        # a minute or slower, and the outbox moved aside says why the numbers jumped.
        _set(db, "next_sequence", int(time.time()))
        return db


def _open_read_only(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None, timeout=5)
    try:
        db.execute("SELECT COUNT(*) FROM outbox").fetchone()
    except sqlite3.Error:
        db.close()
        raise
    return db


def _connect(path: Path) -> sqlite3.Connection:
    _create_owner_only(path)
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed ack survives a power cut, not only a killed process.
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _create_owner_only(path: Path) -> None:
    """Make the database file 0600 before SQLite opens it (its -wal and -shm files copy the mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
