"""Stored reports: the batch unit of work ingest writes through, and reading reports back.

Ingest opens one `ReportBatch` per batch (one transaction): it reads a device's state and fleet
findings, decides (replay rule, combined verdict, location rows), and hands the decision to
`write`. Reports of one device in the same batch see each other, being read in that transaction.
"""
from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta, timezone

from google.protobuf import json_format

from farmwatch.collector.storage import blobs, device_states, inventory
from farmwatch.collector.storage.fleet import record_locations, record_scans
from farmwatch.collector.storage.types import Decision, DeviceState, StoredForm
from farmwatch.common.clock import now_rfc3339
from farmwatch.common import delta
from farmwatch.v1 import report_pb2


FLEET_FINDINGS = "SELECT rule, severity, summary, evidence FROM fleet_findings WHERE device_id = ?"


def fleet_findings_of(cursor) -> list[dict]:
    return [{"rule": r, "severity": s, "summary": m, "evidence": e} for r, s, m, e in cursor]


class ReportBatch:
    """The reads and writes of one ingest transaction (see the module docstring)."""

    def __init__(self, conn):
        self.conn = conn

    def is_stored(self, report_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM reports WHERE report_id = ?", (report_id,)).fetchone() is not None

    def device_state(self, device_id: str) -> DeviceState | None:
        row = self.conn.execute(
            "SELECT last_seen, last_sequence, inventory_digests, verdict, last_cert_serial, "
            "(SELECT collected_at FROM reports WHERE report_id = devices.last_report_id), last_report_id "
            "FROM devices WHERE device_id = ?",
            (device_id,),
        ).fetchone()
        return DeviceState(*row) if row is not None else None

    def fleet_findings(self, device_id: str) -> list[dict]:
        return fleet_findings_of(self.conn.execute(FLEET_FINDINGS, (device_id,)))

    def write(self, item, form: StoredForm, decision: Decision, device: DeviceState | None) -> None:
        """Store one new report (`item`: ingest's Incoming, `form`: its `stored_form`) as `decision` says."""
        report = item.report
        _insert_report(self.conn, item, form, decision.replay)
        record_locations(self.conn, decision.locations)
        record_scans(self.conn, decision.scans)
        _insert_findings(self.conn, report.report_id, report.device_id, form.findings)
        if decision.moves_device:
            _update_device(self.conn, item, device, decision.combined)
            device_states.save(self.conn, report.device_id, item.known, form.state)
        else:  # an older report arriving late still counts, and may be the first ever seen
            self.conn.execute("UPDATE devices SET reports = reports + 1, first_seen = min(first_seen, ?) "
                              "WHERE device_id = ?", (item.received_at, report.device_id))

    # -- reclassification: a stored report's verdict replaced -----------------------------
    def replace_findings(self, report_id: str, device_id: str, verdict: dict) -> None:
        self.conn.execute("DELETE FROM findings WHERE report_id = ?", (report_id,))
        _insert_findings(self.conn, report_id, device_id, findings_rows(verdict))
        self.conn.execute("UPDATE reports SET verdict = ?, score = ? WHERE report_id = ?",
                          (verdict["verdict"], verdict["score"], report_id))

    def latest_verdict(self, device_id: str, report_id: str) -> tuple[str | None] | None:
        """(the device's verdict,) when `report_id` is its latest report, else None."""
        return self.conn.execute("SELECT verdict FROM devices WHERE device_id = ? AND last_report_id = ?",
                                 (device_id, report_id)).fetchone()

    def set_device_verdict(self, device_id: str, report_id: str, verdict: dict, combined,
                           old_verdict: str | None) -> None:
        self.conn.execute("UPDATE devices SET verdict = ?, score = ?, verdict_source = ?, own_verdict = ?, "
                          "own_score = ?, input_languages = ? WHERE device_id = ?",
                          (combined.verdict, combined.score, combined.source, verdict["verdict"],
                           verdict["score"], _input_languages(verdict), device_id))
        if old_verdict != combined.verdict:
            self.conn.execute(
                "INSERT INTO verdict_changes (device_id, changed_at, report_id, old_verdict, "
                "new_verdict, score) VALUES (?, ?, ?, ?, ?, ?)",
                (device_id, now_rfc3339(), report_id, old_verdict, combined.verdict, combined.score))


def stored_form(item) -> StoredForm:
    """What `ReportBatch.write` stores of `item` (ingest's Incoming) that needs no transaction.

    The raw report is the report as received (fields this collector does not know dropped): a
    delta report stays a delta, read back in full through its chain (`report_chain`). A full
    report is its own state (`item.known.report is item.report`), so its raw body serves as the
    state's too."""
    raw = (item.delta or item.report).SerializeToString()
    packed = blobs.pack(raw, blobs.RAW_LEVEL)
    state = packed if item.delta is None else device_states.body_of(item.known)
    return StoredForm(packed, len(raw), findings_rows(item.verdict or {}), state)


def findings_rows(verdict: dict) -> list[tuple]:
    return [(f["rule"], f["severity"], f["summary"], json.dumps(f.get("evidence", {}), ensure_ascii=False, default=str),
             int(bool(f.get("evidence", {}).get("allowed")))) for f in verdict.get("findings", [])]


def _insert_report(conn, item, form: StoredForm, replay: bool) -> None:
    report = item.report
    verdict = item.verdict or {}
    conn.execute(
        "INSERT INTO reports (report_id, device_id, sequence, collected_at, received_at, peer_ip, "
        "cert_serial, gateway_mac, wifi_bssid, timezone, size_bytes, verdict, score, replay, "
        "clock_skew_seconds, base_report_id, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            report.report_id, report.device_id, report.sequence,
            report.collected_at.ToJsonString() if report.HasField("collected_at") else None,
            item.received_at, item.peer_ip, item.cert_serial,
            report.network.default_gateway.mac or None, report.network.wifi.bssid or None,
            report.host.timezone or None, form.raw_size, verdict.get("verdict"), verdict.get("score"),
            int(replay), clock_skew_seconds(item), item.delta.delta.base_report_id if item.delta else None, form.raw,
        ),
    )


