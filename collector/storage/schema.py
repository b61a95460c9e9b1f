"""The database's one description: tables, indexes, views, triggers and the migrations between
schema versions (`PRAGMA user_version`). Made through sqlite-utils (readable, migratable); the
same calls make the PostgreSQL schema through `postgres_schema.PgDatabase`, so a table declared
here exists on both engines with the same name and columns.

Users query these tables (README.md "The database"): names and columns do not change lightly.
"""
from __future__ import annotations

import sqlite_utils

from farmwatch.collector.storage import browse, device_states, inventory, mdm, roster, triage

# 6: the audit's whole-statement columns; 7: device_scans (hashed Wi-Fi neighbourhoods); 8: the replays
# index; 9: certificates_subject_key (one spelling per serial); 10: reports.base_report_id and device_states
# (delta reports); 11: triage and triage_events (storage/triage.py); 12: roster_changes and the mdm_* tables
# (MDM sync and write-back). create_schema adds the new tables and indexes to an older database;
# migrate() does what it cannot.
SCHEMA_VERSION = 12

_FLEET_DEVICE_COLUMNS = {"own_verdict": str, "own_score": int, "verdict_source": str, "input_languages": str}
_CLOCK_SKEW_COLUMN = {"clock_skew_seconds": float}  # on reports and devices (schema 4)
_DELTA_COLUMN = {"base_report_id": str}  # on reports (schema 10): NULL for a full report
# audit (schema 6): what identifies the whole question, even one too long to keep (see audit.py)
_AUDIT_DETAIL_COLUMNS = {"detail_sha256": str, "detail_bytes": int}
FINDING_COLUMNS = {"device_id": str, "rule": str, "severity": str, "summary": str, "evidence": str,
                   "cluster_id": str, "computed_at": str}


