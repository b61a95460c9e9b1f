"""A fleet of 222 simulated laptops with an MDM roster: three farms hidden among an office, home
workers, a couple working from one home, a carrier NAT and the corporate VPN egress. Correlation
must find the three farms with exactly their members, and nothing else as a farm.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from conftest import ENGINES, new_database
from farmwatch.collector import queries
from farmwatch.collector.detect.scoring import SUSPICIOUS_AT
from farmwatch.collector.fleet import FleetSettings, correlate
from farmwatch.collector.fleet.keys import GATEWAY
from farmwatch.collector.ingest import Store
from tests.fleet_builder import Laptop, Person, Place, import_roster, ingest_fleet, router_mac, serial, utc, \
    write_roster

START = utc(2026, 11, 10)
NOW = START + timedelta(days=8)
RECENT, EARLY = range(4, 8), range(0, 4)
OFFICE_EGRESS, CARRIER_NAT, VPN_EGRESS = "38.104.12.5", "172.58.14.9", "165.225.34.17"
SETTINGS = FleetSettings(office_networks=("38.104.12.0/28",), shared_egress_networks=("165.225.0.0/17",))
CLEAN = ["clean/linux_office_plain.json", "clean/win_office_plain.json", "clean/mac_office_plain.json",
         "clean/linux_lenovo_dock.json", "clean/win_usbc_dock.json", "clean/mac_caldigit_dock.json",
         "clean/linux_docker_ssh_developer.json", "clean/win_wacom_tablet.json", "clean/mac_iphone_connected.json",
         "clean/win_rdp_client_outbound.json", "clean/linux_vscode_localhost_forwards.json"]
BENIGN_SUSPICIOUS = ["suspicious/win_teamviewer_installed_not_running.json", "suspicious/linux_ssh_from_internet.json"]
STATES = [("Austin", "TX", "78701"), ("Atlanta", "GA", "30303"), ("Columbus", "OH", "43215"),
          ("Denver", "CO", "80202"), ("Seattle", "WA", "98101"), ("Phoenix", "AZ", "85004"),
          ("Boston", "MA", "02108"), ("Chicago", "IL", "60601"), ("Miami", "FL", "33101"),
          ("Portland", "OR", "97201"), ("Raleigh", "NC", "27601"), ("Nashville", "TN", "37201")]
_names = (f"{first} {last}" for last, first in itertools.product(
    ["Smith", "Garcia", "Chen", "Okafor", "Novak", "Patel", "Kim", "Silva", "Berg", "Haddad", "Ito", "Moreau",
     "Rossi", "Walsh", "Nguyen", "Costa"],
    ["Ava", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ian", "Jo", "Kai", "Lea", "Max", "Noa", "Oli"]))


def person(index: int) -> Person:
    city, region, postal = STATES[index % len(STATES)]
    return Person(next(_names), city, region, "US", postal)


def farm(name: str, bases: list[str], *, unrostered: int = 0, moved: int = 0) -> list[Laptop]:
    place = Place.home(name)
    laptops = []
    for i, base in enumerate(bases):
        label = f"{name}-{i}"
        stays = [(Place.home(f"{label}-own-home"), EARLY)] if i < moved else []
        laptops.append(Laptop(label, base, None if i >= len(bases) - unrostered else person(i),
                              [*stays, (place, RECENT)]))
    return laptops


FARMS = {
    "farm-a": farm("farm-a", ["relay/win_pikvm.json", "clean/win_office_plain.json", "clean/linux_office_plain.json"]),
    "farm-b": farm("farm-b", ["suspicious/win_anydesk_idle.json", "suspicious/mac_teamviewer_idle.json",
                              "clean/mac_office_plain.json", "clean/mac_caldigit_dock.json",
                              "clean/win_usbc_dock.json", "clean/linux_lenovo_dock.json"]),
    "farm-c": farm("farm-c", ["relay/win_anydesk_inbound_session.json", "relay/win_jetkvm.json",
                              "relay/linux_tinypilot.json", *CLEAN[:9]], unrostered=2, moved=3),
}
OFFICE = [Laptop(f"office-{i}", CLEAN[i % len(CLEAN)], person(i),
                 [(Place(OFFICE_EGRESS, router_mac("office"), router_mac(f"office-ap-{i % 4}", "bssid")), RECENT)])
          for i in range(40)]
HOME = [Laptop(f"home-{i}", BENIGN_SUSPICIOUS[i // 13 % 2] if i % 13 == 0 else CLEAN[i % len(CLEAN)], person(i),
               [(Place.home(f"home-{i}"), RECENT)]) for i in range(130)]
SHARED_HOME = Place.home("couple")
COUPLE_ADDRESS = ("Denver", "CO", "80202")
COUPLE = [Laptop(f"couple-{name}", base, Person(name, *COUPLE_ADDRESS[:2], "US", COUPLE_ADDRESS[2]),
                 [(SHARED_HOME, RECENT)])
          for name, base in (("Rosa Lind", "clean/win_office_plain.json"), ("Tom Lind", "clean/mac_office_plain.json"))]
CARRIER = [Laptop(f"carrier-{i}", CLEAN[i % len(CLEAN)], person(i),
                  [(Place(CARRIER_NAT, router_mac(f"hotspot-{i}"), router_mac(f"hotspot-{i}", "bssid")), RECENT)])
           for i in range(15)]
VPN = [Laptop(f"vpn-{i}", CLEAN[i % len(CLEAN)], person(i),
              [(Place(VPN_EGRESS, router_mac(f"vpn-home-{i}"), router_mac(f"vpn-home-{i}", "bssid")), RECENT)])
       for i in range(10)]
KOREAN_HOME = Laptop("korean-seoul", "clean/mac_korean_layout_kst.json", Person("Min-jun Park", "Seoul", "Seoul", "KR"),
                     [(Place.home("korean-seoul"), RECENT)])
KOREAN_US = Laptop("korean-us", "clean/mac_korean_layout_kst.json", person(3), [(Place.home("korean-us"), RECENT)])
UNROSTERED = Laptop("unrostered", "clean/linux_office_plain.json", None, [(Place.home("unrostered"), RECENT)])
SILENT = Laptop("silent", "clean/win_office_plain.json", person(5), [(Place.home("silent"), EARLY)])
NEVER_REPORTED = (serial("never-reported"), person(7), "2026-09-15")

FARM_LAPTOPS = [laptop for members in FARMS.values() for laptop in members]
FLEET = [*FARM_LAPTOPS, *OFFICE, *HOME, *COUPLE, *CARRIER, *VPN, KOREAN_HOME, KOREAN_US, UNROSTERED, SILENT]


@pytest.fixture(scope="module", params=ENGINES)
def fleet(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fleet")
    store = Store(new_database(request, request.param, folder))
    ingest_fleet(store, FLEET, START)
    import_roster(store, write_roster(folder / "roster.csv", FLEET, [NEVER_REPORTED]))
    unconfigured = correlate(store, FleetSettings(), NOW)
    result = correlate(store, SETTINGS, NOW)
    yield store, unconfigured, result
    store.close()


def serials(laptops) -> set[str]:
    return {laptop.serial for laptop in laptops}


def fleet_findings(store, rule: str) -> dict[str, dict]:
    return {row["device_id"]: row for row in store.rows("SELECT * FROM fleet_findings WHERE rule = ?", (rule,))}


def test_the_fleet_is_big_enough():
    assert len(FLEET) >= 200 and len(set(serials(FLEET))) == len(FLEET)


def test_the_three_farms_are_found_with_exactly_their_members(fleet):
    store, _, result = fleet
    flagged = [c for c in result.clusters if c["score"] >= SUSPICIOUS_AT]
    farms = {name: serials(members) for name, members in FARMS.items()}
    for cluster in flagged:  # every flagged cluster lies inside one farm …
        assert any(set(cluster["devices"]) <= members for members in farms.values()), cluster
    for name, members in farms.items():  # … and each farm's router names all its members
        by_gateway = [c for c in flagged if c["kind"] == GATEWAY and set(c["devices"]) == members]
        assert len(by_gateway) == 1, name
        assert by_gateway[0]["severity"] == "critical"
        assert by_gateway[0]["value"] == Place.home(name).gateway_mac


def test_farm_members_are_relays_and_the_clean_looking_ones_say_the_fleet_decided(fleet):
    store, _, _ = fleet
    rows = {r["device_id"]: r for r in store.rows("SELECT * FROM devices")}
    for laptop in FARM_LAPTOPS:
        row = rows[laptop.serial]
        assert row["verdict"] == "relay", laptop.label
        assert row["verdict_source"] == ("report" if row["own_verdict"] == "relay" else "fleet"), laptop.label
    assert {rows[laptop.serial]["own_verdict"] for laptop in FARM_LAPTOPS} == {"clean", "suspicious", "relay"}


def test_nothing_else_is_flagged_by_the_fleet(fleet):
    store, _, result = fleet
    farm_serials = serials(FARM_LAPTOPS)
    raised = {r["device_id"] for r in store.rows("SELECT device_id FROM devices WHERE verdict_source = 'fleet'")}
    assert raised - farm_serials == {UNROSTERED.serial}  # not on the roster: medium, on its own
    in_clusters = {d for c in result.clusters for d in c["devices"]}
    assert in_clusters - farm_serials == serials(COUPLE)


def test_the_couple_is_a_visible_low_cluster_and_stays_clean(fleet):
    store, _, result = fleet
    couple = [c for c in result.clusters if set(c["devices"]) == serials(COUPLE)]
    assert {c["kind"] for c in couple} == {"gateway_mac", "peer_ip"}  # the Mac withholds its BSSID
    assert all(c["household"] and c["severity"] == "low" for c in couple)
    verdicts = store.rows(f"SELECT verdict FROM devices WHERE device_id IN {tuple(serials(COUPLE))}")
    assert [v["verdict"] for v in verdicts] == ["clean", "clean"]


def test_office_carrier_nat_and_vpn_egress_are_not_clusters(fleet):
    _, unconfigured, result = fleet
    values = {c["value"] for c in result.clusters}
    assert not values & {OFFICE_EGRESS, CARRIER_NAT, VPN_EGRESS, router_mac("office")}
    assert result.skipped_keys["shared egress (devices behind different routers)"] >= 1  # the carrier NAT
    assert result.skipped_keys["shared egress (configured)"] == 1
    assert result.skipped_keys["office"] > 0
    # without the office configured, the office router and address would be clusters
    unconfigured_office = {c["value"] for c in unconfigured.clusters if set(c["devices"]) == serials(OFFICE)}
    assert {OFFICE_EGRESS, router_mac("office")} <= unconfigured_office
    assert any(e["event"] == "closed" for e in result.events)


def test_moves_silence_roster_and_locale_findings_name_exactly_their_devices(fleet):
    store, _, _ = fleet
    assert set(fleet_findings(store, "fleet-moved-to-cluster")) == serials(FARMS["farm-c"][:3])
    assert set(fleet_findings(store, "fleet-silent")) == {SILENT.serial}
    assert set(fleet_findings(store, "fleet-never-reported")) == {NEVER_REPORTED[0]}
    assert set(fleet_findings(store, "fleet-not-on-roster")) == {UNROSTERED.serial} | serials(FARMS["farm-c"][-2:])
    assert set(fleet_findings(store, "fleet-timezone-vs-roster")) == {KOREAN_US.serial}
    assert set(fleet_findings(store, "fleet-language-vs-roster")) == {KOREAN_US.serial}
    korean = store.rows("SELECT verdict FROM devices WHERE device_id = ?", (KOREAN_US.serial,))
    assert korean[0]["verdict"] == "clean"  # weak signals corroborate, never flag alone


def test_a_rerun_keeps_cluster_ids_and_records_no_new_events(fleet):
    store, _, result = fleet
    again = correlate(store, SETTINGS, NOW)
    assert [c["cluster_id"] for c in again.clusters] == [c["cluster_id"] for c in result.clusters]
    assert again.events == [] and again.verdict_changes == []


def test_a_new_report_does_not_erase_the_fleet_part(fleet):
    store, _, _ = fleet
    clean_member = FARMS["farm-a"][1]
    # the same laptop one day on: its four stored reports are duplicates, the fifth is new
    ingest_fleet(store, [Laptop(clean_member.label, clean_member.base, clean_member.person,
                                [(Place.home("farm-a"), range(4, 9))])], START)
    row = store.rows("SELECT verdict, own_verdict, verdict_source FROM devices WHERE device_id = ?",
                     (clean_member.serial,))[0]
    assert row == {"verdict": "relay", "own_verdict": "clean", "verdict_source": "fleet"}


def test_queries_show_the_combined_verdict_with_its_fleet_part(fleet):
    store, _, _ = fleet
    member = FARMS["farm-b"][2].serial
    info = queries.device(store, member)
    assert info["verdict"] == "relay" and info["verdict_source"] == "fleet"
    assert {f["rule"] for f in info["fleet_findings"]} == {"fleet-cluster"}
    assert [c["cluster_id"] for c in info["clusters"]] == [c["cluster_id"] for c in queries.clusters(store)
                                                           if member in c["devices"]]
    relays = {d["device_id"] for d in queries.devices(store, verdict="relay")}
    assert serials(FARM_LAPTOPS) <= relays
    cluster = queries.cluster(store, info["clusters"][0]["cluster_id"])
    assert member in {m["device_id"] for m in cluster["members"]}
    assert [e["event"] for e in cluster["events"]].count("joined") == len(cluster["members"])


def test_flags_list_fleet_findings_beside_report_findings(fleet):
    store, _, _ = fleet
    rows = queries.flags(store)
    fleet_rows = {(r["device_id"], r["rule"]) for r in rows if r["source"] == "fleet"}
    assert (NEVER_REPORTED[0], "fleet-never-reported") in fleet_rows
    assert {(laptop.serial, "fleet-cluster") for laptop in FARM_LAPTOPS} <= fleet_rows
    assert not {d for d, _ in fleet_rows} & serials(COUPLE + OFFICE)  # clean devices are not flagged
    assert {r["source"] for r in rows} == {"report", "fleet"}


def test_devices_filter_by_cluster_and_by_user(fleet):
    store, _, result = fleet
    farm_b = serials(FARMS["farm-b"])
    gateway = next(c for c in result.clusters if c["kind"] == GATEWAY and set(c["devices"]) == farm_b)
    assert {d["device_id"] for d in queries.devices(store, cluster=gateway["cluster_id"])} == farm_b
    owner = FARMS["farm-b"][0]
    assert [d["device_id"] for d in queries.devices(store, user=owner.person.email.upper())] == [owner.serial]
    assert [d["device_id"] for d in queries.devices(store, user=owner.person.name)] == [owner.serial]
