"""Honest places that look like farms, and farms that hide as honest places: unseen fleets through
the real ingest path. Each test says what the research makes of the place before correlation runs."""
from __future__ import annotations

from datetime import timedelta

import pytest

from farmwatch.collector import roster
from farmwatch.collector.fleet import FleetSettings, correlate
from tests.fleet_builder import Laptop, Person, Place, ingest_fleet, public_ip, router_mac
from tests.test_fleet_rules import NOW, START, fleet, verdicts  # noqa: F401  (fixture)

CLEAN, WIN, MAC = "clean/linux_office_plain.json", "clean/win_office_plain.json", "clean/mac_office_plain.json"
ALL_WEEK = range(0, 8)


def together(label: str, *people: Person, days=ALL_WEEK, base: str = CLEAN) -> list[Laptop]:
    return [Laptop(f"{label}-{p.name}", base, p, [(Place.home(label), days)]) for p in people]


# -- households however the roster spells them ------------------------------------------------

@pytest.mark.parametrize("first, second", [
    # one partner's row without a postal code (exports often leave it out)
    (Person("Ana Ruiz", "Denver", "CO", "US", "80202"), Person("Luis Ruiz", "Denver", "CO", "US", "")),
    # roommates: one ZIP, the city written as the borough on one row
    (Person("Rae Moon", "Brooklyn", "NY", "US", "11201"), Person("Sid Vale", "New York", "New York", "US", "11201")),
    # accents, country names and a canton's code against its name
    (Person("Urs Meier", "Zürich", "ZH", "Switzerland", "8001"), Person("Eva Meier", "Zurich", "Zurich", "CH", "8001")),
    # no postal codes at all, one city with and without its accent
    (Person("Joao Silva", "São Paulo", "SP", "Brazil", ""), Person("Bia Silva", "Sao Paulo", "SP", "BR", "")),
], ids=["postal-missing", "borough", "unicode-canton", "no-postal-codes"])
def test_a_couple_is_a_low_household_however_the_roster_spells_their_address(fleet, first, second):
    store, result = fleet(together("home", first, second))
    assert {(c["severity"], c["household"]) for c in result.clusters} == {("low", True)}
    assert {v[0] for v in verdicts(store).values()} == {"clean"}


@pytest.mark.parametrize("first, second", [
    (Person("Ann Ames", "Austin", "TX", "US", "78701"), Person("Bob Burr", "Austin", "TX", "US", "78702")),
    (Person("Ann Ames", "Austin", "TX", "US", ""), Person("Bob Burr", "Portland", "OR", "US", "")),
    (Person("Ann Ames", "Portland", "OR", "US", ""), Person("Bob Burr", "Portland", "ME", "US", "")),
], ids=["two-zips", "two-cities", "two-states"])
def test_two_people_the_roster_places_apart_are_no_household(fleet, first, second):
    _, result = fleet(together("farm", first, second))
    assert {(c["severity"], c["household"]) for c in result.clusters} == {("medium", False)}


def test_same_household_compares_what_both_rows_give():
    ship_to = roster.ship_to
    assert roster.same_household(ship_to("USA", "Texas", "Austin", "78701-1234"), ship_to("US", "TX", "AUSTIN", "78701"))
    assert not roster.same_household(ship_to("US", "TX", "Austin", "78701"), ship_to("CA", "ON", "Austin", "78701"))
    assert not roster.same_household(ship_to("US", None, None, None), ship_to("US", None, None, None))
    assert not roster.same_household(None, ship_to("US", "TX", "Austin", "78701"))


# -- shared addresses ---------------------------------------------------------------------------

def _person(i: int) -> Person:
    cities = [("Austin", "TX", "78701"), ("Boston", "MA", "02108"), ("Chicago", "IL", "60601"),
              ("Denver", "CO", "80202"), ("Seattle", "WA", "98101"), ("Miami", "FL", "33101")]
    return Person(f"Emp{i} Staff", *cities[i % len(cities)][:2], "US", cities[i % len(cities)][2])


def test_a_farm_with_a_router_per_shelf_is_one_cluster_by_its_address(fleet):
    """Three routers of two laptops each, one egress: the routers alone are three medium pairs; the
    address names all six, and the PiKVM on one shelf makes the whole farm critical."""
    address = public_ip("shelf-farm")
    laptops = [Laptop(f"shelf{s}-{j}", "relay/win_pikvm.json" if (s, j) == (0, 0) else CLEAN, _person(2 * s + j),
                      [(Place(address, router_mac(f"shelf{s}"), router_mac(f"shelf{s}", "bssid")), ALL_WEEK)])
               for s in range(3) for j in range(2)]
    store, result = fleet(laptops)
    [by_address] = [c for c in result.clusters if c["kind"] == "peer_ip"]
    assert by_address["value"] == address and len(by_address["devices"]) == 6
    assert by_address["severity"] == "critical"
    assert {v[0] for v in verdicts(store).values()} == {"relay"}


