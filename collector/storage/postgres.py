"""The PostgreSQL backend: several collectors sharing one database (docs/scale.md).

The same storage modules (`reports`, `enrollment`, `queries`, ...) run on a psycopg connection
through `postgres_sql.PgConnection`, with the schema `schema` describes (`postgres_schema`).
Connections: one writer, used by one thread at a time as SQLite's is; one reader per thread;
every connection is in autocommit mode and a unit of work opens its own transaction.

What several collectors on one database need, and where it is kept:
- an ingest batch locks (transaction-scoped advisory locks) each report id and device it stores,
  so the same report sent to two collectors at once is stored once and a device's reports are
  ordered one batch after the other;
- an ingest batch runs in pipeline mode: its writes are sent without waiting for each result, so
  a report costs a round trip only where a result is read (the duplicate read, the device's state
  with its fleet findings, a location's new day, a changed inventory table's rows); a
  failed write raises at the next read or at the batch's end, and the batch rolls back;
- enrollment takes one cluster-wide advisory lock for its transaction: a token is checked and
  used once across every collector (SQLite's BEGIN IMMEDIATE does the same on one host);
- revocation and replay state are read from the database on every call (no cache to go stale);
- `claim_job` lets one collector of the cluster run a periodic job per interval.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from farmwatch.collector.storage import enrollment, feeds, jobs, reports, schema
from farmwatch.collector.storage.common import StorageMethods
from farmwatch.collector.storage.correlation import FleetReads
from farmwatch.collector.storage.postgres_analyst import ROLE as ANALYST
from farmwatch.collector.storage.postgres_schema import (JULIANDAY, PgDatabase, schema_version,
                                                         set_schema_version)
from farmwatch.collector.storage.postgres_sql import PgConnection
from farmwatch.collector.storage.types import ExportBusy, StoreFull, Unavailable

log = logging.getLogger("farmwatch.collector.storage")

ANALYST_ROLE = (
    f"DO $$ BEGIN CREATE ROLE {ANALYST} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    f"GRANT {ANALYST} TO CURRENT_USER",
    f"GRANT USAGE ON SCHEMA public TO {ANALYST}",
    f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ANALYST}",
)
# Advisory lock keys (one namespace per purpose; the second key is a hash of what is locked).
_MIGRATE, _ENROLL, _REPORT, _DEVICE, _EXPORT = 7001, 7002, 7003, 7004, 7005


def connect(url: str) -> PgConnection:
    """An autocommit connection; Unavailable (naming the host, never the password) when the server
    cannot be reached."""
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, application_name="farmwatch-collector")
    except psycopg.OperationalError as exc:
        raise Unavailable(f"PostgreSQL at {redact(url)} cannot be reached: {_first_line(exc)}") from None
    return PgConnection(conn)


def errors() -> tuple[type[Exception], ...]:
    """The exceptions a failed statement raises (psycopg is imported only for PostgreSQL)."""
    import psycopg

    return (psycopg.Error,)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(url)
    except Exception:  # not parseable: say nothing of it
        return "postgresql://(unreadable URL)"
    params.pop("password", None)
    user, host, port, db = (params.get(k) for k in ("user", "host", "port", "dbname"))
    where = f"{host or 'localhost'}{':' + port if port else ''}"
    return f"postgresql://{user + '@' if user else ''}{where}/{db or ''}" if "://" in url else make_conninfo(**params)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class PostgresStorage(StorageMethods):
    engine = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self.path = url  # what `open_storage` was given, as SqliteStorage's path
        self.conn = connect(url)
        self.db = PgDatabase(self.conn)
        self._write_lock = threading.RLock()
        self._readers = threading.local()
        self._all_readers: list[PgConnection] = []
        self._migrate()

    def __str__(self) -> str:
        return redact(self.url)

    def close(self) -> None:
        for conn in [self.conn, *self._all_readers]:
            conn.close()

    def _migrate(self) -> None:
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(?, 0)", (_MIGRATE,))  # two collectors starting at once
            version = schema_version(conn)
            if version >= schema.SCHEMA_VERSION:
                return
            conn.execute(JULIANDAY)
            schema.create_schema(self.db)
            if version:
                schema.add_new_columns(self.db)
            schema.create_audit_schema(self.db)
            schema.create_export_cursor_schema(self.db)
            jobs.create_schema(self.db)  # several collectors share the periodic jobs
            set_schema_version(conn, schema.SCHEMA_VERSION)
        self._grant_analyst_role()

    def _grant_analyst_role(self) -> None:
        """The role analyst SQL runs as: SELECT on these tables only (postgres_analyst). Made when this
        database user may; otherwise analyst queries say how to make it (docs/scale.md)."""
        import psycopg

        for statement in ANALYST_ROLE:
            try:
                self.conn.execute(statement)
            except psycopg.errors.InsufficientPrivilege as exc:
                log.warning("event=analyst_role_missing reason=%r", _first_line(exc))
                return

    # -- this backend's own ---------------------------------------------------------------
    @contextmanager
    def transaction(self, *lock_keys: int):
        """One transaction on the writer connection (one thread at a time), holding the cluster-wide
        advisory locks `lock_keys` until it ends."""
        with self._write_lock:
            if self.conn.raw.closed or self.conn.raw.broken:  # the server went away and came back: start afresh
                self.conn = self.db.conn = connect(self.url)
            yield from _in_transaction(self.conn, lock_keys)

    def reader(self) -> PgConnection:
        conn = getattr(self._readers, "conn", None)
        if conn is None or conn.raw.closed or conn.raw.broken:
            conn = self._readers.conn = connect(self.url)
            self._all_readers.append(conn)
        return conn

    # -- reports --------------------------------------------------------------------------
    @contextmanager
    def batch(self):
        import psycopg

        try:
            with self.transaction() as conn, conn.pipeline():
                yield _LockingBatch(conn)
        except psycopg.errors.DiskFull as exc:
            raise StoreFull(_first_line(exc)) from exc
        except psycopg.OperationalError as exc:
            raise Unavailable(_first_line(exc)) from exc

    # -- enrollment -----------------------------------------------------------------------
    @contextmanager
    def enrollment_records(self):
        with self.transaction(_ENROLL) as conn:
            yield enrollment.EnrollmentRecords(conn)

    # -- what differs from the other engine (the rest: common.StorageMethods) ---------------
    def export_cursor(self, sink: str) -> dict[str, dict]:
        return feeds.load_cursor(self.reader(), sink)

    @contextmanager
    def export_lease(self, sink: str):
        """Hold `sink`'s lease while its run lasts: a session advisory lock on a connection of its own,
        across every collector host (released by the server if the run dies); ExportBusy when another
        run holds it. Unlocked before the connection closes: the server ends a closed session in its own
        time, and until then the next run would find the lock still held."""
        conn = connect(self.url)
        try:
            [(taken,)] = conn.execute("SELECT pg_try_advisory_lock(?, hashtext(?))", (_EXPORT, sink)).fetchall()
            if not taken:
                raise ExportBusy(f"another export of {sink} is running on a collector host sharing this database")
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(?, hashtext(?))", (_EXPORT, sink))
        finally:
            conn.close()

    # -- fleet correlation ----------------------------------------------------------------
    @contextmanager
    def fleet_snapshot(self):
        """One consistent read (REPEATABLE READ) on a connection of its own."""
        conn = connect(self.url)
        try:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield FleetReads(conn)
        finally:
            conn.close()

    def claim_job(self, job: str, every_seconds: float, owner: str) -> bool:
        with self.transaction() as conn:
            return jobs.claim(conn, job, every_seconds, owner)


def _in_transaction(conn: PgConnection, lock_keys):
    conn.execute("BEGIN")
    try:
        for key in lock_keys:
            conn.execute("SELECT pg_advisory_xact_lock(?, 0)", (key,))
        yield conn
    except BaseException:
        if not (conn.raw.closed or conn.raw.broken):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class _LockingBatch(reports.ReportBatch):
    """A batch that locks each report id and device across the cluster before reading it (see
    the module docstring); the locks end with the batch's transaction.

    The device's fleet findings are asked for with its state, in the same wait: ingest reads them
    next for a report that moves the device, and this batch writes no fleet findings meanwhile."""

    def __init__(self, conn):
        super().__init__(conn)
        self._findings = None  # (device_id, its fleet findings' cursor) sent with the device's state

    def is_stored(self, report_id: str) -> bool:
        self.conn.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", (_REPORT, report_id))
        return super().is_stored(report_id)

    def device_state(self, device_id: str):
        self.conn.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", (_DEVICE, device_id))
        self._findings = device_id, self.conn.execute(reports.FLEET_FINDINGS, (device_id,))
        return super().device_state(device_id)

    def fleet_findings(self, device_id: str) -> list[dict]:
        sent, self._findings = self._findings, None
        if sent is not None and sent[0] == device_id:
            return reports.fleet_findings_of(sent[1])
        return super().fleet_findings(device_id)
