"""Storage: every SQL statement and the schema live here, behind the `Storage` interface.

    from farmwatch.collector.storage import open_storage
    storage = open_storage(config.database)  # a SQLite path, or a postgresql:// URL

Shape, one module per kind of record:
- `schema`: tables, indexes, views, triggers and migrations — the one description;
- `sqlite`: connecting, PRAGMAs, transactions, and `SqliteStorage`, which implements `Storage`;
- `postgres`: the same for PostgreSQL (`PostgresStorage`), the modules' SQL translated by
  `postgres_sql` and the schema rendered by `postgres_schema`;
- `reports`: the ingest batch (`ReportBatch`) and reading reports back; `inventory`: the
  change-only inventory diff; `fleet`: the per-report location upserts;
- `enrollment`, `audit`, `feeds` (export cursors), `queries` (the security team's reads),
  `correlation` (fleet correlation's reads and writes), `triage` (triage states and their history),
  `analyst_sql` (the bounded read-only SQL runner: authorizer, progress handler, limits —
  engine-specific by nature).

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
from farmwatch.collector.storage.reports import stored_form  # noqa: F401  (for ingest: made before the write turn)
from farmwatch.collector.storage.types import (Decision, DeviceState, ExportBusy, StoredForm, StoreFull,  # noqa: F401
                                               Unavailable, WriteFailed)


class Storage(Protocol):
    """What the collector asks of its database (implemented by `sqlite.SqliteStorage`)."""

    path: Path | str
    engine: str  # "sqlite" or "postgresql"

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

    # the web console's reads (storage/browse.py)
    def device_page(self, where, sort: str, offset: int, limit: int) -> tuple[list[dict], int]: ...
    def device_choices(self) -> dict[str, list[str]]: ...
    def overview(self, days: int, since: str) -> dict: ...
    def places(self, device_id: str) -> list[dict]: ...
    def inventory_changes(self, device_id: str) -> dict[str, list[dict]]: ...
    def roster_facts(self, serial: str) -> dict | None: ...

    # triage (storage/triage.py): the state now, one change (as the event it stored), history
    def triage(self, device_id: str) -> dict: ...
    def record_triage(self, change: dict) -> dict: ...
    def triage_history(self, device_id: str) -> list[dict]: ...

    # export cursors
    def export_lease(self, sink: str) -> ContextManager: ...  # one run per sink at a time; else ExportBusy
    def export_cursor(self, sink: str) -> dict[str, dict]: ...
    def mark_exported(self, sink: str, key: str, state: str, flag: dict) -> None: ...
    def forget_exported(self, sink: str, key: str | None = None) -> None: ...
    def device_verdicts(self, device_ids: list[str]) -> dict[str, dict]: ...

    # fleet correlation
    def fleet_snapshot(self) -> ContextManager: ...  # yields correlation.FleetReads
    def fleet_writes(self) -> ContextManager: ...  # yields correlation.FleetWrites
    def claim_job(self, job: str, every_seconds: float, owner: str) -> bool: ...  # once per interval (jobs)


def is_url(database) -> bool:
    """Whether `database` names a PostgreSQL database (a URL) rather than a SQLite file."""
    return str(database).startswith(("postgresql://", "postgres://"))


def describe(database: Path | str) -> str:
    """`database` for a log line or a message: a URL without its password."""
    if is_url(database):
        from farmwatch.collector.storage.postgres import redact

        return redact(str(database))
    return str(database)


def open_storage(database: Path | str) -> Storage:
    """The collector's database, made or migrated to the current schema: a SQLite file at a path,
    or the PostgreSQL database a `postgresql://` URL names (`postgres.PostgresStorage`)."""
    if is_url(database):
        from farmwatch.collector.storage.postgres import PostgresStorage

        return PostgresStorage(str(database))
    from farmwatch.collector.storage.sqlite import SqliteStorage

    return SqliteStorage(Path(database))


__all__ = ["Storage", "open_storage", "is_url", "describe", "StoreFull", "ExportBusy", "Unavailable", "WriteFailed",
           "DeviceState", "Decision", "SqlError"]
