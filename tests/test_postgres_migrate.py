"""`storage migrate --to postgresql://…`: a SQLite home's database copied whole, counts checked,
and the collector's answers the same on both afterwards."""
from __future__ import annotations

import json

from collector_process import cli
from conftest import make_report, scenario_report
from farmwatch.collector import audit, enrollment, ingest, roster, triage
from farmwatch.collector.fleet import correlate
from farmwatch.collector.fleet.settings import FleetSettings
from farmwatch.collector.ingest import Store


def _home_with_history(home):
    """A SQLite home with reports, a flagged device, roster (and its history), tokens, certificates,
    a triage change and audit rows."""
    cli("farmwatch-collector", "--home", home, "pki", "init")
    store = Store(home / "farmwatch.sqlite")
    store.ingest([ingest.prepare(make_report(f"SN-{n}", sequence), peer_ip="203.0.113.7")
                  for n in range(3) for sequence in (1, 2)])
    store.ingest([ingest.prepare(scenario_report("relay/win_jetkvm", "SN-RELAY"), peer_ip="198.51.100.9",
                                 classify=ingest.classifier(None, None))])
    (home / "roster.csv").write_text("serial,user_name,email,country\nSN-0,Dana Lee,dana@example.com,US\n")
    roster.import_roster(store, roster.parse(home / "roster.csv", "csv"))
    enrollment.create_token(store, uses=3, note="laptops")
    correlate(store, FleetSettings())
    triage.change(store, "SN-RELAY", who="alice", via="cli", state="investigating", note="asked IT")
    store.close()
    with audit.local_question(home / "farmwatch.sqlite", "devices") as entry:
        entry.rows = 4


def test_migrate_copies_every_table_and_the_answers_stay_the_same(tmp_path, postgres_url):
    home = tmp_path / "home"
    _home_with_history(home)
    result = cli("farmwatch-collector", "--home", home, "storage", "migrate", "--to", postgres_url, "--json")
    copied = {row["table"]: row for row in json.loads(result.stdout)}
    assert all(row["same"] == "yes" for row in copied.values()), copied
    assert copied["reports"]["postgresql"] == 7 and copied["roster"]["postgresql"] == 1
    assert copied["audit"]["postgresql"] >= 1 and copied["tokens"]["postgresql"] == 1
    before, after = Store(home / "farmwatch.sqlite"), Store(postgres_url)
    try:
        assert after.devices() == before.devices() and after.flags() == before.flags()
        assert after.device("SN-RELAY") == before.device("SN-RELAY")
        assert [r[:2] for r in after.stored_reports()] == [r[:2] for r in before.stored_reports()]
        assert after.tokens() == before.tokens()
        after.ingest([ingest.prepare(make_report("SN-0", 3), peer_ip="203.0.113.7")])  # it goes on from there
        assert after.device("SN-0")["report_count"] == 3
        assert after.triage_history("SN-RELAY") == before.triage_history("SN-RELAY")
        triage.change(after, "SN-RELAY", who="bob", via="cli", state="confirmed-farm")  # numbered after the copy
        assert [e["state"] for e in after.triage_history("SN-RELAY")] == ["investigating", "confirmed-farm"]
    finally:
        before.close()
        after.close()


def test_migrate_refuses_a_database_that_already_holds_data_and_changes_nothing(tmp_path, postgres_url):
    home = tmp_path / "home"
    _home_with_history(home)
    cli("farmwatch-collector", "--home", home, "storage", "migrate", "--to", postgres_url)
    again = cli("farmwatch-collector", "--home", home, "storage", "migrate", "--to", postgres_url, check=False)
    assert again.returncode != 0 and "migrate into an empty database" in again.stderr
    assert "Traceback" not in again.stderr
    store = Store(postgres_url)
    try:
        assert store.count("reports") == 7
    finally:
        store.close()


def test_a_schema_9_postgresql_database_gains_what_later_schemas_added(postgres_url):
    """A database made by the first PostgreSQL collectors (schema 9): delta reports' column and
    device_states, triage, the MDM tables and roster_changes are added on opening."""
    from farmwatch.collector.storage import open_storage
    from farmwatch.collector.storage.postgres_schema import schema_version, set_schema_version
    from farmwatch.collector.storage.schema import SCHEMA_VERSION

    later = {"device_states", "triage", "triage_events", "roster_changes", "mdm_devices", "mdm_runs", "mdm_writes"}
    store = open_storage(postgres_url)
    for table in later:
        store.conn.execute(f"DROP TABLE {table}")
    store.conn.execute("ALTER TABLE reports DROP COLUMN base_report_id")
    set_schema_version(store.conn, 9)
    store.close()
    store = Store(postgres_url)
    try:
        assert schema_version(store.conn) == SCHEMA_VERSION
        assert later <= set(store.db.table_names()) and "base_report_id" in store.db["reports"].columns_dict
        store.ingest([ingest.prepare(make_report("SN-OLD", 1), peer_ip="203.0.113.7")])
        assert store.device_state("SN-OLD")[0] == store.device("SN-OLD")["last_report_id"]
    finally:
        store.close()
