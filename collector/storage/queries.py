"""The security team's reads: devices, one device in depth, current flags, clusters (`collector.queries`).

Rows come back as dicts; JSON columns (evidence) decoded. A descending order says NULLS LAST:
SQLite puts NULLs last there by itself, PostgreSQL first.
"""
from __future__ import annotations

import json

from farmwatch.collector.queries import CLUSTER_COLUMNS, DEVICE_COLUMNS
from farmwatch.collector.storage import triage
from farmwatch.common.vocabulary import SEVERITIES, VERDICTS, TriageState, Verdict

# Strongest first; the words come from the one vocabulary.
_SEVERITY_ORDER = ("CASE {0}severity "
                   + " ".join(f"WHEN '{word}' THEN {rank}" for rank, word in enumerate(reversed(SEVERITIES)))
                   + f" ELSE {len(SEVERITIES)} END")
_FLAGGED_VERDICTS = tuple(verdict for verdict in VERDICTS if verdict != Verdict.CLEAN)
_FLAGGED = ", ".join(f"'{verdict}'" for verdict in _FLAGGED_VERDICTS)  # 'suspicious', 'relay'
_PERSON = "coalesce(r.email, lower(r.user_name))"
# A flagged device nobody has triaged yet is `new`; a clean one without a triage row has no state.
_TRIAGE = f"coalesce(t.state, CASE WHEN d.verdict IN ({_FLAGGED}) THEN '{TriageState.NEW}' END)"


