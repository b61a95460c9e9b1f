"""A schema-2 database (before fleet correlation) opens as schema 3 with its history usable."""
from __future__ import annotations

import sqlite3

from farmwatch.collector.fleet import FleetSettings, correlate
from farmwatch.collector.ingest import Store
from farmwatch.collector.storage.schema import SCHEMA_VERSION
from tests.fleet_builder import Laptop, Person, Place, ingest_fleet, utc

START = utc(2026, 11, 1)
FLEET_COLUMNS = ("own_verdict", "own_score", "verdict_source", "input_languages")
FLEET_TABLES = ("device_locations", "location_keys", "fleet_findings", "clusters", "cluster_members",
                "cluster_events")
SCHEMA_2_DEVICE_INDEXES = ("idx_devices_verdict",)


def _downgrade_to_schema_2(path) -> None:
    conn = sqlite3.connect(path)
    for table in FLEET_TABLES:
        conn.execute(f"DROP TABLE {table}")
    for (index,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'devices' "
                                 "AND sql IS NOT NULL").fetchall():
        if index not in SCHEMA_2_DEVICE_INDEXES:
            conn.execute(f"DROP INDEX {index}")
    for column in FLEET_COLUMNS:
        conn.execute(f"ALTER TABLE devices DROP COLUMN {column}")
    conn.execute("PRAGMA user_version=2")
    conn.commit()
    conn.close()


def test_a_schema_2_database_gains_locations_and_own_verdicts(tmp_path):
    path = tmp_path / "farmwatch.sqlite"
    place = Place.home("shared")
    laptops = [Laptop("relay", "relay/win_pikvm.json", Person("Ann Ames", "Austin", "TX"), [(place, range(0, 4))]),
               Laptop("korean", "clean/mac_korean_layout_kst.json", Person("Bob Burr", "Boston", "MA"),
                      [(place, range(0, 4))])]
    store = Store(path)
    ingest_fleet(store, laptops, START)
    before = store.rows("SELECT * FROM device_locations ORDER BY device_id, kind, value")
    store.close()
    _downgrade_to_schema_2(path)

    store = Store(path)
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.rows("SELECT * FROM device_locations ORDER BY device_id, kind, value") == before
        assert store.rows("SELECT devices FROM location_keys WHERE kind = 'gateway_mac'") == [{"devices": 2}]
        devices = {r["device_id"]: r for r in store.rows("SELECT * FROM devices")}
        relay, korean = devices[laptops[0].serial], devices[laptops[1].serial]
        assert (relay["own_verdict"], relay["verdict_source"]) == ("relay", "report")
        assert korean["input_languages"] == "korean" and relay["input_languages"] in (None, "")
        result = correlate(store, FleetSettings(), START.replace(day=5))
        assert {c["kind"] for c in result.clusters} == {"gateway_mac", "peer_ip"}
    finally:
        store.close()
