"""The MDM tables (schema 12): the devices each MDM listed, each sync run, and what was written back.

- `mdm_devices`: per MDM (`source`, e.g. jamf-api) and serial, the MDM's own device id and what
  write-back needs; replaced by each completed sync, in the roster's transaction.
- `mdm_runs`: one row per sync run, written when it starts and completed when it ends, so a run
  that died is on record as `running`; `outcome` ok or failed (`detail` says why), its counts
  what changed (`roster_changes` the detail).
- `mdm_writes`: per MDM and serial, the values last written back, so a write happens only on change.
Every write-back is also an `audit` row (collector/audit.py).
"""
from __future__ import annotations

import sqlite3

import sqlite_utils

from farmwatch.collector.storage.roster import insert_rows

DEVICE_COLUMNS = ("source", "serial", "mdm_id", "device_name", "os", "groups", "directory_id", "seen_at")
RUN_COLUMNS = ("run_id", "source", "dry_run", "started_at", "finished_at", "outcome", "devices", "new",
               "reassigned", "updated", "removed", "unchanged", "skipped", "held_removals", "detail")
WRITE_COLUMNS = ("source", "serial", "verdict", "link", "written_at")


def create_schema(db: sqlite_utils.Database) -> None:
    db["mdm_devices"].create({name: str for name in DEVICE_COLUMNS}, pk=("source", "serial"), if_not_exists=True)
    db["mdm_runs"].create({name: int if name in _COUNTS else str for name in RUN_COLUMNS}, pk="run_id",
                          if_not_exists=True)
    db["mdm_runs"].create_index(["source", "started_at"], if_not_exists=True)
    db["mdm_writes"].create({name: str for name in WRITE_COLUMNS}, pk=("source", "serial"), if_not_exists=True)


_COUNTS = {"dry_run", "devices", "new", "reassigned", "updated", "removed", "unchanged", "skipped", "held_removals"}


def start_run(conn: sqlite3.Connection, run_id: str, source: str, dry_run: bool, at: str) -> None:
    conn.execute("INSERT INTO mdm_runs (run_id, source, dry_run, started_at, outcome) VALUES (?, ?, ?, ?, 'running')",
                 (run_id, source, int(dry_run), at))


def finish_run(conn: sqlite3.Connection, run_id: str, at: str, outcome: str, counts: dict, detail: str = "") -> None:
    names = [name for name in RUN_COLUMNS if name in counts]
    conn.execute(f"UPDATE mdm_runs SET finished_at = ?, outcome = ?, detail = ?"
                 f"{''.join(f', {name} = ?' for name in names)} WHERE run_id = ?",
                 (at, outcome, detail, *[counts[name] for name in names], run_id))


def replace_devices(conn: sqlite3.Connection, source: str, rows: list[dict]) -> None:
    conn.execute("DELETE FROM mdm_devices WHERE source = ?", (source,))
    insert_rows(conn, "mdm_devices", DEVICE_COLUMNS, rows)


def keep_devices(conn: sqlite3.Connection, source: str, serials: set[str]) -> list[dict]:
    """The stored rows of these serials (a malformed record's device keeps its last good row)."""
    rows = conn.execute(f"SELECT {', '.join(DEVICE_COLUMNS)} FROM mdm_devices WHERE source = ?", (source,))
    return [dict(zip(DEVICE_COLUMNS, row)) for row in rows if row[1] in serials]


def verdicts_and_writes(conn: sqlite3.Connection, source: str) -> list[dict]:
    """Each device this MDM lists that has reported: its verdict, and what was last written back
    (`written`, `written_link`: None when nothing was), worst verdict first."""
    cursor = conn.execute(
        "SELECT m.serial, m.mdm_id, m.directory_id, d.device_id, d.verdict, w.verdict, w.link FROM mdm_devices m "
        "JOIN devices d ON upper(trim(d.device_id)) = m.serial "
        "LEFT JOIN mdm_writes w ON w.source = m.source AND w.serial = m.serial "
        "WHERE m.source = ? AND d.verdict IS NOT NULL "
        "ORDER BY CASE d.verdict WHEN 'relay' THEN 0 WHEN 'suspicious' THEN 1 ELSE 2 END, m.serial", (source,))
    names = ("serial", "mdm_id", "directory_id", "device_id", "verdict", "written", "written_link")
    return [dict(zip(names, row)) for row in cursor]


def record_write(conn: sqlite3.Connection, source: str, serial: str, verdict: str, link: str, at: str) -> None:
    conn.execute("INSERT INTO mdm_writes (source, serial, verdict, link, written_at) VALUES (?, ?, ?, ?, ?) "
                 "ON CONFLICT (source, serial) DO UPDATE SET verdict = excluded.verdict, link = excluded.link, "
                 "written_at = excluded.written_at", (source, serial, verdict, link, at))


def last_runs(db: sqlite_utils.Database) -> list[dict]:
    """Each MDM's latest run and its latest completed one, newest first."""
    if not db["mdm_runs"].exists():
        return []
    cursor = db.execute(
        f"SELECT {', '.join(RUN_COLUMNS)} FROM mdm_runs r WHERE started_at = (SELECT max(started_at) FROM mdm_runs "
        "o WHERE o.source = r.source) OR started_at = (SELECT max(started_at) FROM mdm_runs o WHERE o.source = "
        "r.source AND o.outcome = 'ok' AND o.dry_run = 0) ORDER BY source, started_at DESC")
    return [dict(zip(RUN_COLUMNS, row)) for row in cursor]


def device_counts(db: sqlite_utils.Database) -> dict[str, tuple[int, int]]:
    """Per MDM: (devices listed, devices with a verdict written back)."""
    if not db["mdm_devices"].exists():
        return {}
    listed = dict(db.execute("SELECT source, count(*) FROM mdm_devices GROUP BY source").fetchall())
    written = dict(db.execute("SELECT source, count(*) FROM mdm_writes GROUP BY source").fetchall())
    return {source: (count, written.get(source, 0)) for source, count in listed.items()}
