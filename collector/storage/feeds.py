"""Export sinks' cursors (`export_cursor`): the flags each sink was sent, in the state it was sent.

Callers see a sink's cursor as a dict flag key -> flag; `exports.feed` decides what is new.
"""
from __future__ import annotations

import json

from farmwatch.common.clock import now_rfc3339


def load_cursor(conn, sink: str) -> dict[str, dict]:
    cursor = conn.execute("SELECT flag_key, flag FROM export_cursor WHERE sink = ?", (sink,))
    return {flag_key: json.loads(flag) for flag_key, flag in cursor}


def mark_sent(conn, sink: str, key: str, state: str, flag: dict) -> None:
    conn.execute(
        "INSERT INTO export_cursor (sink, flag_key, state, flag, exported_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(sink, flag_key) DO UPDATE SET state = excluded.state, flag = excluded.flag, "
        "exported_at = excluded.exported_at",
        (sink, key, state, json.dumps(flag, default=str), now_rfc3339()))


def forget(conn, sink: str, key: str | None = None) -> None:
    """Forget one flag the sink was sent, or (no key) all of them."""
    if key is None:
        conn.execute("DELETE FROM export_cursor WHERE sink = ?", (sink,))
    else:
        conn.execute("DELETE FROM export_cursor WHERE sink = ? AND flag_key = ?", (sink, key))


def device_verdicts(conn, device_ids: list[str]) -> dict[str, dict]:
    """device id -> {"verdict", "score"} as they are now."""
    verdicts: dict[str, dict] = {}
    for start in range(0, len(device_ids), 500):  # below SQLite's bound-parameter limit
        chunk = device_ids[start:start + 500]
        for device_id, verdict, score in conn.execute(
                f"SELECT device_id, verdict, score FROM devices WHERE device_id IN "
                f"({', '.join('?' * len(chunk))})", chunk):
            verdicts[device_id] = {"verdict": verdict, "score": score}
    return verdicts
