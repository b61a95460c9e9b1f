"""Roster sync from Microsoft Intune (Graph) and Kandji against local HTTPS stand-ins: each
vendor's auth, paging and record shape (tests/fixtures/mdm/*.json name the documentation pages)."""
from __future__ import annotations

import pytest

from farmwatch.collector import mdm
from tests.mdm_helpers import Sleeps, roster, settings_for, standins, store, sync, tls  # noqa: F401 (fixtures)
from tests.mdm_standins import Fault


@pytest.fixture
def graph(standins):
    stand_in = standins("intune")
    stand_in.page_size = 2
    stand_in.devices = [stand_in.device(f"PF3{n:05d}", f"Person {n}", f"Person{n}@acme.example", f"aad-{n}")
                        for n in range(5)]
    return stand_in


@pytest.fixture
def kandji(standins):
    stand_in = standins("kandji")
    stand_in.devices = [stand_in.device(f"FVFX{n:05d}", f"Person {n}", f"person{n}@acme.example") for n in range(7)]
    return stand_in


def test_intune_devices_are_read_across_next_links_with_an_app_only_token(store, graph, tls, monkeypatch):
    outcome = sync(store, graph, settings_for(graph, tls, monkeypatch))
    assert outcome.ok and outcome.plan.counts()["new"] == 5
    assert roster(store)["PF300003"] == ("Person 3", "person3@acme.example", None, "intune-api")
    row = store.rows("SELECT issue_date FROM roster WHERE serial = 'PF300003'")[0]
    assert row["issue_date"] == "2026-02-17"
    token = [r for r in graph.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert token[0].body["scope"] == "https://graph.microsoft.com/.default"
    pages = graph.made("/v1.0/deviceManagement/managedDevices")
    assert len(pages) == 3 and "serialNumber" in pages[0].query["$select"][0]
    devices = store.rows("SELECT serial, mdm_id, directory_id FROM mdm_devices ORDER BY serial")
    assert devices[0] == {"serial": "PF300000", "mdm_id": "md-PF300000", "directory_id": "aad-0"}


def test_intune_departments_from_a_csv_import_survive_a_sync(store, graph, tls, monkeypatch, tmp_path):
    from farmwatch.collector import roster as csv_roster

    path = tmp_path / "r.csv"
    path.write_text("serial,user,email,department\nPF300001,Person 1,person1@acme.example,Finance\n")
    csv_roster.import_roster(store, csv_roster.parse(path, "csv"))
    sync(store, graph, settings_for(graph, tls, monkeypatch))
    assert roster(store)["PF300001"][2] == "Finance"  # Graph's managedDevice has no department


def test_graph_throttling_and_token_expiry_mid_listing_are_ridden_out(store, graph, tls, monkeypatch):
    graph.faults = [Fault("inventory"), Fault("inventory", status=429, headers={"Retry-After": "3"},
                                              body=graph.fixture["throttled"]),
                    Fault("inventory", expire_tokens=True)]
    sleeps = Sleeps()
    outcome = sync(store, graph, settings_for(graph, tls, monkeypatch), sleeps)
    assert outcome.ok and outcome.plan.counts()["new"] == 5 and sleeps == [3.0]


def test_a_next_link_to_another_host_is_refused_so_the_token_goes_nowhere_else(store, graph, tls, monkeypatch):
    graph.faults = [Fault("inventory", status=200, body={
        "value": [], "@odata.nextLink": "https://graph.example.net/v1.0/deviceManagement/managedDevices?$skiptoken=1"})]
    outcome = sync(store, graph, settings_for(graph, tls, monkeypatch))
    assert not outcome.ok and "points away" in outcome.error and roster(store) == {}


def test_kandji_devices_are_paged_by_limit_and_offset_with_the_api_token(store, kandji, tls, monkeypatch):
    outcome = sync(store, kandji, settings_for(kandji, tls, monkeypatch, table={"page_size": 3}))
    assert outcome.ok and outcome.plan.counts()["new"] == 7
    pages = kandji.made("/api/v1/devices")
    assert [(p.query["limit"][0], p.query["offset"][0]) for p in pages] == [("3", "0"), ("3", "3"), ("3", "6")]
    assert {p.token for p in pages} == {kandji.secret}
    assert roster(store)["FVFX00002"] == ("Person 2", "person2@acme.example", None, "kandji-api")
    assert store.rows("SELECT groups FROM mdm_devices WHERE serial = 'FVFX00002'")[0]["groups"] == "Engineering Macs"


def test_a_kandji_device_without_a_user_is_on_the_roster_with_nobody(store, kandji, tls, monkeypatch):
    kandji.devices[0]["user"] = ""
    sync(store, kandji, settings_for(kandji, tls, monkeypatch))
    assert roster(store)["FVFX00000"][:2] == (None, None)


def test_a_revoked_kandji_token_fails_at_once_since_it_cannot_be_renewed(store, kandji, tls, monkeypatch):
    kandji.tokens.clear()
    outcome = sync(store, kandji, settings_for(kandji, tls, monkeypatch))
    assert not outcome.ok and "HTTP 401" in outcome.error
    assert len(kandji.made("/api/v1/devices")) == 1


def test_a_kandji_user_of_the_wrong_shape_is_a_malformed_record(store, kandji, tls, monkeypatch):
    kandji.devices[3]["user"] = 17
    outcome = sync(store, kandji, settings_for(kandji, tls, monkeypatch))
    assert outcome.ok and outcome.plan.counts()["new"] == 6
    assert outcome.plan.skipped[0].line == 4 and "user is int" in outcome.plan.skipped[0].message


def test_a_tls_certificate_the_ca_file_does_not_vouch_for_is_refused(store, kandji, tls, monkeypatch, tmp_path):
    from tests.mdm_standins import TestCA

    other = TestCA(tmp_path / "other-ca")
    settings = settings_for(kandji, tls, monkeypatch, table={"ca_file": other.ca_file})
    outcome = sync(store, kandji, settings)
    assert not outcome.ok and "CERTIFICATE_VERIFY_FAILED" in outcome.error


@pytest.mark.parametrize("table, says", [
    ({"jamf": {"url": "https://j", "client_id": "c", "client_secret": "x"}}, "may not be written in collector.toml"),
    ({"jamf": {"url": "http://j", "client_id": "c", "client_secret_env": "E"}}, "must start with https://"),
    ({"jamf": {"url": "https://j", "client_secret_env": "E"}}, "client_id must be set"),
    ({"jamf": {"url": "https://j", "client_id": "c", "client_secret_env": "E", "client_secret_file": "/f"}},
     "exactly one of"),
    ({"kandji": {"url": "https://k", "token_env": "E", "tenant": "t"}}, "unknown setting(s) tenant"),
    ({"intune": {"tenant": "t", "client_id": "c", "client_secret_env": "E", "write_back": True,
                 "verdict_attribute": "extensionAttribute16"}}, "extensionAttribute1 … extensionAttribute15"),
    ({"jamf": {"url": "https://j", "client_id": "c", "client_secret_env": "E", "write_back": True}},
     "write_back needs verdict_attribute"),
    ({"jamf": {"url": "https://j", "client_id": "c", "client_secret_env": "E", "page_size": "100"}},
     "page_size must be a whole number"),
    ({"jamf": "https://j"}, "must be a table"),
    ({"casper": {}}, "unknown setting(s) casper"),
])
def test_mdm_settings_that_cannot_work_are_refused_naming_the_key(table, says):
    with pytest.raises(mdm.MdmSettingsError) as refused:
        mdm.MdmSettings.from_dict(table)
    assert says in str(refused.value)


def test_an_unreadable_or_empty_secret_is_named_without_its_value(tmp_path, monkeypatch):
    settings = mdm.MdmSettings.from_dict({"jamf": {"url": "https://j", "client_id": "c",
                                                   "client_secret_file": str(tmp_path / "missing")}})
    with pytest.raises(mdm.MdmSettingsError, match="client_secret_file .*missing"):
        mdm.client_for(settings.source("jamf"), settings)
    monkeypatch.setenv("EMPTY_SECRET", " ")
    settings = mdm.MdmSettings.from_dict({"kandji": {"url": "https://k", "token_env": "EMPTY_SECRET"}})
    with pytest.raises(mdm.MdmSettingsError, match="environment variable EMPTY_SECRET .* is empty"):
        mdm.client_for(settings.source("kandji"), settings)


def test_the_shipped_example_mdm_tables_are_valid_once_uncommented(tmp_path, monkeypatch):
    from pathlib import Path

    from farmwatch.collector.config import CollectorConfig

    text = (Path(__file__).resolve().parent.parent / "collector" / "collector.example.toml").read_text()
    section = text[text.index("[mdm]"):text.index("# Exports of flags")]
    uncommented = "\n".join(line[2:].split("  #")[0] if line.startswith("# ") and ("=" in line or "[mdm." in line)
                            else line for line in section.splitlines())
    (tmp_path / "collector.toml").write_text(uncommented)
    settings = CollectorConfig.load(tmp_path).mdm
    assert [s.kind for s in settings.sources] == ["jamf", "intune", "kandji"]
    assert all(s.write_back for s in settings.sources) and settings.source("jamf").verdict_attribute == "42"
