"""Honest places that look like farms, and farms that hide as honest places: unseen fleets through
the real ingest path. Each test says what the research makes of the place before correlation runs."""
from __future__ import annotations

from datetime import timedelta

import pytest

from farmwatch.collector import roster
from farmwatch.collector.fleet import FleetSettings, correlate
from tests.fleet_builder import Laptop, Person, Place, public_ip, router_mac
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