def _insert_findings(conn, report_id: str, device_id: str, rows: list[tuple]) -> None:
    if rows:
        conn.executemany("INSERT INTO findings (report_id, device_id, rule, severity, summary, evidence, allowed) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", [(report_id, device_id, *row) for row in rows])


def _update_device(conn, item, device: DeviceState | None, combined) -> None:
    report = item.report
    previous_seen = device.last_seen if device else None
    digests_json = device.inventory_digests if device else None
    old_verdict = device.verdict if device else None
    digests = inventory.apply(  # a delta's base is the device's latest report: its digests are the base's
        conn, report.device_id, report.report_id, item.received_at, previous_seen, report,
        json.loads(digests_json) if digests_json else {}, item.known.inventory(),
    )
    verdict = item.verdict or {}
    host = report.host
    values = {
        "device_id": report.device_id, "hostname": host.hostname, "os": host.os,
        "os_version": host.os_version, "hardware_model": host.hardware_model,
        "agent_version": host.agent_version, "timezone": host.timezone,
        "last_seen": item.received_at, "last_report_id": report.report_id,
        "last_sequence": report.sequence, "last_peer_ip": item.peer_ip,
        "last_cert_serial": item.cert_serial, "inventory_digests": json.dumps(digests),
        "input_languages": _input_languages(verdict), "own_verdict": verdict.get("verdict"),
        "own_score": verdict.get("score"), "clock_skew_seconds": clock_skew_seconds(item),
        "verdict": combined and combined.verdict,
        "score": combined and combined.score, "verdict_source": combined and combined.source,
    }
    conn.execute(_upsert_device(tuple(values)), (*values.values(), item.received_at))
    if combined and combined.verdict != old_verdict:
        conn.execute(
            "INSERT INTO verdict_changes (device_id, changed_at, report_id, old_verdict, new_verdict, score) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (report.device_id, item.received_at, report.report_id, old_verdict,
             combined.verdict, combined.score),
        )


@functools.cache
def _upsert_device(columns: tuple[str, ...]) -> str:
    kept = ("verdict", "score", "own_verdict", "own_score", "verdict_source", "input_languages")
    updates = ", ".join(f"{c} = coalesce(excluded.{c}, devices.{c})" if c in kept else f"{c} = excluded.{c}"
                        for c in columns if c != "device_id")
    return (f"INSERT INTO devices ({', '.join(columns)}, first_seen, reports) "
            f"VALUES ({', '.join('?' * len(columns))}, ?, 1) "
            f"ON CONFLICT(device_id) DO UPDATE SET {updates}, reports = devices.reports + 1, "
            f"first_seen = min(devices.first_seen, excluded.first_seen)")


def clock_skew_seconds(item) -> float | None:
    """received_at − collected_at: how far the agent's clock runs behind ours (negative: ahead).

    It includes the time a report waited in the agent's spool, so a large positive value on one
    report may be a delivery delay; on a device's latest report, normally sent as soon as it is
    made, it is the clock's skew. None when either time is missing or unreadable.
    """
    if not item.report.HasField("collected_at"):
        return None
    try:
        received = datetime.fromisoformat(item.received_at.replace("Z", "+00:00"))
        collected = item.report.collected_at.ToDatetime(tzinfo=received.tzinfo)
    except (ValueError, TypeError, OverflowError):
        return None
    return round((received - collected).total_seconds(), 3) if received.tzinfo else None


