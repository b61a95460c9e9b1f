"""The fleet's per-report bookkeeping: ingest upserts `device_locations` beside each report.

`device_locations` keeps one row per (device, location key) — a few rows per laptop however many
reports it sends — so correlation reads ~3 rows per device instead of every report in the
window. Every column is independent of the order reports arrive in (backfill, replay, an agent's
outbox drained days late): first/last seen are the min/max, the context columns come from the
latest report, and `days` counts the rows of `device_location_days`, one per (key, device, UTC day).
The rows themselves are made by `fleet.locations.location_rows`.

`device_scans` keeps the hashed Wi-Fi neighbourhood of each device per 4-hour slot (rows made by
`fleet.neighbourhood.take_nearby`), merged the same order-independent way.
"""
from __future__ import annotations

import json

_UPSERT = (
    "INSERT INTO device_locations AS l (device_id, kind, value, first_seen, last_seen, reports, days, peer_ip, "
    "gateway_mac, wifi_bssid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(kind, value, device_id) DO UPDATE SET "
    "first_seen = min(l.first_seen, excluded.first_seen), days = l.days + excluded.days, "
    "peer_ip = CASE WHEN excluded.last_seen >= l.last_seen THEN excluded.peer_ip ELSE l.peer_ip END, "
    "gateway_mac = CASE WHEN excluded.last_seen >= l.last_seen THEN excluded.gateway_mac ELSE l.gateway_mac END, "
    "wifi_bssid = CASE WHEN excluded.last_seen >= l.last_seen THEN excluded.wifi_bssid ELSE l.wifi_bssid END, "
    "last_seen = max(l.last_seen, excluded.last_seen), reports = l.reports + excluded.reports")
_DAY = ("INSERT INTO device_location_days (kind, value, device_id, day) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (kind, value, device_id, day) DO NOTHING")


def record_locations(conn, rows: list[tuple]) -> None:
    """Upsert `location_rows`; each row's day counts in `days` only if it is new for its key."""
    days = [conn.execute(_DAY, (kind, value, device_id, last_seen[:10])) for device_id, kind, value, _, last_seen, *_
            in rows]  # all sent before any count is read: one round trip for them on a pipelined connection
    new_days = [day.rowcount for day in days]
    conn.executemany(_UPSERT, [(*row[:6], new, *row[6:]) for row, new in zip(rows, new_days)])


def record_scans(conn, rows: list[tuple]) -> None:
    """Merge `take_nearby` rows (device_id, slot, received_at, peer_ip, gateway_mac, wifi_bssid,
    {hash: signal}) into their slot's row."""
    for device_id, slot, received_at, peer_ip, gateway_mac, wifi_bssid, heard in rows:
        row = conn.execute("SELECT first_seen, last_seen, reports, peer_ip, gateway_mac, wifi_bssid, heard "
                           "FROM device_scans WHERE device_id = ? AND slot = ?", (device_id, slot)).fetchone()
        first, last, reports, *context, merged = row or (received_at, received_at, 0, None, None, None, "{}")
        merged = json.loads(merged)
        for key, signal in heard.items():
            count, known, total = merged.get(key, (0, 0, 0))
            merged[key] = (count + 1, known + bool(signal), total + signal)
        if received_at >= last or not reports:
            context = [peer_ip, gateway_mac, wifi_bssid]
        conn.execute("INSERT INTO device_scans (device_id, slot, first_seen, last_seen, reports, peer_ip, "
                     "gateway_mac, wifi_bssid, heard) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (device_id, slot) DO UPDATE SET first_seen = excluded.first_seen, "
                     "last_seen = excluded.last_seen, reports = excluded.reports, peer_ip = excluded.peer_ip, "
                     "gateway_mac = excluded.gateway_mac, wifi_bssid = excluded.wifi_bssid, heard = excluded.heard",
                     (device_id, slot, min(first, received_at), max(last, received_at), reports + 1, *context,
                      json.dumps(merged, sort_keys=True)))
