"""What the security team asks of the database: devices, one device in depth, current flags."""
from __future__ import annotations

import json

from farmwatch.collector.store import Store

DEVICE_COLUMNS = ("device_id", "hostname", "os", "verdict", "score", "last_seen", "last_peer_ip",
                  "reports", "agent_version")
FLAG_COLUMNS = ("device_id", "hostname", "verdict", "score", "severity", "rule", "summary", "received_at")
_SEVERITY_ORDER = "CASE f.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 " \
                  "WHEN 'low' THEN 3 ELSE 4 END"


def devices(store: Store, verdict: str | None = None) -> list[dict]:
    where, params = ("WHERE verdict = ?", (verdict,)) if verdict else ("", ())
    return store.rows(
        f"SELECT {', '.join(DEVICE_COLUMNS)}, first_seen, os_version, hardware_model, timezone "
        f"FROM devices {where} ORDER BY score DESC, device_id", params)


def flags(store: Store) -> list[dict]:
    """Every finding of each flagged device's latest report, worst first; allowed ones left out."""
    rows = store.rows(
        "SELECT d.device_id, d.hostname, d.verdict, d.score, f.severity, f.rule, f.summary, "
        "r.received_at, f.report_id, f.evidence FROM devices d "
        "JOIN findings f ON f.report_id = d.last_report_id "
        "JOIN reports r ON r.report_id = d.last_report_id "
        f"WHERE d.verdict IN ('suspicious', 'relay') AND f.allowed = 0 "
        f"ORDER BY d.score DESC, d.device_id, {_SEVERITY_ORDER}")
    for row in rows:
        row["evidence"] = json.loads(row["evidence"])
    return rows


def device(store: Store, device_id: str, history: int = 20) -> dict | None:
    found = store.rows("SELECT * FROM devices WHERE device_id = ?", (device_id,))
    if not found:
        return None
    info = found[0]
    info.pop("inventory_digests", None)
    findings = store.rows(
        "SELECT rule, severity, summary, evidence, allowed FROM findings WHERE report_id = ?",
        (info["last_report_id"],))
    for f in findings:
        f["evidence"] = json.loads(f["evidence"])
        f["allowed"] = bool(f["allowed"])
    info["findings"] = findings
    info["verdict_changes"] = store.rows(
        "SELECT changed_at, old_verdict, new_verdict, score, report_id FROM verdict_changes "
        "WHERE device_id = ? ORDER BY changed_at DESC LIMIT ?", (device_id, history))
    info["reports"] = store.rows(
        "SELECT report_id, sequence, collected_at, received_at, peer_ip, verdict, score, replay, size_bytes "
        "FROM reports WHERE device_id = ? ORDER BY received_at DESC LIMIT ?", (device_id, history))
    return info
