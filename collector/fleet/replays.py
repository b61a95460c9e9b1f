"""fleet-replays (medium): a device whose reports keep arriving out of order.

A report at or below the device's last sequence, or further ahead than the time since allows, is
stored as a replay and never moves the device (`ordering`). One such report is an accident (an
agent whose outbox was wiped restarts its count once); several within the window are someone
sending old reports again or forging the counter under the device's certificate — and the
device's own verdict ignores them, so without this finding they would be silence.
"""
from __future__ import annotations

from farmwatch.collector.fleet.device_rules import FleetFinding

REPLAYS_TO_FLAG = 3


def replay_findings(reads, window_start: str) -> list[FleetFinding]:
    return [FleetFinding(device_id, "fleet-replays", "medium",
                         f"{count} of its reports since {window_start[:10]} were replays (at or below its last "
                         f"sequence, or far ahead of it), the latest received at {latest}",
                         {"replays": count, "since": window_start, "latest_received_at": latest})
            for device_id, count, latest in reads.replays_since(window_start) if count >= REPLAYS_TO_FLAG]
