"""The `audit` table's writes: one row before an analyst's question runs, completed after.

`AuditTrail` has its own connection, safe to share between RPC threads, so an audit row never
waits for the ingest writer's batch. On SQLite it still takes its turn at writing (`write_turns`),
so a busy ingest cannot starve it; on PostgreSQL the table is made with the rest of the schema.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import nullcontext
from pathlib import Path

import sqlite_utils

from farmwatch.collector.storage import is_url
from farmwatch.collector.storage.schema import create_audit_schema
from farmwatch.collector.storage.sqlite import connect, write_transaction
from farmwatch.collector.storage.types import WriteFailed
from farmwatch.collector.storage.write_turns import WriteTurns
from farmwatch.common.clock import now_rfc3339


class AuditTrail:
    def __init__(self, database: Path | str):
        self._lock = threading.Lock()
        if is_url(database):
            from farmwatch.collector.storage import postgres

            self._conn, self._errors = postgres.connect(str(database)), postgres.errors()
            self._turn = nullcontext
            return
        self._conn, self._errors = connect(Path(database)), (sqlite3.Error,)
        turns = WriteTurns(Path(database))
        self._turn = turns.turn
        with write_transaction(self._conn, turns, self._lock):  # also for a database made before this table
            create_audit_schema(sqlite_utils.Database(self._conn))

    def close(self) -> None:
        self._conn.close()

    def begin(self, *, who, via, action, detail, detail_sha256, detail_bytes, peer, cert_serial) -> int:
        """The new row's id; WriteFailed when it cannot be written."""
        try:
            with self._turn(), self._lock:
                cursor = self._conn.execute(
                    "INSERT INTO audit (at, who, via, cert_serial, peer, action, detail, detail_sha256, detail_bytes, "
                    "outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running') RETURNING id",
                    (now_rfc3339(), who, via, cert_serial, peer, action, detail, detail_sha256, detail_bytes))
                return cursor.fetchall()[0][0]  # all of it: SQLite ends the statement only then
        except self._errors as exc:
            raise WriteFailed(str(exc)) from exc

    def finish(self, entry_id: int, rows: int, outcome: str, duration_ms: int) -> None:
        with self._turn(), self._lock:
            self._conn.execute(
                "UPDATE audit SET rows = ?, outcome = ?, finished_at = ?, duration_ms = ? WHERE id = ?",
                (rows, outcome, now_rfc3339(), duration_ms, entry_id))
