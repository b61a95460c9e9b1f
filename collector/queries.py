"""What the security team asks of the database: devices, one device in depth, current flags, clusters.

A device's `verdict`/`score` are combined with its fleet findings (`farmwatch.collector.fleet.verdict`);
`own_verdict`/`own_score` are its latest report's alone and `verdict_source` says which decided.
"""
from __future__ import annotations

import json

from farmwatch.collector.store import Store

DEVICE_COLUMNS = ("device_id", "hostname", "os", "verdict", "score", "last_seen", "last_peer_ip",
                  "reports", "agent_version")
FLAG_COLUMNS = ("device_id", "hostname", "verdict", "score", "severity", "rule", "summary", "received_at")
CLUSTER_COLUMNS = ("cluster_id", "kind", "value", "score", "severity", "people", "devices", "first_seen",
                   "last_seen", "status")
_SEVERITY_ORDER = "CASE {0}severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 " \
                  "WHEN 'low' THEN 3 ELSE 4 END"
_PERSON = "coalesce(r.email, lower(r.user_name))"


def devices(store: Store, verdict: str | None = None, cluster: str | None = None,
            user: str | None = None) -> list[dict]:
    """Devices, worst first. `cluster`: members of that cluster id; `user`: devices the roster
    assigns to that e-mail or name (case-insensitive)."""
    where, params = [], []
    if verdict:
        where.append("d.verdict = ?")
        params.append(verdict)
    if cluster:
        where.append("d.device_id IN (SELECT device_id FROM cluster_members WHERE cluster_id = ?)")
        params.append(cluster)
    if user:
        where.append(f"({_PERSON} = lower(?) OR lower(r.user_name) = lower(?))")
        params += [user.strip(), user.strip()]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return store.rows(
        f"SELECT {', '.join('d.' + c for c in DEVICE_COLUMNS)}, d.first_seen, d.os_version, d.hardware_model, "
        f"d.timezone, d.own_verdict, d.own_score, d.verdict_source, {_PERSON} AS assigned_to FROM devices d "
        f"LEFT JOIN roster r ON r.serial = upper(trim(d.device_id)) {clause} "
        "ORDER BY d.score DESC, d.device_id", params)


def flags(store: Store) -> list[dict]:
    """Every finding of each flagged device's latest report, and the fleet's findings, worst first;
    allowed ones left out. `source` is "report" or "fleet"."""
    rows = store.rows(
        "SELECT * FROM ("
        "SELECT d.device_id, d.hostname, d.verdict, d.score, f.severity, f.rule, f.summary, "
        "r.received_at, f.report_id, f.evidence, 'report' AS source FROM devices d "
        "JOIN findings f ON f.report_id = d.last_report_id "
        "JOIN reports r ON r.report_id = d.last_report_id "
        "WHERE d.verdict IN ('suspicious', 'relay') AND f.allowed = 0 "
        "UNION ALL "
        "SELECT ff.device_id, d.hostname, d.verdict, d.score, ff.severity, ff.rule, ff.summary, "
        "ff.computed_at, NULL, ff.evidence, 'fleet' FROM fleet_findings ff "
        "LEFT JOIN devices d ON d.device_id = ff.device_id "
        "WHERE d.device_id IS NULL OR d.verdict IN ('suspicious', 'relay')) "
        f"ORDER BY score DESC, device_id, {_SEVERITY_ORDER.format('')}")
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
    info["fleet_findings"] = fleet_findings(store, device_id)
    info["clusters"] = store.rows(
        "SELECT c.cluster_id, c.kind, c.value, c.score, c.severity, c.status, m.first_seen, m.last_seen "
        "FROM cluster_members m JOIN clusters c USING (cluster_id) WHERE m.device_id = ? "
        "ORDER BY c.status, c.score DESC", (device_id,))
    info["verdict_changes"] = store.rows(
        "SELECT changed_at, old_verdict, new_verdict, score, report_id FROM verdict_changes "
        "WHERE device_id = ? ORDER BY changed_at DESC LIMIT ?", (device_id, history))
    info["report_count"] = info["reports"]  # the devices column; "reports" becomes the recent ones
    info["reports"] = store.rows(
        "SELECT report_id, sequence, collected_at, received_at, peer_ip, verdict, score, replay, size_bytes "
        "FROM reports WHERE device_id = ? ORDER BY received_at DESC LIMIT ?", (device_id, history))
    return info


def fleet_findings(store: Store, device_id: str | None = None) -> list[dict]:
    """Fleet findings of one device (or all, worst first), including roster devices that never reported."""
    where, params = ("WHERE device_id = ?", (device_id,)) if device_id else ("", ())
    rows = store.rows(
        f"SELECT device_id, rule, severity, summary, evidence, cluster_id, computed_at FROM fleet_findings {where} "
        f"ORDER BY {_SEVERITY_ORDER.format('')}, device_id, rule", params)
    for row in rows:
        row["evidence"] = json.loads(row["evidence"])
    return rows


def clusters(store: Store, include_inactive: bool = False, min_score: int = 0) -> list[dict]:
    """Clusters, strongest first, each with its member device ids."""
    where = "WHERE score >= ?" + ("" if include_inactive else " AND status = 'active'")
    rows = store.rows(f"SELECT {', '.join(CLUSTER_COLUMNS[:6])}, first_seen, last_seen, status, households, "
                      f"relay_members, suspicious_members FROM clusters {where} ORDER BY score DESC, cluster_id",
                      (min_score,))
    members = {}
    for row in store.rows("SELECT cluster_id, device_id FROM cluster_members ORDER BY device_id"):
        members.setdefault(row["cluster_id"], []).append(row["device_id"])
    for row in rows:
        row["devices"] = members.get(row["cluster_id"], [])
    return rows


def cluster(store: Store, cluster_id: str, history: int = 100) -> dict | None:
    """One cluster: its key and score, members with their people and verdicts, and its history."""
    found = store.rows("SELECT * FROM clusters WHERE cluster_id = ?", (cluster_id,))
    if not found:
        return None
    info = found[0]
    info["members"] = store.rows(
        "SELECT m.device_id, d.hostname, m.person, m.on_roster, d.verdict, d.own_verdict, d.verdict_source, "
        "m.first_seen, m.last_seen, m.reports, r.city, r.region, r.country FROM cluster_members m "
        "LEFT JOIN devices d USING (device_id) LEFT JOIN roster r ON r.serial = upper(trim(m.device_id)) "
        "WHERE m.cluster_id = ? ORDER BY m.device_id", (cluster_id,))
    info["events"] = store.rows(
        "SELECT at, event, device_id, detail FROM cluster_events WHERE cluster_id = ? ORDER BY at DESC, rowid DESC "
        "LIMIT ?", (cluster_id, history))
    return info
