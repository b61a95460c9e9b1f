"""The SQLite backend: one file, WAL, one writer connection shared by one thread at a time.

Writes go through one connection owned by one thread at a time (the ingest writer, enrollment in
RPC threads, a CLI command); readers open their own connections, which WAL lets run beside the
writer. Every write transaction waits for its turn first (`write_turns`), first come first served
across the threads and processes writing the file: `serve --workers N`'s processes, CLI commands.
`transaction`, `reader`, `rows`, `conn` and `db` are this backend's own, for the roster import and
for tests that look at the file; the rest of the collector uses the `Storage` methods.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from farmwatch.collector.storage import enrollment, feeds, reports, schema
from farmwatch.collector.storage.common import StorageMethods
from farmwatch.collector.storage.correlation import FleetReads
from farmwatch.collector.storage.types import ExportBusy, StoreFull
from farmwatch.collector.storage.write_turns import WriteTurns


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # durable before the ack: a commit survives power loss
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


@contextmanager
def write_transaction(conn: sqlite3.Connection, turns: WriteTurns, lock: threading.Lock):
    """BEGIN IMMEDIATE … COMMIT on `conn` (shared by the threads that hold `lock`), in its turn
    (`write_turns`); rolled back on an exception. Immediate: a transaction that read before it
    writes would fail at its first write, without waiting, once another connection has committed."""
    with turns.turn(), lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # SQLite has already rolled back after e.g. SQLITE_FULL
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


class SqliteStorage(StorageMethods):
    engine = "sqlite"

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        self.conn = connect(self.path)
        if new:
            self.path.chmod(0o600)
        self.db = sqlite_utils.Database(self.conn)
        self._write_lock = threading.Lock()
        self.turns = WriteTurns(self.path)
        schema.migrate(self.conn, self.db, self.transaction)
        self._readers = threading.local()

    def close(self) -> None:
        self.conn.close()

    # -- this backend's own ---------------------------------------------------------------
    @contextmanager
    def transaction(self):
        """One write transaction on the writer connection. The ingest writer, enrollment in RPC
        threads and jobs share that connection: one thread at a time holds it."""
        with write_transaction(self.conn, self.turns, self._write_lock):
            yield self.conn

    @contextmanager
    def export_lease(self, sink: str):
        """Hold `sink`'s lease while its run lasts: a kernel lock on a file beside the database (released
        by the kernel if the run dies); ExportBusy when another run holds it."""
        name = hashlib.sha256(sink.encode()).hexdigest()[:16]
        fd = os.open(f"{self.path}-export-{name}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ExportBusy(f"another export of {sink} is running on this host") from None
            yield
        finally:
            os.close(fd)

    def reader(self) -> sqlite3.Connection:
        """A connection for the calling thread, for lookups beside the writer."""
        conn = getattr(self._readers, "conn", None)
        if conn is None:
            conn = self._readers.conn = connect(self.path)
        return conn

    # -- reports --------------------------------------------------------------------------
    @contextmanager
    def batch(self):
        """One ingest batch, one transaction (`reports.ReportBatch`). Raises StoreFull (and stores
        nothing) when the database cannot grow."""
        try:
            with self.transaction() as conn:
                yield reports.ReportBatch(conn)
        except sqlite3.OperationalError as exc:
            if "full" in str(exc):
                raise StoreFull(str(exc)) from exc
            raise

    # -- enrollment -----------------------------------------------------------------------
    @contextmanager
    def enrollment_records(self):
        with self.transaction() as conn:
            yield enrollment.EnrollmentRecords(conn)

    # -- what differs from the other engine (the rest: common.StorageMethods) ---------------
    def export_cursor(self, sink: str) -> dict[str, dict]:
        with self.transaction():  # also for a database made before this table
            schema.create_export_cursor_schema(self.db)
        return feeds.load_cursor(self.reader(), sink)

    # -- fleet correlation ----------------------------------------------------------------
    @contextmanager
    def fleet_snapshot(self):
        """One consistent read of the database (a deferred transaction: WAL readers do not block
        writers), without the write lock ingest needs."""
        self.conn.execute("BEGIN")
        try:
            yield FleetReads(self.conn)
        finally:
            self.conn.execute("COMMIT")

    def claim_job(self, job: str, every_seconds: float, owner: str) -> bool:
        """Always: one collector serves a SQLite file, and runs its jobs on its own timer."""
        return True
