"""Each device's latest report in full: the base its next delta report is built on.

One row per device, replaced in the writer's transaction whenever a report moves the device, so
it always matches `devices.last_report_id` — after a restart, in another serving process, or in a
restored backup (where it is as old as the rest). A delta's base is read from here in one row,
whatever the length of the chain of deltas stored in `reports`.
"""
from __future__ import annotations

from farmwatch.collector.storage import blobs
from farmwatch.v1 import report_pb2


def create_schema(db) -> None:
    db["device_states"].create(
        {"device_id": str, "report_id": str, "sequence": int,
         "chain_started_at": str,  # received_at of the full report the device's chain starts at
         "body": bytes},  # blobs.pack(serialized full AgentReport)
        pk="device_id", if_not_exists=True,
    )


def body_of(known) -> bytes:
    """The stored form of `known` (collector.deltas.Known): its full report, compressed."""
    return blobs.pack(known.report.SerializeToString(), blobs.STATE_LEVEL)


def save(conn, device_id: str, known, body: bytes) -> None:
    """`known`, whose `body_of` is `body`, is now the device's latest report."""
    conn.execute(
        "INSERT INTO device_states (device_id, report_id, sequence, chain_started_at, body) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (device_id) DO UPDATE SET report_id = excluded.report_id, sequence = excluded.sequence, "
        "chain_started_at = excluded.chain_started_at, body = excluded.body",
        (device_id, known.report_id, known.sequence, known.root_received_at, body))


def load(conn, device_id: str) -> tuple[str, int, str, report_pb2.AgentReport] | None:
    """(report_id, sequence, chain_started_at, full report) of the device's latest report."""
    row = conn.execute("SELECT report_id, sequence, chain_started_at, body FROM device_states WHERE device_id = ?",
                       (device_id,)).fetchone()
    if row is None:
        return None
    return row[0], row[1], row[2], report_pb2.AgentReport.FromString(blobs.unpack(row[3]))
