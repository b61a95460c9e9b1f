"""Whether two ship-to addresses can be one home (`same_household`)."""
from __future__ import annotations


def same_household(first: tuple | None, second: tuple | None) -> bool:
    """Whether two `ship_to` addresses can be one home: no part both rows give differs, and they
    agree on the postal code, or (one row lacking it) on the city. With both postal codes the city
    and region are not compared: one ZIP is "Brooklyn" on one row and "New York" on the other, a
    Swiss canton "ZH" or "Zurich". Exports often leave the postal code out; two rows of one city
    without it cannot be told apart from one home."""
    if first is None or second is None:
        return False
    (country_a, region_a, city_a, postal_a), (country_b, region_b, city_b, postal_b) = first, second
    if country_a and country_b and country_a != country_b:
        return False
    if postal_a and postal_b:
        return postal_a == postal_b
    if region_a and region_b and region_a != region_b:
        return False
    return bool(city_a and city_b and city_a == city_b)
