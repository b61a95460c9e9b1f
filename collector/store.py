"""The collector's SQLite database: enrollment records, stored reports, device state, findings.

The schema is made through sqlite-utils (readable, migratable); the ingest hot path uses plain
`sqlite3` statements in one transaction per batch. Writes go through one connection owned by one
thread at a time (the ingest writer or a CLI command); readers open their own connections, which
WAL lets run beside the writer. Other storage backends implement the same public methods.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils
from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from farmwatch.collector import inventory
from farmwatch.collector.fleet import schema as fleet_schema
from farmwatch.collector.fleet.verdict import combine, fleet_findings_of
from farmwatch.collector.storage import roster
from farmwatch.v1 import report_pb2

SCHEMA_VERSION = 5


class StoreFull(Exception):
    """The database cannot grow (disk full or size limit); nothing of the batch was stored."""


@dataclass
class Incoming:
    """One report as received, with what the collector itself observed."""

    report: report_pb2.AgentReport
    received_at: str  # RFC 3339
    peer_ip: str
    cert_serial: str = ""
    verdict: dict | None = None  # classify() output, computed before the write
    raw: bytes | None = None  # serialized report when the caller already has it
    replay: bool = field(default=False, init=False)


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def now_rfc3339() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        self.conn = connect(self.path)
        if new:
            self.path.chmod(0o600)
        self.db = sqlite_utils.Database(self.conn)
        self._write_lock = threading.RLock()
        self._migrate()
        self._readers = threading.local()

    def close(self) -> None:
        self.conn.close()

    # -- schema -------------------------------------------------------------------------
    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version >= SCHEMA_VERSION:
            return
        with self.transaction():
            if version and version < 3:  # the fleet columns first: the schema indexes them
                _add_missing_columns(self.db, _FLEET_DEVICE_COLUMNS, ("devices",))
            _create_schema(self.db)
            if version and version < 3:
                _backfill_fleet(self.db)
            if version and version < 4:
                _add_missing_columns(self.db, _CLOCK_SKEW_COLUMN, ("reports", "devices"))
            if version and version < 5:  # exact day counts, the BSSID beside each location
                fleet_schema.rebuild_locations(self.db)
            self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def transaction(self):
        """One write transaction on the writer connection. The ingest writer, enrollment in RPC
        threads and CLI commands share that connection, so one thread at a time holds it."""
        with self._write_lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:  # SQLite has already rolled back after e.g. SQLITE_FULL
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def reader(self) -> sqlite3.Connection:
        """A connection for the calling thread, for lookups beside the writer."""
        conn = getattr(self._readers, "conn", None)
        if conn is None:
            conn = self._readers.conn = connect(self.path)
        return conn

    # -- ingest -------------------------------------------------------------------------
    def ingest(self, batch: list[Incoming]) -> list[bool]:
        """Store a batch in one transaction; returns, per report, whether it was new.

        A report whose `report_id` is already stored is a duplicate: it succeeds and changes
        nothing. Raises StoreFull (and stores nothing) when the database cannot grow.
        """
        try:
            with self.transaction() as conn:
                return [self._ingest_one(conn, item) for item in batch]
        except sqlite3.OperationalError as exc:
            if "full" in str(exc):
                raise StoreFull(str(exc)) from exc
            raise

    def _ingest_one(self, conn, item: Incoming) -> bool:
        report = item.report
        if conn.execute("SELECT 1 FROM reports WHERE report_id = ?", (report.report_id,)).fetchone():
            return False
        device = conn.execute(
            "SELECT last_seen, last_sequence, inventory_digests, verdict, last_cert_serial, "
            "(SELECT collected_at FROM reports WHERE report_id = devices.last_report_id) "
            "FROM devices WHERE device_id = ?",
            (report.device_id,),
        ).fetchone()
        # Sequences count per certificate (a re-enrolled agent with a fresh state directory starts
        # again at 1). A report at or below the last sequence is marked a replay. It moves the
        # device's state only if it was collected after the last one: that is an agent whose
        # outbox was wiped (so its count restarted), not an old report sent again — otherwise
        # wiping the spool would freeze the device's verdict.
        item.replay = (
            device is not None and device[4] == item.cert_serial and report.sequence <= (device[1] or 0)
        )
        stale = item.replay and not _collected_after(report, device[5])
        self._insert_report(conn, item)
        fleet_schema.record_locations(conn, fleet_schema.location_rows(
            report.device_id, item.received_at, item.peer_ip, report.network.default_gateway.mac,
            report.network.wifi.bssid))
        if item.verdict is not None:
            self._insert_findings(conn, report, item.verdict)
        if not stale:
            self._update_device(conn, item, device)
        else:  # an older report arriving late still counts, and may be the first ever seen
            conn.execute("UPDATE devices SET reports = reports + 1, first_seen = min(first_seen, ?) "
                         "WHERE device_id = ?", (item.received_at, report.device_id))
        return True

    def _insert_report(self, conn, item: Incoming) -> None:
        report = item.report
        raw = item.raw if item.raw is not None else report.SerializeToString()
        verdict = item.verdict or {}
        conn.execute(
            "INSERT INTO reports (report_id, device_id, sequence, collected_at, received_at, peer_ip, "
            "cert_serial, gateway_mac, wifi_bssid, timezone, size_bytes, verdict, score, replay, "
            "clock_skew_seconds, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                report.report_id, report.device_id, report.sequence,
                report.collected_at.ToJsonString() if report.HasField("collected_at") else None,
                item.received_at, item.peer_ip, item.cert_serial,
                report.network.default_gateway.mac or None, report.network.wifi.bssid or None,
                report.host.timezone or None, len(raw), verdict.get("verdict"), verdict.get("score"),
                int(item.replay), clock_skew_seconds(item), zlib.compress(raw, 6),
            ),
        )

    def _insert_findings(self, conn, report, verdict: dict) -> None:
        conn.executemany(
            "INSERT INTO findings (report_id, device_id, rule, severity, summary, evidence, allowed) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (report.report_id, report.device_id, f["rule"], f["severity"], f["summary"],
                 json.dumps(f.get("evidence", {}), ensure_ascii=False, default=str),
                 int(bool(f.get("evidence", {}).get("allowed"))))
                for f in verdict.get("findings", [])
            ],
        )

    def _update_device(self, conn, item: Incoming, device) -> None:
        report = item.report
        previous_seen, _, digests_json, old_verdict = (device or (None, 0, None, None))[:4]
        digests = inventory.apply(
            conn, report.device_id, report.report_id, item.received_at, previous_seen, report,
            json.loads(digests_json) if digests_json else {},
        )
        verdict = item.verdict or {}
        combined = self._combined(conn, report.device_id, verdict)
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
        kept = ("verdict", "score", "own_verdict", "own_score", "verdict_source", "input_languages")
        updates = ", ".join(
            f"{c} = coalesce(excluded.{c}, devices.{c})" if c in kept else f"{c} = excluded.{c}"
            for c in values if c != "device_id"
        )
        conn.execute(
            f"INSERT INTO devices ({', '.join(values)}, first_seen, reports) "
            f"VALUES ({', '.join('?' * len(values))}, ?, 1) "
            f"ON CONFLICT(device_id) DO UPDATE SET {updates}, reports = devices.reports + 1, "
            f"first_seen = min(devices.first_seen, excluded.first_seen)",
            (*values.values(), item.received_at),
        )
        if combined and combined.verdict != old_verdict:
            conn.execute(
                "INSERT INTO verdict_changes (device_id, changed_at, report_id, old_verdict, new_verdict, score) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (report.device_id, item.received_at, report.report_id, old_verdict,
                 combined.verdict, combined.score),
            )

    @staticmethod
    def _combined(conn, device_id: str, verdict: dict):
        """The report's own verdict combined with the device's stored fleet findings."""
        if not verdict:
            return None
        return combine(verdict.get("verdict"), verdict.get("score"), verdict.get("findings", []),
                       fleet_findings_of(conn, device_id))

    def replace_verdict(self, report_id: str, device_id: str, verdict: dict) -> None:
        """Store a re-computed verdict for a stored report (after a catalogue or rule update)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM findings WHERE report_id = ?", (report_id,))
            self._insert_findings(conn, _Ids(report_id, device_id), verdict)
            conn.execute("UPDATE reports SET verdict = ?, score = ? WHERE report_id = ?",
                         (verdict["verdict"], verdict["score"], report_id))
            row = conn.execute(
                "SELECT verdict FROM devices WHERE device_id = ? AND last_report_id = ?",
                (device_id, report_id)).fetchone()
            if row is None:
                return
            combined = self._combined(conn, device_id, verdict)
            conn.execute("UPDATE devices SET verdict = ?, score = ?, verdict_source = ?, own_verdict = ?, "
                         "own_score = ?, input_languages = ? WHERE device_id = ?",
                         (combined.verdict, combined.score, combined.source, verdict["verdict"],
                          verdict["score"], _input_languages(verdict), device_id))
            if row[0] != combined.verdict:
                conn.execute(
                    "INSERT INTO verdict_changes (device_id, changed_at, report_id, old_verdict, "
                    "new_verdict, score) VALUES (?, ?, ?, ?, ?, ?)",
                    (device_id, now_rfc3339(), report_id, row[0], combined.verdict, combined.score))

    def prune_raw(self, older_than_days: int) -> int:
        """Drop raw reports older than the retention; each device's latest raw report stays.

        Device state, inventory, findings and the reports' own rows are kept. Returns how many
        raw reports were dropped.
        """
        if older_than_days <= 0:
            return 0
        from datetime import datetime, timedelta, timezone

        cutoff = (datetime.now(timezone.utc) - timedelta(days=older_than_days)).isoformat()
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE reports SET raw = NULL WHERE raw IS NOT NULL AND received_at < ? "
                "AND report_id NOT IN (SELECT last_report_id FROM devices)", (cutoff,))
        return cursor.rowcount

    def stored_reports(self, batch: int = 500):
        """(report_id, device_id, report) for every stored report, oldest first."""
        last = 0
        while True:
            rows = self.reader().execute(
                "SELECT rowid, report_id, device_id, raw FROM reports WHERE rowid > ? AND raw IS NOT NULL "
                "ORDER BY rowid LIMIT ?",
                (last, batch)).fetchall()
            if not rows:
                return
            for rowid, report_id, device_id, raw in rows:
                yield report_id, device_id, decode_raw(raw)
            last = rows[-1][0]

    # -- reading ------------------------------------------------------------------------
    def envelope(self, report_id: str) -> dict | None:
        row = self.reader().execute(
            "SELECT received_at, peer_ip, raw FROM reports WHERE report_id = ?", (report_id,)
        ).fetchone()
        if row is None or row[2] is None:  # unknown, or its raw report is past retention
            return None
        return make_envelope(row[0], row[1], decode_raw(row[2]))

    def rows(self, sql: str, params=()) -> list[dict]:
        cursor = self.reader().execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values)) for values in cursor]

    def count(self, table: str) -> int:
        return self.reader().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def clock_skew_seconds(item: Incoming) -> float | None:
    """received_at − collected_at: how far the agent's clock runs behind ours (negative: ahead).

    It includes the time a report waited in the agent's spool, so a large positive value on one
    report may be a delivery delay; on a device's latest report, normally sent as soon as it is
    made, it is the clock's skew. None when either time is missing or unreadable.
    """
    from datetime import datetime

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


