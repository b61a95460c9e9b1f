"""Fleet tables, and the per-report bookkeeping ingest does for them.

`device_locations` keeps one row per (device, location key) — a few rows per laptop however many
reports it sends — so correlation reads ~3 rows per device instead of every report in the
window. Ingest upserts it beside the report, in the same transaction.

Every column is independent of the order reports arrive in (backfill, replay, an agent's outbox
drained days late): first/last seen are the min/max, the context columns come from the latest
report, and `days` counts the rows of `device_location_days`, one per (key, device, UTC day).
"""
from __future__ import annotations

import sqlite3

import sqlite_utils

from farmwatch.collector.fleet.keys import ADDRESS, KEY_OF, KINDS, normalise_mac

FINDING_COLUMNS = {"device_id": str, "rule": str, "severity": str, "summary": str, "evidence": str,
                   "cluster_id": str, "computed_at": str}


def create_schema(db: sqlite_utils.Database) -> None:
    # Clustered by key (WITHOUT ROWID, key first): correlation reads all devices at a key as one
    # contiguous range. peer_ip / gateway_mac / wifi_bssid: what the device's latest report from the key
    # also showed.
    db.execute(
        "CREATE TABLE IF NOT EXISTS device_locations (kind TEXT NOT NULL, value TEXT NOT NULL, "
        "device_id TEXT NOT NULL, first_seen TEXT, last_seen TEXT, reports INTEGER, days INTEGER, peer_ip TEXT, "
        "gateway_mac TEXT, wifi_bssid TEXT, PRIMARY KEY (kind, value, device_id)) WITHOUT ROWID")
    db["device_locations"].create_index(["device_id"], if_not_exists=True)
    # The UTC days a device was seen at a key: ingest counts a day in `days` when its row is new.
    db.execute("CREATE TABLE IF NOT EXISTS device_location_days (kind TEXT NOT NULL, value TEXT NOT NULL, "
               "device_id TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (kind, value, device_id, day)) WITHOUT ROWID")
    # How many devices were ever seen at each key, kept by a trigger that fires only when a device
    # first reports from a key: correlation starts from the few keys with two or more devices
    # instead of scanning every device's keys.
    db["location_keys"].create({"kind": str, "value": str, "devices": int}, pk=("kind", "value"),
                               if_not_exists=True)
    db.execute("CREATE INDEX IF NOT EXISTS idx_location_keys_shared ON location_keys (devices) WHERE devices >= 2")
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS device_locations_count AFTER INSERT ON device_locations BEGIN "
        "INSERT INTO location_keys (kind, value, devices) VALUES (new.kind, new.value, 1) "
        "ON CONFLICT(kind, value) DO UPDATE SET devices = devices + 1; END")
    # silent devices; time zones against the roster; the few devices with a flagged input language
    db["devices"].create_index(["last_seen"], if_not_exists=True)
    db["devices"].create_index(["timezone", "device_id"], if_not_exists=True)
    db.execute("CREATE INDEX IF NOT EXISTS idx_devices_input_languages ON devices (input_languages) "
               "WHERE input_languages > ''")
    db["fleet_findings"].create(FINDING_COLUMNS, if_not_exists=True)
    db["fleet_findings"].create_index(["device_id"], if_not_exists=True)
    db["clusters"].create(
        {"cluster_id": str, "kind": str, "value": str, "status": str, "first_seen": str, "last_seen": str,
         "devices": int, "people": int, "households": int, "relay_members": int, "suspicious_members": int,
         "score": int, "severity": str, "created_at": str, "updated_at": str},
        pk="cluster_id", if_not_exists=True)
    db["clusters"].create_index(["status", "score"], if_not_exists=True)
    db["cluster_members"].create(
        {"cluster_id": str, "device_id": str, "person": str, "on_roster": int, "first_seen": str,
         "last_seen": str, "reports": int, "own_verdict": str, "joined_at": str},
        pk=("cluster_id", "device_id"), if_not_exists=True)
    db["cluster_members"].create_index(["device_id"], if_not_exists=True)
    db["cluster_events"].create(
        {"cluster_id": str, "at": str, "event": str, "device_id": str, "detail": str}, if_not_exists=True)
    db["cluster_events"].create_index(["cluster_id", "at"], if_not_exists=True)


_UPSERT = (
    "INSERT INTO device_locations (device_id, kind, value, first_seen, last_seen, reports, days, peer_ip, "
    "gateway_mac, wifi_bssid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(kind, value, device_id) DO UPDATE SET "
    "first_seen = min(first_seen, excluded.first_seen), days = days + excluded.days, "
    "peer_ip = CASE WHEN excluded.last_seen >= last_seen THEN excluded.peer_ip ELSE peer_ip END, "
    "gateway_mac = CASE WHEN excluded.last_seen >= last_seen THEN excluded.gateway_mac ELSE gateway_mac END, "
    "wifi_bssid = CASE WHEN excluded.last_seen >= last_seen THEN excluded.wifi_bssid ELSE wifi_bssid END, "
    "last_seen = max(last_seen, excluded.last_seen), reports = reports + excluded.reports")
_DAY = "INSERT OR IGNORE INTO device_location_days (kind, value, device_id, day) VALUES (?, ?, ?, ?)"


def location_rows(device_id: str, received_at: str, peer_ip: str, gateway_mac: str | None,
                  bssid: str | None, reports: int = 1, first_seen: str | None = None) -> list[tuple]:
    """The device_locations upserts of one report (or of `reports` reports of one UTC day, from
    `first_seen` to `received_at`): one per kind whose value identifies a place."""
    raw = {ADDRESS: peer_ip, "gateway_mac": gateway_mac, "wifi_bssid": bssid}
    context = (peer_ip or None, normalise_mac(gateway_mac), normalise_mac(bssid))
    return [(device_id, kind, value, first_seen or received_at, received_at, reports, *context)
            for kind in KINDS if (value := KEY_OF[kind](raw[kind])) is not None]


def record_locations(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Upsert `location_rows`; each row's day counts in `days` only if it is new for its key."""
    new_days = [conn.execute(_DAY, (kind, value, device_id, last_seen[:10])).rowcount
                for device_id, kind, value, _, last_seen, *_ in rows]
    conn.executemany(_UPSERT, [(*row[:6], new, *row[6:]) for row, new in zip(rows, new_days)])


def rebuild_locations(db: sqlite_utils.Database) -> None:
    """Schema upgrade: make the location tables afresh from the reports already stored."""
    for table in ("device_locations", "location_keys", "device_location_days"):
        db.execute(f"DROP TABLE IF EXISTS {table}")  # and its index and trigger
    create_schema(db)
    # one upsert per device, day and network instead of per report
    cursor = db.conn.execute(
        "SELECT device_id, max(received_at), peer_ip, gateway_mac, wifi_bssid, count(*), min(received_at) "
        "FROM reports GROUP BY device_id, substr(received_at, 1, 10), peer_ip, gateway_mac, wifi_bssid")
    while batch := cursor.fetchmany(5000):
        record_locations(db.conn, [row for group in batch for row in location_rows(*group)])