def devices(conn, verdict: str | None = None, cluster: str | None = None,
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
    return _rows(conn,
        f"SELECT {', '.join('d.' + c for c in DEVICE_COLUMNS[:-2])}, {_TRIAGE} AS triage, t.assignee, "
        "d.first_seen, d.os_version, d.hardware_model, "
        f"d.timezone, d.own_verdict, d.own_score, d.verdict_source, {_PERSON} AS assigned_to FROM devices d "
        f"LEFT JOIN roster r ON r.serial = upper(trim(d.device_id)) {_JOIN_TRIAGE} {clause} "
        "ORDER BY d.score DESC NULLS LAST, d.device_id", params)


def flags(conn) -> list[dict]:
    """Every finding of each flagged device's latest report, and the fleet's findings, worst first;
    allowed ones left out. `source` is "report" or "fleet"."""
    rows = _rows(conn,
        "SELECT * FROM ("
        "SELECT d.device_id, d.hostname, d.verdict, d.score, f.severity, f.rule, f.summary, "
        f"r.received_at, {_TRIAGE} AS triage, t.assignee, f.report_id, f.evidence, 'report' AS source FROM devices d "
        "JOIN findings f ON f.report_id = d.last_report_id "
        f"{_JOIN_TRIAGE} "
        "JOIN reports r ON r.report_id = d.last_report_id "
        f"WHERE d.verdict IN ({_FLAGGED}) AND f.allowed = 0 "
        "UNION ALL "
        "SELECT ff.device_id, d.hostname, d.verdict, d.score, ff.severity, ff.rule, ff.summary, "
        f"ff.computed_at, coalesce(t.state, '{TriageState.NEW}'), t.assignee, NULL, ff.evidence, 'fleet' "
        "FROM fleet_findings ff LEFT JOIN devices d ON d.device_id = ff.device_id "
        "LEFT JOIN triage t ON t.device_id = ff.device_id "
        f"WHERE d.device_id IS NULL OR d.verdict IN ({_FLAGGED})) AS flagged "
        f"ORDER BY score DESC NULLS LAST, device_id, {_SEVERITY_ORDER.format('')}, source DESC, rule")
    for row in rows:
        row["evidence"] = json.loads(row["evidence"])
    return rows


def device(conn, device_id: str, history: int = 20) -> dict | None:
    found = _rows(conn, "SELECT * FROM devices WHERE device_id = ?", (device_id,))
    if not found:
        return None
    info = found[0]
    info.pop("inventory_digests", None)
    info.pop("rowid", None)  # a column of its own on PostgreSQL (postgres_schema)
    findings = _rows(conn,
        "SELECT rule, severity, summary, evidence, allowed FROM findings WHERE report_id = ?",
        (info["last_report_id"],))
    for f in findings:
        f["evidence"] = json.loads(f["evidence"])
        f["allowed"] = bool(f["allowed"])
    info["findings"] = findings
    info["fleet_findings"] = fleet_findings(conn, device_id)
    info["triage"] = triage_of(conn, device_id, info["verdict"])
    info["triage_history"] = triage.history(conn, device_id)
    info["clusters"] = _rows(conn,
        "SELECT c.cluster_id, c.kind, c.value, c.score, c.severity, c.status, m.first_seen, m.last_seen "
        "FROM cluster_members m JOIN clusters c USING (cluster_id) WHERE m.device_id = ? "
        "ORDER BY c.status, c.score DESC NULLS LAST", (device_id,))
    info["verdict_changes"] = _rows(conn,
        "SELECT changed_at, old_verdict, new_verdict, score, report_id FROM verdict_changes "
        "WHERE device_id = ? ORDER BY changed_at DESC LIMIT ?", (device_id, history))
    info["report_count"] = info["reports"]  # the devices column; "reports" becomes the recent ones
    info["reports"] = _rows(conn,
        "SELECT report_id, sequence, collected_at, received_at, peer_ip, verdict, score, replay, size_bytes "
        "FROM reports WHERE device_id = ? ORDER BY received_at DESC LIMIT ?", (device_id, history))
    return info


def triage_of(conn, device_id: str, verdict: str | None) -> dict:
    """A device's triage now: its row, or `new` for a flagged device nobody has triaged yet."""
    row = triage.current(conn, device_id)
    if row:
        return row
    return {"device_id": device_id, "state": TriageState.NEW.value if verdict in _FLAGGED_VERDICTS else None,
            "assignee": None, "updated_at": None, "updated_by": None}


def fleet_findings(conn, device_id: str | None = None) -> list[dict]:
    """Fleet findings of one device (or all, worst first), including roster devices that never reported."""
    where, params = ("WHERE device_id = ?", (device_id,)) if device_id else ("", ())
    rows = _rows(conn,
        f"SELECT device_id, rule, severity, summary, evidence, cluster_id, computed_at FROM fleet_findings {where} "
        f"ORDER BY {_SEVERITY_ORDER.format('')}, device_id, rule", params)
    for row in rows:
        row["evidence"] = json.loads(row["evidence"])
    return rows


def clusters(conn, include_inactive: bool = False, min_score: int = 0) -> list[dict]:
    """Clusters, strongest first, each with its member device ids."""
    where = "WHERE score >= ?" + ("" if include_inactive else " AND status = 'active'")
    rows = _rows(conn, f"SELECT {', '.join(CLUSTER_COLUMNS[:6])}, first_seen, last_seen, status, households, "
                      f"relay_members, suspicious_members FROM clusters {where} "
                      "ORDER BY score DESC NULLS LAST, cluster_id",
                      (min_score,))
    members = {}
    for row in _rows(conn, "SELECT cluster_id, device_id FROM cluster_members ORDER BY device_id"):
        members.setdefault(row["cluster_id"], []).append(row["device_id"])
    for row in rows:
        row["devices"] = members.get(row["cluster_id"], [])
    return rows


def cluster(conn, cluster_id: str, history: int = 100) -> dict | None:
    """One cluster: its key and score, members with their people and verdicts, and its history."""
    found = _rows(conn, "SELECT * FROM clusters WHERE cluster_id = ?", (cluster_id,))
    if not found:
        return None
    info = found[0]
    info.pop("rowid", None)
    info["members"] = _rows(conn,
        "SELECT m.device_id, d.hostname, m.person, m.on_roster, d.verdict, d.own_verdict, d.verdict_source, "
        "m.first_seen, m.last_seen, m.reports, r.city, r.region, r.country FROM cluster_members m "
        "LEFT JOIN devices d USING (device_id) LEFT JOIN roster r ON r.serial = upper(trim(m.device_id)) "
        "WHERE m.cluster_id = ? ORDER BY m.device_id", (cluster_id,))
    info["events"] = _rows(conn,
        "SELECT at, event, device_id, detail FROM cluster_events WHERE cluster_id = ? ORDER BY at DESC, rowid DESC "
        "LIMIT ?", (cluster_id, history))
    return info


def verdict_counts(conn) -> dict[str, int]:
    """verdict -> how many devices have it now (`reclassify`'s summary)."""
    return {verdict: n for verdict, n in conn.execute("SELECT verdict, count(*) AS n FROM devices GROUP BY verdict")}


_JOIN_TRIAGE = "LEFT JOIN triage t ON t.device_id = d.device_id"


def _rows(conn, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values)) for values in cursor]


def department_of(conn, serial: str) -> str | None:
    """The roster's department for a serial, None when it has none (or no roster was imported)."""
    import sqlite3

    try:
        row = conn.execute("SELECT department FROM roster WHERE serial = ?", (serial,)).fetchone()
    except sqlite3.OperationalError:  # no roster imported yet
        return None
    department = (row[0] or "").strip() if row else ""
    return department or None
