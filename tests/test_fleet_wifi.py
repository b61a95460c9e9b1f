"""Wi-Fi neighbourhoods (docs/fleet.md §10): co-location that does not depend on the router or the
address, through the real ingest path, and what the collector keeps of other people's networks."""
from __future__ import annotations

import json
import os
import stat

import pytest

from farmwatch.collector.config import CollectorConfig, ConfigError
from farmwatch.collector.fleet import FleetSettings, FleetSettingsError, correlate
from farmwatch.collector.fleet.colocation import similarity
from farmwatch.collector.fleet.neighbourhood import KEY_NAME, hasher_for, load_or_make_key
from tests.fleet_builder import Laptop, Person, Place, airspace, public_ip, router_mac
from tests.test_fleet_rules import NOW, fleet, verdicts  # noqa: F401  (fixture)

CLEAN, ANYDESK = "clean/linux_office_plain.json", "suspicious/win_anydesk_idle.json"
ALL_WEEK = range(0, 8)
# Agents report every few minutes, so two laptops in one place share every 4-hour slot; the
# simulated ones report three times a day, in the same slots.
DAY = (3, 11, 19)
CITIES = [("Austin", "TX", "78701"), ("Boston", "MA", "02108"), ("Chicago", "IL", "60601"), ("Denver", "CO", "80202"),
          ("Seattle", "WA", "98101"), ("Miami", "FL", "33101"), ("Omaha", "NE", "68102"), ("Tulsa", "OK", "74103"),
          ("Boise", "ID", "83702"), ("Reno", "NV", "89501")]


def _person(i: int, tag: str = "Emp") -> Person:
    city, region, postal = CITIES[i % len(CITIES)]
    return Person(f"{tag}{i} Staff", city, region, "US", postal)


def _router_per_laptop_farm(wifi_heard: bool = True) -> list[Laptop]:
    """Five people's laptops on one shelf, each behind a router of its own, one public address
    upstream. Each hears the street's networks and the four other routers a metre away."""
    address, street = public_ip("shelf-house"), airspace("farm-street", 8)
    routers = [(router_mac(f"farm-router-{i}"), router_mac(f"farm-router-{i}", "bssid")) for i in range(5)]
    laptops = []
    for i, (gateway, bssid) in enumerate(routers):
        shelf = tuple((b, f"router{j}", -44) for j, (_, b) in enumerate(routers) if j != i)
        heard = (street + shelf) if wifi_heard else ()
        laptops.append(Laptop(f"shelf-{i}", ANYDESK if i == 0 else CLEAN, _person(i),
                              [(Place(address, gateway, bssid, heard), ALL_WEEK)], hours=DAY))
    return laptops


def test_a_farm_with_a_router_per_laptop_is_one_high_cluster_by_its_neighbourhood(fleet):
    store, result = fleet(_router_per_laptop_farm())
    [cluster] = result.clusters
    assert (cluster["kind"], cluster["people"], len(cluster["devices"])) == ("wifi_area", 5, 5)
    assert cluster["severity"] == "high"  # five people: 60, one AnyDesk +10, held below relay without proof
    assert result.skipped_keys["several routers, one Wi-Fi neighbourhood (its wifi_area cluster names the place)"] == 1
    assert {v[0] for v in verdicts(store).values()} == {"suspicious"}


def test_without_the_neighbourhood_the_same_farm_is_invisible(fleet):
    """What the issue saw: every router has one person, and the address has several routers."""
    store, result = fleet(_router_per_laptop_farm(), wifi=False)
    assert result.clusters == []
    assert result.skipped_keys["shared egress (devices behind different routers)"] == 1
    assert sorted(v[0] for v in verdicts(store).values()) == ["clean"] * 4 + ["suspicious"]
    # a store without the key (the setting off) drops the lists on ingest: nothing kept, raw reports stripped
    assert store.rows("SELECT count(*) AS n FROM device_scans")[0]["n"] == 0
    assert all(len(report.network.wifi_nearby) == 0 for _, _, report in store.stored_reports())