def test_carrier_nat_over_two_couples_homes_is_still_shared_egress(fleet):
    """Routers shared by a household are homes, not a farm's shelves: the address stays egress."""
    address = public_ip("cgnat")
    couples = [Laptop(f"{home}-{who}", CLEAN, Person(f"{who} {home}", "Austin", "TX", "US", postal),
                      [(Place(address, router_mac(home), router_mac(home, "bssid")), ALL_WEEK)])
               for home, postal in (("Lind", "78701"), ("Ruiz", "78745")) for who in ("Ann", "Bob")]
    store, result = fleet(couples)
    assert "peer_ip" not in {c["kind"] for c in result.clusters}
    assert result.skipped_keys["shared egress (devices behind different routers)"] == 1
    assert {v[0] for v in verdicts(store).values()} == {"clean"}


def test_a_full_tunnel_vpn_exit_is_no_place_however_many_use_it(fleet):
    """The default route goes through the tunnel (no gateway MAC); each laptop is on its own Wi-Fi."""
    exit_address = public_ip("corporate-vpn-exit")
    laptops = [Laptop(f"vpn-{i}", (CLEAN, WIN)[i % 2], _person(i),
                      [(Place(exit_address, None, router_mac(f"vpn-home-{i}", "bssid")), ALL_WEEK)]) for i in range(12)]
    store, result = fleet(laptops)
    assert result.clusters == []
    assert result.skipped_keys["shared egress (a tunnel's exit: no router, several Wi-Fi networks)"] == 1
    assert {v[0] for v in verdicts(store).values()} == {"clean"}


def test_a_farm_behind_one_consumer_vpn_exit_is_still_found_by_its_access_point(fleet):
    astrill_exit = public_ip("astrill-exit")
    laptops = [Laptop(f"astrill-{i}", base, _person(i), [(Place(astrill_exit, None, router_mac("farm-ap", "bssid")),
                                                          ALL_WEEK)])
               for i, base in enumerate(("suspicious/linux_astrill_vpn.json", "suspicious/linux_astrill_vpn.json", CLEAN))]
    store, result = fleet(laptops)
    assert {(c["kind"], c["severity"]) for c in result.clusters} == {("wifi_bssid", "critical"),
                                                                      ("peer_ip", "critical")}
    assert {v[0] for v in verdicts(store).values()} == {"relay"}


# -- places people come and go from ---------------------------------------------------------------

def test_colleagues_at_a_co_working_space_by_day_and_at_home_at_night_are_no_farm(fleet):
    space = Place(public_ip("cowork"), router_mac("cowork"), router_mac("cowork-ap", "bssid"))
    laptops = [Laptop(f"cowork-{i}", (CLEAN, WIN, MAC)[i % 3], Person(f"Emp{i} Cowork", "Austin", "TX", "US", f"7870{i}"),
                      [(space, range(1, 8), (15, 19)), (Place.home(f"cowork-{i}-home"), ALL_WEEK, (2,))])
               for i in range(5)]
    store, result = fleet(laptops)
    assert result.clusters == []
    assert result.skipped_keys["part-time (devices also at places of their own those days: commuters)"] == 3
    assert {v[0] for v in verdicts(store).values()} == {"clean"}


def test_a_conference_by_day_with_nights_at_separate_hotels_is_no_farm(fleet):
    venue = Place(public_ip("venue"), router_mac("venue"), router_mac("venue", "bssid"))
    laptops = [Laptop(f"conf-{i}", CLEAN, _person(i), [(Place.home(f"conf-{i}"), range(0, 3)), (venue, range(3, 6), (8, 12, 16)),
                                                         (Place.home(f"conf-{i}-hotel"), range(3, 6), (21,)),
                                                         (Place.home(f"conf-{i}"), range(6, 8))])
               for i in range(4)]
    store, result = fleet(laptops)
    assert result.clusters == [] and {v[0] for v in verdicts(store).values()} == {"clean"}


def test_a_team_offsite_is_visible_while_it_lasts_and_gone_once_everyone_is_home(fleet):
    hotel = Place(public_ip("hotel"), router_mac("hotel"), router_mac("hotel", "bssid"))
    def offsite(back_home: range) -> list[Laptop]:
        return [Laptop(f"offsite-{i}", CLEAN, _person(i), [(Place.home(f"offsite-{i}"), range(0, 2)), (hotel, range(2, 6)),
                                                             (Place.home(f"offsite-{i}"), back_home)])
                for i in range(4)]

    store, during = fleet(offsite(range(0)), now=START + timedelta(days=5, hours=23))
    assert {c["severity"] for c in during.clusters} == {"high"}  # four people at one router for days: visible
    ingest_fleet(store, offsite(range(6, 8)), START)  # the same reports again, and two days at home
    after = correlate(store, FleetSettings(), NOW)
    assert after.clusters == []
    assert after.skipped_keys["dispersed (its devices have gone back to places of their own)"] == 3
    assert {v[0] for v in verdicts(store).values()} == {"clean"}


def test_a_farm_laptop_carried_to_a_cafe_each_day_is_still_a_member(fleet):
    """Two laptops never leave the house: it is a home, and whoever comes there each night belongs."""
    house = Place.home("farm-house")
    laptops = [Laptop(f"farm-{i}", base, _person(i), [(house, ALL_WEEK, (1, 9, 17))]
                      + ([(Place.home("cafe"), ALL_WEEK, (13,))] if i == 2 else []))
               for i, base in enumerate(("relay/win_pikvm.json", CLEAN, WIN))]
    store, result = fleet(laptops)
    assert {len(c["devices"]) for c in result.clusters} == {3}
    assert {v[0] for v in verdicts(store).values()} == {"relay"}
