"""The `Storage` methods that are the same on both engines: reads on the calling thread's
`reader()` connection, and writes in one `transaction()` of the writer connection. Each backend
(`sqlite.SqliteStorage`, `postgres.PostgresStorage`) brings those two, and what differs."""
from __future__ import annotations

from contextlib import contextmanager

from farmwatch.collector.storage import analyst_sql, browse, device_states, enrollment, feeds, queries, reports, triage
from farmwatch.collector.storage.correlation import FleetWrites


class StorageMethods:
    # -- reports --------------------------------------------------------------------------
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

    def device_state(self, device_id: str):
        return device_states.load(self.reader(), device_id)

    def envelope(self, report_id: str) -> dict | None:
        return reports.envelope(self.reader(), report_id)

    def count(self, table: str) -> int:
        return self.reader().execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def rows(self, sql: str, params=()) -> list[dict]:
        """This backend's own: rows as dicts, for the roster import and tests."""
        return queries._rows(self.reader(), sql, params)

    # -- enrollment -----------------------------------------------------------------------
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

    # -- the web console's reads (browse.py) ---------------------------------------------------
    def device_page(self, where: browse.DeviceFilter, sort: str, offset: int, limit: int):
        return browse.device_page(self.reader(), where, sort, offset, limit)

    def device_choices(self) -> dict[str, list[str]]:
        return browse.choices(self.reader())

    def overview(self, days: int, since: str) -> dict:
        return browse.overview(self.reader(), days, since)

    def places(self, device_id: str) -> list[dict]:
        return browse.places(self.reader(), device_id)

    def inventory_changes(self, device_id: str) -> dict[str, list[dict]]:
        return browse.inventory_changes(self.reader(), device_id)

    def roster_facts(self, serial: str) -> dict | None:
        return browse.roster_facts(self.reader(), serial)

    # -- triage ---------------------------------------------------------------------------
    def triage(self, device_id: str) -> dict:
        verdict = self.device_verdicts([device_id]).get(device_id, {}).get("verdict")
        return queries.triage_of(self.reader(), device_id, verdict)

    def record_triage(self, change: dict) -> dict:
        with self.transaction() as conn:
            return triage.record(conn, change)

    def triage_history(self, device_id: str) -> list[dict]:
        return triage.history(self.reader(), device_id)

    # -- export cursors -------------------------------------------------------------------
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
    def fleet_writes(self):
        with self.transaction() as conn:
            yield FleetWrites(conn)
