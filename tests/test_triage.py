"""Triage on the collector's host: states, assignee and notes with their history, visible in `devices`
and `flags` (table and JSON), audited, exported as flag changes, and an allow-list diff for a false
positive; on both engines. The same through farmwatch-analyst is in tests/test_triage_remote.py."""
from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import ENGINES, new_database
from test_analyst_cli import fleet_home
from test_collector_cli import collector

from farmwatch.collector import triage
from farmwatch.collector.config import CollectorConfig
from farmwatch.collector.ingest import Store


@pytest.fixture(scope="module", params=ENGINES)
def home(request, tmp_path_factory):
    """`fleet_home` on each engine (on PostgreSQL, a database of its own named in its collector.toml)."""
    folder = tmp_path_factory.mktemp("triage")
    database = new_database(request, request.param, folder)
    return fleet_home(folder, "" if request.param == "sqlite" else database)


def _store(home) -> Store:
    return Store(CollectorConfig.load(home).database)  # the SQLite file, or the home's [storage] url


def _json(home, *args):
    return json.loads(collector(home, *args, "--json").stdout)


def test_flagged_devices_start_new_and_clean_ones_have_no_state(home):
    devices = {d["device_id"]: d for d in _json(home, "devices")}
    assert devices["PFWCWBL5"]["triage"] == "new" and devices["SN-OFFICE"]["triage"] is None
    assert {f["triage"] for f in _json(home, "flags")} == {"new"}


def test_a_change_is_kept_with_its_history_and_shown_everywhere(home):
    changed = _json(home, "triage", "C027VREFFHAR", "--state", "investigating", "--assignee", "alice",
                    "--note", "asked IT for the shipping record")
    assert changed["state"] == "investigating" and changed["assignee"] == "alice"
    again = _json(home, "triage", "C027VREFFHAR", "--note", "user says AnyDesk is for family support")
    assert again["state"] == "investigating" and again["assignee"] == "alice"  # a note alone keeps both
    assert [(e["previous_state"], e["state"], e["note"]) for e in again["history"]] == [
        ("new", "investigating", "asked IT for the shipping record"),
        ("investigating", "investigating", "user says AnyDesk is for family support")]
    assert {e["via"] for e in again["history"]} == {"cli"}
    row = next(d for d in _json(home, "devices") if d["device_id"] == "C027VREFFHAR")
    assert (row["triage"], row["assignee"]) == ("investigating", "alice")
    assert all((f["triage"], f["assignee"]) == ("investigating", "alice")
               for f in _json(home, "flags") if f["device_id"] == "C027VREFFHAR")
    table = collector(home, "devices").stdout
    assert "TRIAGE" in table.splitlines()[0] and "investigating" in table
    device = _json(home, "device", "C027VREFFHAR")
    assert device["triage"]["state"] == "investigating" and len(device["triage_history"]) == 2


def test_every_triage_command_is_audited(home):
    collector(home, "triage", "PFWCWBL5")
    store = _store(home)
    try:
        actions = [row["a"] for row in store.rows("SELECT action || ' ' || detail AS a FROM audit WHERE action LIKE "
                                                  "'triage%' ORDER BY id")]
    finally:
        store.close()
    assert any(a.startswith("triage C027VREFFHAR state='investigating'") for a in actions)
    assert "triage-show PFWCWBL5" in actions


@pytest.mark.parametrize("args, message", [
    (["PFWCWBL5", "--state", "closed"], "invalid choice"),
    (["NO-SUCH-DEVICE", "--state", "resolved"], "no device 'NO-SUCH-DEVICE'"),
    (["PFWCWBL5", "--note", "x" * 5000], "keep it under 4000"),
])
def test_bad_changes_are_refused_and_nothing_is_recorded(home, args, message):
    before = _json(home, "triage", "PFWCWBL5")["history"]
    result = collector(home, "triage", *args, check=False)
    assert result.returncode in (1, 2) and message in result.stderr
    assert _json(home, "triage", "PFWCWBL5")["history"] == before


def test_nothing_to_change_is_refused_in_code(home):
    store = _store(home)
    try:
        with pytest.raises(triage.TriageError, match="nothing to record"):
            triage.change(store, "PFWCWBL5", who="alice", via="cli", note="   ")
    finally:
        store.close()


def test_a_false_positive_offers_an_allow_list_diff(home):
    config = CollectorConfig.load(home)
    store = Store(config.database)
    device = store.device("C027VREFFHAR")
    store.close()
    text = config.config_file.read_text()
    diff = triage.allow_list_diff(text, device, "Help Desk", "alice")
    assert diff.startswith("--- collector.toml\n+++ collector.toml (proposed)\n")
    added = "\n".join(line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    import tomllib

    entries = tomllib.loads(text + added)["allow"]
    assert {e.get("tool") for e in entries} >= {"anydesk"}
    assert all(e["groups"] == ["Help Desk"] and "alice" in e["reason"] for e in entries)
    # what it proposes is a valid allow-list, and applying it allows what was found
    from farmwatch.collector.detect.policy import Policy

    assert len(Policy.from_config({"allow": entries}).entries) == len(entries)


def test_a_triage_change_is_exported_as_a_changed_flag(home, tmp_path):
    out = tmp_path / "flags.jsonl"
    collector(home, "export", "jsonl", "--output", out, "--sink", "siem")
    first = [json.loads(line) for line in out.read_text().splitlines()]
    assert first and {e["event"] for e in first} == {"new"}
    collector(home, "triage", "PFWCWBL5", "--state", "confirmed-farm", "--assignee", "bob")
    collector(home, "export", "jsonl", "--output", out, "--sink", "siem")
    changed = [json.loads(line) for line in out.read_text().splitlines()][len(first):]
    assert changed and all(e["event"] == "changed" and e["device_id"] == "PFWCWBL5" for e in changed)
    assert all(e["triage"] == "confirmed-farm" and e["assignee"] == "bob" and e["previous"]["triage"] != "confirmed-farm"
               for e in changed)


def test_issue_analyst_p12_is_a_passphrase_protected_browser_bundle(home):
    from cryptography.hazmat.primitives.serialization import pkcs12

    out = collector(home, "pki", "issue-analyst", "carol", "--p12").stdout
    path = home / "pki" / "analysts" / "carol.p12"
    passphrase = out.split("passphrase: ")[1].split()[0]
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(path.read_bytes(), b"wrong")
    loaded = pkcs12.load_pkcs12(path.read_bytes(), passphrase.encode())
    assert "CN=carol" in loaded.cert.certificate.subject.rfc4514_string()
    assert loaded.key is not None and len(loaded.additional_certs) == 1  # the CA, for the browser to trust


def test_a_schema_9_database_gains_the_triage_tables(tmp_path):
    from farmwatch.collector.storage import open_storage
    from farmwatch.collector.storage.schema import SCHEMA_VERSION

    open_storage(tmp_path / "old.sqlite").close()
    with sqlite3.connect(tmp_path / "old.sqlite") as conn:  # as a collector before triage left it
        conn.execute("DROP TABLE triage")
        conn.execute("DROP TABLE triage_events")
        conn.execute("PRAGMA user_version=9")
    store = open_storage(tmp_path / "old.sqlite")
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.triage_history("ANY") == [] and store.devices() == []
    finally:
        store.close()
