"""Write-back of verdicts to each MDM's stand-in: only on change, paced, every write audited, and
nothing but a text field or a tag ever written."""
from __future__ import annotations

from datetime import timedelta

import pytest

from farmwatch.collector import mdm
from farmwatch.collector.ingest import classifier, prepare
from tests.fleet_builder import Laptop, Place, ingest_fleet, report_for, utc
from tests.mdm_helpers import Sleeps, settings_for, standins, store, sync, tls  # noqa: F401 (fixtures)
from tests.mdm_standins import Fault

START = utc(2026, 11, 1)
CLEAN, RELAY = "clean/linux_office_plain.json", "relay/win_pikvm.json"
CONSOLE = "https://fw.acme.example:8443"


@pytest.fixture
def laptops(store):
    """A relay, a clean laptop and a second relay, as the collector stored their reports."""
    made = [Laptop(label, base, None, [(Place.home(label), range(0, 2))])
            for label, base in (("wb-relay", RELAY), ("wb-clean", CLEAN), ("wb-relay2", RELAY))]
    ingest_fleet(store, made, START)
    return made


def reports_again(store, laptop: Laptop, base: str) -> None:
    """The laptop's next report, built from another scenario (its verdict changes)."""
    again = Laptop(laptop.label, base, None, laptop.stays)
    report = report_for(again, laptop.stays[0][0], START + timedelta(days=3), 10)
    store.ingest([prepare(report, peer_ip=laptop.stays[0][0].peer_ip, classify=classifier(),
                          received_at="2026-11-04T00:00:00.000Z")])


def write_settings(stand_in, tls, monkeypatch, **table):
    return settings_for(stand_in, tls, monkeypatch, console_url=CONSOLE,
                        table={"write_back": True, "writes_per_minute": 30, **table})


def run(store, stand_in, settings, sleeps=None):
    client = mdm.client_for(settings.source(stand_in.kind), settings, sleep=Sleeps())
    return mdm.write_back(store, client, mdm=settings, sleep=sleeps if sleeps is not None else Sleeps(),
                          clock=_Clock(sleeps))


class _Clock:
    """A monotonic clock that moves only when the pacing sleeps: the pace is checked, not timed."""

    def __init__(self, sleeps):
        self.sleeps = sleeps if sleeps is not None else []

    def __call__(self) -> float:
        return sum(self.sleeps)


def audit_rows(store) -> list[dict]:
    return store.rows("SELECT who, via, action, detail, outcome FROM audit WHERE via = 'mdm' ORDER BY id")


def test_jamf_extension_attributes_get_the_verdict_and_evidence_link_only_on_change(store, laptops, standins,
                                                                                    tls, monkeypatch):
    jamf = standins("jamf")
    jamf.devices = [jamf.computer(n + 1, laptop.serial, f"P{n}", f"p{n}@acme.example") for n, laptop in enumerate(laptops)]
    settings = write_settings(jamf, tls, monkeypatch, verdict_attribute="42", link_attribute="43")
    assert sync(store, jamf, settings).ok
    sleeps = Sleeps()

    outcome = run(store, jamf, settings, sleeps)

    assert sorted(outcome.written) == sorted([laptops[0].serial, laptops[2].serial])  # clean was never written
    assert jamf.attributes["1"] == {"42": ["relay"], "43": [f"{CONSOLE}/devices/{laptops[0].serial}/evidence"]}
    assert sleeps == [2.0]  # 30 writes a minute: two seconds between the two writes
    rows = audit_rows(store)
    assert [(r["who"], r["action"], r["outcome"]) for r in rows] == \
        [("farmwatch-collector", "mdm write-back jamf", "ok")] * 2
    assert "verdict unset -> relay" in rows[0]["detail"]

    assert run(store, jamf, settings).due == 0  # nothing changed, nothing written
    assert len(jamf.made("/api/v1/computers-inventory-detail")) == 2

    reports_again(store, laptops[0], CLEAN)  # the relay is gone: the MDM must hear it
    outcome = run(store, jamf, settings)
    assert outcome.written == [laptops[0].serial] and jamf.attributes["1"]["42"] == ["clean"]
    assert "verdict relay -> clean" in audit_rows(store)[-1]["detail"]


