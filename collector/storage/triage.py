"""Triage records (schema 11): where the security team stands on each flagged device, and how it got there.

`triage` holds the one current row per device (state, assignee, who changed it last and when);
`triage_events` keeps every change, notes included, in order (`id` grows): the history is never
rewritten. A device with no row is `new` while it is flagged; `collector.triage` decides what a
change may be, this module only writes it.
"""
from __future__ import annotations

TRIAGE_EVENT_COLUMNS = ("id", "device_id", "at", "who", "via", "state", "previous_state", "assignee", "note")


def create_schema(db) -> None:
    db["triage"].create(
        {"device_id": str, "state": str, "assignee": str, "updated_at": str, "updated_by": str},
        pk="device_id", if_not_exists=True)
    db["triage"].create_index(["state"], if_not_exists=True)
    db["triage_events"].create(
        {"id": int, "device_id": str, "at": str, "who": str, "via": str, "state": str, "previous_state": str,
         "assignee": str, "note": str},
        pk="id", if_not_exists=True)
    db["triage_events"].create_index(["device_id", "id"], if_not_exists=True)


def current(conn, device_id: str) -> dict | None:
    row = conn.execute("SELECT device_id, state, assignee, updated_at, updated_by FROM triage WHERE device_id = ?",
                       (device_id,)).fetchone()
    return dict(zip(("device_id", "state", "assignee", "updated_at", "updated_by"), row)) if row else None


def record(conn, change: dict) -> dict:
    """Write one change (keys: TRIAGE_EVENT_COLUMNS but id) as the current state and an event; the event back."""
    conn.execute(
        "INSERT INTO triage (device_id, state, assignee, updated_at, updated_by) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, assignee = excluded.assignee, "
        "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        (change["device_id"], change["state"], change["assignee"], change["at"], change["who"]))
    names = TRIAGE_EVENT_COLUMNS[1:]
    cursor = conn.execute(
        f"INSERT INTO triage_events ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) RETURNING id",
        [change[name] for name in names])
    return {"id": cursor.fetchone()[0], **{name: change[name] for name in names}}


def history(conn, device_id: str) -> list[dict]:
    """One device's changes, oldest first."""
    return _events(conn, "WHERE device_id = ? ORDER BY id", (device_id,))


def _events(conn, where: str, params) -> list[dict]:
    cursor = conn.execute(f"SELECT {', '.join(TRIAGE_EVENT_COLUMNS)} FROM triage_events {where}", params)
    return [dict(zip(TRIAGE_EVENT_COLUMNS, row)) for row in cursor]