def test_ten_strangers_behind_one_carrier_nat_address_are_no_place(fleet):
    address = public_ip("carrier-nat")
    laptops = [Laptop(f"cgnat-{i}", CLEAN, _person(i, "Cg"), [(Place(address, router_mac(f"cgnat-home-{i}"),
                                                                      router_mac(f"cgnat-home-{i}", "bssid"),
                                                                      airspace(f"cgnat-street-{i}")), ALL_WEEK)],
                      hours=DAY)
               for i in range(10)]
    store, result = fleet(laptops)
    assert result.clusters == []
    assert result.skipped_keys["shared egress (devices behind different routers)"] == 1
    assert {v[0] for v in verdicts(store).values()} == {"clean"}


def test_strangers_sharing_routers_in_separate_neighbourhoods_split_their_address(fleet):
    """Two pairs of flatmates behind one carrier NAT: without Wi-Fi the router-per-shelf rule makes
    the address one place of four people; their neighbourhoods say they live apart."""
    address = public_ip("split-nat")
    flats = [Place(address, router_mac(f"flat{f}"), router_mac(f"flat{f}", "bssid"), airspace(f"flat-street{f}"))
             for f in range(2)]
    laptops = [Laptop(f"flat{f}-{j}", CLEAN, _person(2 * f + j, "Flat"), [(flats[f], ALL_WEEK)], hours=DAY)
               for f in range(2) for j in range(2)]
    _, blind = fleet(laptops, wifi=False)
    assert {(c["kind"], c["people"]) for c in blind.clusters if c["kind"] == "peer_ip"} == {("peer_ip", 4)}
    store, result = fleet(laptops)
    assert "peer_ip" not in {c["kind"] for c in result.clusters}
    assert result.skipped_keys["shared egress (its routers are in separate Wi-Fi neighbourhoods)"] == 1
    assert {(c["kind"], c["severity"], c["people"]) for c in result.clusters} == {
        ("gateway_mac", "medium", 2), ("wifi_bssid", "medium", 2), ("wifi_area", "medium", 2)}


def test_a_couple_is_a_low_household_in_its_neighbourhood_too(fleet):
    home = Place.home("couple", airspace("couple-street"))
    laptops = [Laptop(f"couple-{who}", CLEAN, Person(f"{who} Lind", "Austin", "TX", "US", "78701"), [(home, ALL_WEEK)],
                      hours=DAY) for who in ("Ann", "Bob")]
    store, result = fleet(laptops)
    assert {(c["kind"], c["severity"], c["household"]) for c in result.clusters} == {
        ("gateway_mac", "low", True), ("wifi_bssid", "low", True), ("wifi_area", "low", True), ("peer_ip", "low", True)}
    assert {v[0] for v in verdicts(store).values()} == {"clean"}


def _office() -> tuple[list[Laptop], FleetSettings]:
    """Docked laptops that never leave the office, hearing its access points and the next firms'."""
    office = Place("198.51.100.7", router_mac("acme-office"), router_mac("acme-office", "bssid"),
                   airspace("office-park", 12))
    laptops = [Laptop(f"office-{i}", CLEAN, _person(i, "Off"), [(office, ALL_WEEK, (14, 18, 22))]) for i in range(6)]
    return laptops, FleetSettings(office_networks=("198.51.100.0/28",))


def test_an_office_in_office_networks_is_no_place(fleet):
    laptops, settings = _office()
    store, result = fleet(laptops, settings=settings)
    assert result.clusters == [] and {v[0] for v in verdicts(store).values()} == {"clean"}
    _, unconfigured = fleet(laptops)
    assert "wifi_area" in {c["kind"] for c in unconfigured.clusters}  # the setting, not luck, keeps it out


