"""The fleet's per-report bookkeeping: ingest upserts `device_locations` beside each report.

`device_locations` keeps one row per (device, location key) — a few rows per laptop however many
reports it sends — so correlation reads ~3 rows per device instead of every report in the
window. Every column is independent of the order reports arrive in (backfill, replay, an agent's
outbox drained days late): first/last seen are the min/max, the context columns come from the
latest report, and `days` counts the rows of `device_location_days`, one per (key, device, UTC day).
The rows themselves are made by `fleet.locations.location_rows`.
"""
from __future__ import annotations

import sqlite3

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


def record_locations(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Upsert `location_rows`; each row's day counts in `days` only if it is new for its key."""
    new_days = [conn.execute(_DAY, (kind, value, device_id, last_seen[:10])).rowcount
                for device_id, kind, value, _, last_seen, *_ in rows]
    conn.executemany(_UPSERT, [(*row[:6], new, *row[6:]) for row, new in zip(rows, new_days)])
