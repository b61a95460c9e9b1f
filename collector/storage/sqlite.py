"""The SQLite backend: one file, WAL, one writer connection shared by one thread at a time.

Writes go through one connection owned by one thread at a time (the ingest writer, enrollment in
RPC threads, a CLI command); readers open their own connections, which WAL lets run beside the
writer. `transaction`, `reader`, `rows`, `conn` and `db` are this backend's own, for the roster
import and for tests that look at the file; the rest of the collector uses the `Storage` methods.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from farmwatch.collector.storage import analyst_sql, enrollment, feeds, queries, reports, schema
from farmwatch.collector.storage.correlation import FleetReads, FleetWrites
from farmwatch.collector.storage.types import StoreFull


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # durable before the ack: a commit survives power loss
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


class SqliteStorage:
    engine = "sqlite"

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        self.conn = connect(self.path)
        if new:
            self.path.chmod(0o600)
        self.db = sqlite_utils.Database(self.conn)
        self._write_lock = threading.RLock()
        schema.migrate(self.conn, self.db, self.transaction)
        self._readers = threading.local()

    def close(self) -> None:
        self.conn.close()

    # -- this backend's own ---------------------------------------------------------------
    @contextmanager
    def transaction(self):
        """One write transaction on the writer connection. The ingest writer, enrollment in RPC
        threads and CLI commands share that connection, so one thread at a time holds it."""
        with self._write_lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:  # SQLite has already rolled back after e.g. SQLITE_FULL
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def reader(self) -> sqlite3.Connection:
        """A connection for the calling thread, for lookups beside the writer."""
        conn = getattr(self._readers, "conn", None)
        if conn is None:
            conn = self._readers.conn = connect(self.path)
        return conn

    def rows(self, sql: str, params=()) -> list[dict]:
        cursor = self.reader().execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values)) for values in cursor]

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

    def prune_raw(self, older_than_days: int) -> int:
        """Drop raw reports older than the retention; each device's latest raw report stays.

        Device state, inventory, findings and the reports' own rows are kept. Returns how many
        raw reports were dropped.
        """
        if older_than_days <= 0:
            return 0
        with self.transaction() as conn:
            return reports.prune_raw(conn, older_than_days)

    def stored_reports(self, batch: int = 500):
        """(report_id, device_id, report) for every stored report, oldest first."""
        return reports.stored_reports(self.reader, batch)

    def envelope(self, report_id: str) -> dict | None:
        return reports.envelope(self.reader(), report_id)

    def count(self, table: str) -> int:
        return self.reader().execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    # -- enrollment -----------------------------------------------------------------------
    @contextmanager
    def enrollment_records(self):
        with self.transaction() as conn:
            yield enrollment.EnrollmentRecords(conn)

    def certificate_status(self, serial: str) -> tuple[str, str, str] | None:
        return enrollment.certificate_status(self.reader(), serial)

    def tokens(self) -> list[dict]:
        return enrollment.tokens(self.reader())

    # -- questions ------------------------------------------------------------------------
    def devices(self, verdict=None, cluster=None, user=None) -> list[dict]:
        return queries.devices(self.reader(), verdict, cluster, user)

    def flags(self) -> list[dict]:
        return queries.flags(self.reader())

    def device(self, device_id: str, history: int = 20) -> dict | None:
        return queries.device(self.reader(), device_id, history)

    def fleet_findings(self, device_id: str | None = None) -> list[dict]:
        return queries.fleet_findings(self.reader(), device_id)

    def clusters(self, include_inactive: bool = False, min_score: int = 0) -> list[dict]:
        return queries.clusters(self.reader(), include_inactive, min_score)

    def cluster(self, cluster_id: str, history: int = 100) -> dict | None:
        return queries.cluster(self.reader(), cluster_id, history)

    def verdict_counts(self) -> dict[str, int]:
        return queries.verdict_counts(self.reader())

    def department_of(self, serial: str) -> str | None:
        return queries.department_of(self.reader(), serial)

    def analyst_query(self, query: str, **limits) -> analyst_sql.SqlResult:
        """One read-only analyst statement, bounded (see `analyst_sql.run` for `limits`)."""
        return analyst_sql.run(self.path, query, **limits)

    # -- export cursors -------------------------------------------------------------------
    def export_cursor(self, sink: str) -> dict[str, dict]:
        schema.create_export_cursor_schema(self.db)  # also for a database made before this table
        return feeds.load_cursor(self.reader(), sink)

    def mark_exported(self, sink: str, key: str, state: str, flag: dict) -> None:
        with self.transaction() as conn:
            feeds.mark_sent(conn, sink, key, state, flag)

    def forget_exported(self, sink: str, key: str | None = None) -> None:
        with self.transaction() as conn:
            feeds.forget(conn, sink, key)

    def device_verdicts(self, device_ids: list[str]) -> dict[str, dict]:
        return feeds.device_verdicts(self.reader(), device_ids)

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

    @contextmanager
    def fleet_writes(self):
        with self.transaction() as conn:
            yield FleetWrites(conn)

    def claim_job(self, job: str, every_seconds: float, owner: str) -> bool:
        """Always: one collector serves a SQLite file, and runs its jobs on its own timer."""
        return True
