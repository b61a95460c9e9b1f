"""`job_runs`: which collector last started each periodic job, so a cluster runs it once per interval.

Several collectors on one database each run the job loop (fleet correlation, retention); the
first to claim an interval runs the job, the others skip it. The claim is one upsert whose
condition is checked under the row's lock, so two collectors claiming at once cannot both win.
"""
from __future__ import annotations

from datetime import timedelta

from farmwatch.common.clock import now_rfc3339, rfc3339, utcnow


def create_schema(db) -> None:
    db["job_runs"].create({"job": str, "started_at": str, "collector": str}, pk="job", if_not_exists=True)


def claim(conn, job: str, every_seconds: float, collector: str) -> bool:
    """Whether this collector runs `job` now: no run started within the last `every_seconds`."""
    # a little early, so a run due at the same moment on two timers is not skipped by both
    due = rfc3339(utcnow() - timedelta(seconds=every_seconds * 0.9))
    cursor = conn.execute(
        "INSERT INTO job_runs (job, started_at, collector) VALUES (?, ?, ?) ON CONFLICT (job) DO UPDATE SET "
        "started_at = excluded.started_at, collector = excluded.collector WHERE job_runs.started_at <= ?",
        (job, now_rfc3339(), collector, due))
    return cursor.rowcount == 1