def test_a_co_working_space_by_day_is_no_place_for_commuters(fleet):
    space = Place(public_ip("cowork"), router_mac("cowork"), router_mac("cowork-ap", "bssid"),
                  airspace("cowork-block", 12))
    homes = [Place.home(f"cowork-{i}-home", airspace(f"cw-home-{i}")) for i in range(5)]
    laptops = [Laptop(f"cowork-{i}", CLEAN, _person(i, "Cw"), [(space, range(1, 8), (15, 19)), (homes[i], ALL_WEEK, (2,))])
               for i in range(5)]
    store, result = fleet(laptops)
    assert result.clusters == []
    assert result.skipped_keys["part-time (devices also at places of their own those days: commuters)"] == 4
    assert {v[0] for v in verdicts(store).values()} == {"clean"}


# -- the signal condition and the threshold ----------------------------------------------------------

def test_similarity_needs_the_same_networks_at_similar_strengths():
    shelf = {f"ap{i}": -50.0 - i for i in range(10)}
    assert similarity(shelf, {k: v + 4 for k, v in shelf.items()}) == 1.0
    # the flat next door: the same networks, but the two routers heard tens of dB apart, the rest 12 dB off
    next_door = {k: v - 12 for k, v in shelf.items()}
    assert similarity(shelf, next_door) == 0.0
    assert similarity({"a": -40, "b": -50}, {"a": -41, "b": -52}) == 0.0  # two shared networks say nothing more
    assert similarity({"a": None, "b": -50, "c": -60}, {"a": -70, "b": -49, "c": -61, "d": -80}) == 0.75


# -- what is kept, and turning it off ---------------------------------------------------------------

def test_no_neighbour_bssid_or_name_is_stored_anywhere(fleet):
    store, _ = fleet(_router_per_laptop_farm())
    tables = store.db.table_names()  # every table, on either engine
    stored = "\n".join(str(row) for table in tables for row in store.rows(f"SELECT * FROM {table}"))
    for bssid, ssid, _ in airspace("farm-street", 8):
        assert bssid not in stored and ssid not in stored
    reports = list(store.stored_reports())  # raw reports are compressed: read them back
    assert reports and all(len(report.network.wifi_nearby) == 0 for _, _, report in reports)
    heard = json.loads(store.rows("SELECT heard FROM device_scans LIMIT 1")[0]["heard"])
    assert heard and all(len(key) == 32 and int(key, 16) >= 0 for key in heard)


def test_turned_off_the_lists_are_dropped_and_what_was_kept_is_deleted(fleet):
    store, result = fleet(_router_per_laptop_farm())
    assert store.rows("SELECT count(*) AS n FROM device_scans")[0]["n"] > 0
    off = correlate(store, FleetSettings(wifi_neighbourhood=False), NOW)
    assert "wifi_area" not in {c["kind"] for c in off.clusters}
    assert store.rows("SELECT count(*) AS n FROM device_scans")[0]["n"] == 0


def test_the_key_is_made_once_owner_only_and_a_damaged_one_stops_the_collector(tmp_path):
    config = CollectorConfig(home=tmp_path)
    first = hasher_for(config)
    path = tmp_path / "pki" / KEY_NAME
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and len(path.read_bytes()) == 32
    assert hasher_for(config)("00:11:22:33:44:55") == first("00:11:22:33:44:55")
    assert hasher_for(CollectorConfig(home=tmp_path, fleet=FleetSettings(wifi_neighbourhood=False))) is None
    path.write_bytes(b"short")
    with pytest.raises(ConfigError, match="restore it from the backup"):
        load_or_make_key(path)


def test_the_setting_is_a_boolean():
    with pytest.raises(FleetSettingsError, match="true or false"):
        FleetSettings.from_dict({"wifi_neighbourhood": "no"})


def test_the_kept_neighbourhoods_do_not_depend_on_the_order_reports_arrive_in(fleet):
    def scans(store):
        return store.rows("SELECT device_id, slot, first_seen, last_seen, reports, peer_ip, gateway_mac, wifi_bssid, "
                          "heard FROM device_scans ORDER BY device_id, slot")

    in_order, _ = fleet(_router_per_laptop_farm())
    backwards, _ = fleet(_router_per_laptop_farm(), reorder=reversed)
    assert scans(in_order) == scans(backwards)