def _input_languages(verdict: dict) -> str | None:
    """Input languages the report's `input-language` findings named, comma-joined ("" for none)."""
    if not verdict:
        return None
    found = [f["evidence"].get("language") for f in verdict.get("findings", [])
             if f["rule"] == "input-language" and f.get("evidence")]
    return ",".join(sorted(set(filter(None, found))))


# -- reading reports back --------------------------------------------------------------------

def prune_raw(conn, older_than_days: int) -> int:
    """Drop raw reports older than the retention; each device's latest raw report stays (see
    `Storage.prune_raw`), and so does every report a kept delta is rebuilt from: a raw report goes
    only once a later full report of its device that moved it (replay = 0) is itself past the
    retention. Runs in the caller's transaction."""
    cutoff = (datetime.now(timezone.utc) - timedelta(days=older_than_days)).isoformat()
    cursor = conn.execute(
        "UPDATE reports SET raw = NULL WHERE raw IS NOT NULL AND received_at < ? "
        "AND report_id NOT IN (SELECT last_report_id FROM devices) "
        "AND EXISTS (SELECT 1 FROM reports later WHERE later.device_id = reports.device_id "
        "AND later.base_report_id IS NULL AND later.replay = 0 AND later.received_at > reports.received_at "
        "AND later.received_at < ?)", (cutoff, cutoff))
    return cursor.rowcount


def report_chain(conn, report_id: str | None) -> list[tuple[str, str, report_pb2.AgentReport]] | None:
    """(report_id, received_at, report as stored) from the full report `report_id` is built on to
    `report_id` itself; None when a link is unknown or past retention."""
    chain = []
    while report_id:
        row = conn.execute("SELECT received_at, base_report_id, raw FROM reports WHERE report_id = ?",
                           (report_id,)).fetchone()
        if row is None or row[2] is None:
            return None
        chain.append((report_id, row[0], decode_raw(row[2])))
        report_id = row[1]
    return chain[::-1] or None


def full_report(conn, report_id: str, report: report_pb2.AgentReport,
                known: dict[str, _LazyState] | None = None) -> report_pb2.AgentReport | None:
    """`report` (stored under `report_id`) in full: itself, or its delta applied to its base
    (from `known`, report id → state, when there; else rebuilt from the chain). None when its
    chain is past retention. `known` learns this report's state."""
    if not report.HasField("delta"):
        if known is not None:
            known[report_id] = _LazyState(report)
        return report
    base = known.get(report.delta.base_report_id) if known is not None else None
    if base is not None:
        state = base.state().apply(report)
    else:
        chain = report_chain(conn, report_id)
        if chain is None:
            return None
        state = delta.DeviceState.of_chain([stored for _, _, stored in chain])
    if known is not None:
        known[report_id] = _LazyState(state.report, state)
    return state.report


class _LazyState:
    """A stored report's state whose item digests are made only if a delta is built on it."""

    def __init__(self, report, state: delta.DeviceState | None = None):
        self.report, self._state = report, state

    def state(self) -> delta.DeviceState:
        if self._state is None:
            self._state = delta.DeviceState.of(self.report)
        return self._state


_KNOWN_STATES = 256  # reports whose states stored_reports keeps, for the deltas built on them


def stored_reports(reader, batch: int = 500):
    """(report_id, device_id, report in full) for every stored report, oldest first; one whose
    chain is past retention is left out, as a raw report past retention is."""
    last = 0
    known: dict[str, _LazyState] = {}
    while True:
        conn = reader()
        rows = conn.execute(
            "SELECT rowid, report_id, device_id, raw FROM reports WHERE rowid > ? AND raw IS NOT NULL "
            "ORDER BY rowid LIMIT ?",
            (last, batch)).fetchall()
        if not rows:
            return
        for _rowid, report_id, device_id, raw in rows:
            report = full_report(conn, report_id, decode_raw(raw), known)
            while len(known) > _KNOWN_STATES:
                del known[next(iter(known))]
            if report is not None:
                yield report_id, device_id, report
        last = rows[-1][0]


def envelope(conn, report_id: str) -> dict | None:
    row = conn.execute(
        "SELECT received_at, peer_ip, raw FROM reports WHERE report_id = ?", (report_id,)
    ).fetchone()
    if row is None or row[2] is None:  # unknown, or its raw report is past retention
        return None
    report = full_report(conn, report_id, decode_raw(row[2]))
    return make_envelope(row[0], row[1], report) if report is not None else None


def decode_raw(blob: bytes) -> report_pb2.AgentReport:
    report = report_pb2.AgentReport()
    report.ParseFromString(blobs.unpack(blob))
    return report


def make_envelope(received_at: str, peer_ip: str, report) -> dict:
    return {
        "received_at": received_at,
        "peer_ip": peer_ip,
        "report": json_format.MessageToDict(report, preserving_proto_field_name=True),
    }
