"""Storage: every SQL statement and the schema live here, behind the `Storage` interface.

    from farmwatch.collector.storage import open_storage
    storage = open_storage(config.database)      # today: SQLite (`sqlite.SqliteStorage`)

Shape, one module per kind of record:
- `schema`: tables, indexes, views, triggers and migrations — the one description;
- `sqlite`: connecting, PRAGMAs, transactions, and `SqliteStorage`, which implements `Storage`;
- `reports`: the ingest batch (`ReportBatch`) and reading reports back; `inventory`: the
  change-only inventory diff; `fleet`: the per-report location upserts;
- `enrollment`, `audit`, `feeds` (export cursors), `queries` (the security team's reads),
  `correlation` (fleet correlation's reads and writes), `analyst_sql` (the bounded read-only
  SQL runner: authorizer, progress handler, limits — engine-specific by nature).

The boundary. Callers get dicts, tuples and dataclasses (`types`), never cursors or connections,
and decide nothing here: ingest applies the replay rule and combines verdicts
(`fleet.verdict.combine`), fleet makes the location rows (`fleet.locations`), and storage writes
what they decided. A unit of work is a context manager (`batch()`, `enrollment_records()`,
`fleet_snapshot()`, `fleet_writes()`): one transaction, committed on a clean exit, rolled back on
an exception, so a second backend (PostgreSQL) implements the same methods with its own SQL.
"""
from __future__ import annotations

from pathlib import Path
from typing import ContextManager, Iterator, Protocol

from farmwatch.collector.storage.analyst_worker import SqlError
from farmwatch.collector.storage.types import Decision, DeviceState, StoreFull, WriteFailed


class Storage(Protocol):
    """What the collector asks of its database (implemented by `sqlite.SqliteStorage`)."""

    path: Path

    def close(self) -> None: ...

    # reports: ingest writes a batch; reclassify and retention read and rewrite them
    def batch(self) -> ContextManager: ...  # yields a ReportBatch (see reports.ReportBatch)
    def prune_raw(self, older_than_days: int) -> int: ...
    def stored_reports(self, batch: int = 500) -> Iterator[tuple]: ...
    def envelope(self, report_id: str) -> dict | None: ...
    def device_state(self, device_id: str) -> tuple | None: ...  # a delta's base (device_states.load)
    def count(self, table: str) -> int: ...

    # enrollment
    def enrollment_records(self) -> ContextManager: ...  # yields enrollment.EnrollmentRecords
    def certificate_status(self, serial: str) -> tuple[str, str, str] | None: ...
    def tokens(self) -> list[dict]: ...

    # the security team's questions (CLI, Query service, exports)
    def devices(self, verdict=None, cluster=None, user=None) -> list[dict]: ...
    def flags(self) -> list[dict]: ...
    def device(self, device_id: str, history: int = 20) -> dict | None: ...
    def fleet_findings(self, device_id: str | None = None) -> list[dict]: ...
    def clusters(self, include_inactive: bool = False, min_score: int = 0) -> list[dict]: ...
    def cluster(self, cluster_id: str, history: int = 100) -> dict | None: ...
    def verdict_counts(self) -> dict[str, int]: ...
    def department_of(self, serial: str) -> str | None: ...
    def analyst_query(self, query: str, **limits): ...

    # export cursors
    def export_cursor(self, sink: str) -> dict[str, dict]: ...
    def mark_exported(self, sink: str, key: str, state: str, flag: dict) -> None: ...
    def forget_exported(self, sink: str, key: str | None = None) -> None: ...
    def device_verdicts(self, device_ids: list[str]) -> dict[str, dict]: ...

    # fleet correlation
    def fleet_snapshot(self) -> ContextManager: ...  # yields correlation.FleetReads
    def fleet_writes(self) -> ContextManager: ...  # yields correlation.FleetWrites


def open_storage(path: Path) -> Storage:
    """The collector's database at `path`, made or migrated to the current schema."""
    from farmwatch.collector.storage.sqlite import SqliteStorage

    return SqliteStorage(Path(path))


__all__ = ["Storage", "open_storage", "StoreFull", "WriteFailed", "DeviceState", "Decision", "SqlError"]