def test_a_failed_write_is_audited_and_retried_at_the_next_run(store, laptops, standins, tls, monkeypatch):
    jamf = standins("jamf")
    jamf.devices = [jamf.computer(n + 1, laptop.serial, f"P{n}", f"p{n}@acme.example") for n, laptop in enumerate(laptops)]
    settings = write_settings(jamf, tls, monkeypatch, verdict_attribute="42")
    sync(store, jamf, settings)
    jamf.faults = [Fault("write", status=403)]
    outcome = run(store, jamf, settings)
    assert len(outcome.written) == 1 and "HTTP 403" in outcome.failed[0]
    assert [r["outcome"].split(":")[0] for r in audit_rows(store)] == ["error", "ok"]
    failed = outcome.failed[0].split(":")[0]
    assert run(store, jamf, settings).written == [failed]


def test_intune_writes_the_entra_device_extension_attributes(store, laptops, standins, tls, monkeypatch):
    graph = standins("intune")
    graph.devices = [graph.device(laptop.serial, f"P{n}", f"p{n}@acme.example", f"aad-{n}")
                     for n, laptop in enumerate(laptops)]
    settings = write_settings(graph, tls, monkeypatch, verdict_attribute="extensionAttribute3",
                              link_attribute="extensionAttribute4")
    sync(store, graph, settings)
    outcome = run(store, graph, settings)
    assert len(outcome.written) == 2
    attributes = graph.entra["obj-aad-0"]["extensionAttributes"]
    assert attributes["extensionAttribute3"] == "relay"
    assert attributes["extensionAttribute4"] == f"{CONSOLE}/devices/{laptops[0].serial}/evidence"
    assert graph.entra["obj-aad-1"]["extensionAttributes"].get("extensionAttribute3") is None  # clean


def test_an_intune_device_without_an_entra_id_is_reported_not_attempted(store, laptops, standins, tls, monkeypatch):
    graph = standins("intune")
    graph.devices = [graph.device(laptops[0].serial, "P0", "p0@acme.example", "")]
    settings = write_settings(graph, tls, monkeypatch, verdict_attribute="extensionAttribute3")
    sync(store, graph, settings)
    outcome = run(store, graph, settings)
    assert (outcome.written, outcome.failed) == ([], []) and "no Entra device" in outcome.skipped[0]
    assert "1 cannot be written, 0 left" in outcome.describe()[0]
    assert graph.made("/v1.0/devices(") == [] and audit_rows(store) == []


def test_kandji_gets_one_farmwatch_tag_and_keeps_its_other_tags(store, laptops, standins, tls, monkeypatch):
    kandji = standins("kandji")
    kandji.devices = [kandji.device(laptop.serial, f"P{n}", f"p{n}@acme.example") for n, laptop in enumerate(laptops)]
    settings = write_settings(kandji, tls, monkeypatch)
    sync(store, kandji, settings)
    run(store, kandji, settings)
    assert kandji.devices[0]["tags"] == ["remote", "farmwatch-relay"]
    reports_again(store, laptops[0], CLEAN)
    run(store, kandji, settings)
    assert kandji.devices[0]["tags"] == ["remote", "farmwatch-clean"]
    assert kandji.devices[1]["tags"] == ["remote"]


def test_write_back_stops_short_when_told_and_leaves_the_rest_due(store, laptops, standins, tls, monkeypatch):
    kandji = standins("kandji")
    kandji.devices = [kandji.device(laptop.serial, f"P{n}", f"p{n}@acme.example") for n, laptop in enumerate(laptops)]
    settings = write_settings(kandji, tls, monkeypatch)
    sync(store, kandji, settings)
    client = mdm.client_for(settings.source("kandji"), settings)
    outcome = mdm.write_back(store, client, mdm=settings, limit=1, sleep=Sleeps(), clock=_Clock(None))
    assert (outcome.due, len(outcome.written)) == (2, 1)
    assert "1 left for the next run" in outcome.describe()[0]


def test_a_new_console_address_rewrites_the_links_once(store, laptops, standins, tls, monkeypatch):
    jamf = standins("jamf")
    jamf.devices = [jamf.computer(n + 1, laptop.serial, f"P{n}", f"p{n}@acme.example") for n, laptop in enumerate(laptops)]
    settings = write_settings(jamf, tls, monkeypatch, verdict_attribute="42", link_attribute="43")
    sync(store, jamf, settings)
    run(store, jamf, settings)
    moved = settings_for(jamf, tls, monkeypatch, console_url="https://farmwatch.acme.example",
                         table={"write_back": True, "verdict_attribute": "42", "link_attribute": "43"})
    assert len(run(store, jamf, moved).written) == 2
    assert jamf.attributes["1"]["43"] == [f"https://farmwatch.acme.example/devices/{laptops[0].serial}/evidence"]
    assert run(store, jamf, moved).due == 0