def migrate(conn, db: sqlite_utils.Database, transaction) -> None:
    """Bring the database to SCHEMA_VERSION inside `transaction()`; a current one is left alone."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        return
    with transaction():
        if version and version < 3:  # the fleet columns first: the schema indexes them
            _add_missing_columns(db, _FLEET_DEVICE_COLUMNS, ("devices",))
        create_schema(db)
        if version and version < 3:
            _backfill_fleet(db)
        if version and version < 4:
            _add_missing_columns(db, _CLOCK_SKEW_COLUMN, ("reports", "devices"))
        if version and version < 5:  # exact day counts, the BSSID beside each location
            rebuild_locations(db)
        if version and version < 6 and db["audit"].exists():  # the table is made by the first audited question
            create_audit_schema(db)
        if version and version < 10:
            _add_missing_columns(db, _DELTA_COLUMN, ("reports",))
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def create_schema(db: sqlite_utils.Database) -> None:
    _create_enrollment_tables(db)
    _create_report_tables(db)
    inventory.create_schema(db)
    roster.create_schema(db)
    mdm.create_schema(db)
    device_states.create_schema(db)
    create_fleet_schema(db)
    triage.create_schema(db)
    browse.create_schema(db)


def _create_enrollment_tables(db: sqlite_utils.Database) -> None:
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
    # subjects are looked up by their canonical spelling (storage/enrollment.py)
    db.execute("CREATE INDEX IF NOT EXISTS certificates_subject_key ON certificates (upper(subject), role)")


def _create_report_tables(db: sqlite_utils.Database) -> None:
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
         "size_bytes": int, "verdict": str, "score": int, "replay": int, **_CLOCK_SKEW_COLUMN, **_DELTA_COLUMN,
         "raw": bytes},
        pk="report_id", if_not_exists=True,
    )
    db["reports"].create_index(["device_id", "received_at"], if_not_exists=True)
    # the few replays, for the fleet's replay finding (schema 8)
    db.execute("CREATE INDEX IF NOT EXISTS idx_reports_replays ON reports (received_at) WHERE replay = 1")
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


def create_fleet_schema(db: sqlite_utils.Database) -> None:
    _create_location_tables(db)
    _create_scan_table(db)
    # silent devices; time zones against the roster; the few devices with a flagged input language
    db["devices"].create_index(["last_seen"], if_not_exists=True)
    db["devices"].create_index(["timezone", "device_id"], if_not_exists=True)
    db.execute("CREATE INDEX IF NOT EXISTS idx_devices_input_languages ON devices (input_languages) "
               "WHERE input_languages > ''")
    db["fleet_findings"].create(FINDING_COLUMNS, if_not_exists=True)
    db["fleet_findings"].create_index(["device_id"], if_not_exists=True)
    db["clusters"].create(
        {"cluster_id": str, "kind": str, "value": str, "status": str, "first_seen": str, "last_seen": str,
         "devices": int, "people": int, "households": int, "relay_members": int, "suspicious_members": int,
         "score": int, "severity": str, "created_at": str, "updated_at": str},
        pk="cluster_id", if_not_exists=True)
    db["clusters"].create_index(["status", "score"], if_not_exists=True)
    db["cluster_members"].create(
        {"cluster_id": str, "device_id": str, "person": str, "on_roster": int, "first_seen": str,
         "last_seen": str, "reports": int, "own_verdict": str, "joined_at": str},
        pk=("cluster_id", "device_id"), if_not_exists=True)
    db["cluster_members"].create_index(["device_id"], if_not_exists=True)
    db["cluster_events"].create(
        {"cluster_id": str, "at": str, "event": str, "device_id": str, "detail": str}, if_not_exists=True)
    db["cluster_events"].create_index(["cluster_id", "at"], if_not_exists=True)


def _create_location_tables(db: sqlite_utils.Database) -> None:
    # Clustered by key (WITHOUT ROWID, key first): correlation reads all devices at a key as one
    # contiguous range. peer_ip / gateway_mac / wifi_bssid: what the device's latest report from the key
    # also showed.
    db.execute(
        "CREATE TABLE IF NOT EXISTS device_locations (kind TEXT NOT NULL, value TEXT NOT NULL, "
        "device_id TEXT NOT NULL, first_seen TEXT, last_seen TEXT, reports INTEGER, days INTEGER, peer_ip TEXT, "
        "gateway_mac TEXT, wifi_bssid TEXT, PRIMARY KEY (kind, value, device_id)) WITHOUT ROWID")
    db["device_locations"].create_index(["device_id"], if_not_exists=True)
    # The UTC days a device was seen at a key: ingest counts a day in `days` when its row is new.
    db.execute("CREATE TABLE IF NOT EXISTS device_location_days (kind TEXT NOT NULL, value TEXT NOT NULL, "
               "device_id TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (kind, value, device_id, day)) WITHOUT ROWID")
    # How many devices were ever seen at each key, kept by a trigger that fires only when a device
    # first reports from a key: correlation starts from the few keys with two or more devices
    # instead of scanning every device's keys.
    db["location_keys"].create({"kind": str, "value": str, "devices": int}, pk=("kind", "value"),
                               if_not_exists=True)
    db.execute("CREATE INDEX IF NOT EXISTS idx_location_keys_shared ON location_keys (devices) WHERE devices >= 2")
    if getattr(db, "engine", "sqlite") == "postgresql":
        from farmwatch.collector.storage.postgres_schema import LOCATION_KEYS_TRIGGER

        for statement in LOCATION_KEYS_TRIGGER:
            db.execute(statement)
        return
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS device_locations_count AFTER INSERT ON device_locations BEGIN "
        "INSERT INTO location_keys (kind, value, devices) VALUES (new.kind, new.value, 1) "
        "ON CONFLICT(kind, value) DO UPDATE SET devices = devices + 1; END")


def _create_scan_table(db: sqlite_utils.Database) -> None:
    # One row per device and 4-hour UTC slot (fleet.neighbourhood): the reports of the slot, what
    # the latest of them showed (to recognise the office), and `heard`: JSON {keyed hash of a BSSID:
    # [reports that heard it, reports that gave its signal, sum of those signals in dBm]}.
    # Correlation deletes the slots older than its window.
    db.execute(
        "CREATE TABLE IF NOT EXISTS device_scans (device_id TEXT NOT NULL, slot TEXT NOT NULL, first_seen TEXT, "
        "last_seen TEXT, reports INTEGER, peer_ip TEXT, gateway_mac TEXT, wifi_bssid TEXT, heard TEXT, "
        "PRIMARY KEY (device_id, slot)) WITHOUT ROWID")
    db.execute("CREATE INDEX IF NOT EXISTS idx_device_scans_slot ON device_scans (slot)")


def create_audit_schema(db: sqlite_utils.Database) -> None:
    db["audit"].create(
        {"id": int, "at": str, "who": str, "via": str, "cert_serial": str, "peer": str, "action": str,
         "detail": str, "rows": int, "outcome": str, "finished_at": str, "duration_ms": int,
         **_AUDIT_DETAIL_COLUMNS},
        pk="id", if_not_exists=True,
    )
    _add_missing_columns(db, _AUDIT_DETAIL_COLUMNS, ("audit",))  # a schema-5 file opened by AuditTrail first
    db["audit"].create_index(["at"], if_not_exists=True)
    db["audit"].create_index(["who", "at"], if_not_exists=True)


def create_export_cursor_schema(db: sqlite_utils.Database) -> None:
    db["export_cursor"].create(
        {"sink": str, "flag_key": str, "state": str, "flag": str, "exported_at": str},
        pk=("sink", "flag_key"), if_not_exists=True,
    )


# -- migrations ------------------------------------------------------------------------------

def add_new_columns(db) -> None:
    """The columns later schemas added to tables an older database already has (PostgreSQL's upgrade:
    create_schema makes only what is missing whole)."""
    _add_missing_columns(db, _DELTA_COLUMN, ("reports",))


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


def rebuild_locations(db: sqlite_utils.Database) -> None:
    """Schema upgrade: make the location tables afresh from the reports already stored."""
    from farmwatch.collector.fleet.locations import location_rows  # the fleet's rule, applied to old reports
    from farmwatch.collector.storage.fleet import record_locations

    for table in ("device_locations", "location_keys", "device_location_days"):
        db.execute(f"DROP TABLE IF EXISTS {table}")  # and its index and trigger
    create_fleet_schema(db)
    # one upsert per device, day and network instead of per report
    cursor = db.conn.execute(
        "SELECT device_id, max(received_at), peer_ip, gateway_mac, wifi_bssid, count(*), min(received_at) "
        "FROM reports GROUP BY device_id, substr(received_at, 1, 10), peer_ip, gateway_mac, wifi_bssid")
    while batch := cursor.fetchmany(5000):
        record_locations(db.conn, [row for group in batch for row in location_rows(*group)])