@dataclass
class _Ids:
    report_id: str
    device_id: str


def _collected_after(report, last_collected_at: str | None) -> bool:
    if not report.HasField("collected_at") or not last_collected_at:
        return False
    last = Timestamp()
    last.FromJsonString(last_collected_at)
    return report.collected_at.ToNanoseconds() > last.ToNanoseconds()


def decode_raw(blob: bytes) -> report_pb2.AgentReport:
    report = report_pb2.AgentReport()
    report.ParseFromString(zlib.decompress(blob))
    return report


def make_envelope(received_at: str, peer_ip: str, report) -> dict:
    return {
        "received_at": received_at,
        "peer_ip": peer_ip,
        "report": json_format.MessageToDict(report, preserving_proto_field_name=True),
    }


def _create_schema(db: sqlite_utils.Database) -> None:
    db["tokens"].create(
        {"token_id": str, "token_hash": str, "created_at": str, "expires_at": str, "uses_allowed": int,
         "uses": int, "allow_reenroll": int, "note": str, "revoked_at": str},
        pk="token_id", if_not_exists=True,
    )
    db["tokens"].create_index(["token_hash"], unique=True, if_not_exists=True)
    db["certificates"].create(
        {"serial": str, "subject": str, "role": str, "issued_at": str, "not_after": str,
         "revoked_at": str, "revoked_reason": str, "token_id": str, "peer_ip": str},
        pk="serial", if_not_exists=True,
    )
    db["certificates"].create_index(["subject", "role"], if_not_exists=True)
    db["devices"].create(
        {"device_id": str, "hostname": str, "os": str, "os_version": str, "hardware_model": str,
         "agent_version": str, "timezone": str, "first_seen": str, "last_seen": str,
         "last_report_id": str, "last_sequence": int, "last_peer_ip": str, "last_cert_serial": str,
         "reports": int,
         # verdict/score: combined with the fleet's findings (fleet.verdict); own_*: latest report alone
         "verdict": str, "score": int, "inventory_digests": str, **_FLEET_DEVICE_COLUMNS,
         **_CLOCK_SKEW_COLUMN},
        pk="device_id", if_not_exists=True,
    )
    db["devices"].create_index(["verdict"], if_not_exists=True)
    db["reports"].create(
        {"report_id": str, "device_id": str, "sequence": int, "collected_at": str, "received_at": str,
         "peer_ip": str, "cert_serial": str, "gateway_mac": str, "wifi_bssid": str, "timezone": str,
         "size_bytes": int, "verdict": str, "score": int, "replay": int, **_CLOCK_SKEW_COLUMN, "raw": bytes},
        pk="report_id", if_not_exists=True,
    )
    db["reports"].create_index(["device_id", "received_at"], if_not_exists=True)
    db["findings"].create(
        {"report_id": str, "device_id": str, "rule": str, "severity": str, "summary": str,
         "evidence": str, "allowed": int},
        if_not_exists=True,
    )
    db["findings"].create_index(["report_id"], if_not_exists=True)
    db["verdict_changes"].create(
        {"device_id": str, "changed_at": str, "report_id": str, "old_verdict": str,
         "new_verdict": str, "score": int},
        if_not_exists=True,
    )
    db["verdict_changes"].create_index(["device_id", "changed_at"], if_not_exists=True)
    db["enrollments"].create(
        {"at": str, "device_id": str, "outcome": str, "detail": str, "cert_serial": str,
         "token_id": str, "peer_ip": str},
        if_not_exists=True,
    )
    inventory.create_schema(db)
    roster.create_schema(db)
    fleet_schema.create_schema(db)


_FLEET_DEVICE_COLUMNS = {"own_verdict": str, "own_score": int, "verdict_source": str, "input_languages": str}
_CLOCK_SKEW_COLUMN = {"clock_skew_seconds": float}  # on reports and devices (schema 4)


def _add_missing_columns(db: sqlite_utils.Database, columns: dict, tables) -> None:
    for table in tables:
        existing = db[table].columns_dict
        for name, kind in columns.items():
            if name not in existing:
                db[table].add_column(name, kind)


def _backfill_fleet(db: sqlite_utils.Database) -> None:
    """Schema 2 → 3: own verdicts beside the combined ones, input languages (location history: schema 5)."""
    db.execute("UPDATE devices SET own_verdict = verdict, own_score = score, verdict_source = 'report' "
               "WHERE own_verdict IS NULL")
    db.execute(
        "UPDATE devices SET input_languages = (SELECT group_concat(DISTINCT json_extract(f.evidence, "
        "'$.language')) FROM findings f WHERE f.report_id = devices.last_report_id AND f.rule = 'input-language') "
        "WHERE input_languages IS NULL")
