"""The fleet rules see the roster a Jamf sync wrote at the very next correlation: laptops ingested
through the real pipeline, the roster from the real client over TLS to the Jamf stand-in."""
from __future__ import annotations

from datetime import timedelta

from farmwatch.collector.fleet import FleetSettings, correlate
from tests.fleet_builder import Laptop, Place, ingest_fleet, utc
from tests.mdm_helpers import settings_for, standins, store, sync, tls  # noqa: F401 (fixtures)

START = utc(2026, 11, 1)
NOW = START + timedelta(days=8)
CLEAN = "clean/linux_office_plain.json"


def test_a_reassignment_in_jamf_reaches_the_next_correlation(store, standins, tls, monkeypatch):
    place = Place.home("shared-flat")
    laptops = [Laptop(f"mdm-{n}", CLEAN, None, [(place, range(4, 8))]) for n in range(2)]
    stray = Laptop("mdm-stray", CLEAN, None, [(Place.home("elsewhere"), range(4, 8))])
    ingest_fleet(store, laptops + [stray], START)
    jamf = standins("jamf")
    jamf.devices = [jamf.computer(1, laptops[0].serial, "Ann Ames", "ann@acme.example"),
                    jamf.computer(2, laptops[1].serial, "Bob Burr", "bob@acme.example")]
    settings = settings_for(jamf, tls, monkeypatch)

    assert sync(store, jamf, settings).ok
    result = correlate(store, FleetSettings(), NOW)
    assert {c["people"] for c in result.clusters} == {2}  # two people's laptops behind one router
    assert result.findings["fleet-not-on-roster"] == 1  # the stray laptop

    # Bob's laptop goes to Ann (a replacement while hers is repaired); the stray one is enrolled
    jamf.devices[1]["userAndLocation"].update(realname="Ann Ames", email="ann@acme.example")
    jamf.devices.append(jamf.computer(3, stray.serial, "Cat Cole", "cat@acme.example"))
    assert sync(store, jamf, settings).plan.counts()["reassigned"] == 1

    result = correlate(store, FleetSettings(), NOW)
    assert result.clusters == [] and result.skipped_keys["one person"] >= 1
    assert result.findings["fleet-not-on-roster"] == 0
