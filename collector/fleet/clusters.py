"""Clusters: one location key shared, within the window, by devices of two or more people.

People come from the roster: a person is their e-mail address, else their user name (matched to
the e-mail of the same user name's other rows, see `_PERSON`); a device that is not on the roster
(or has no user there) is its own unknown person.

What keeps benign places out (docs/fleet.md §1 and docs/detection.md §I4):
- the key kinds' own exclusions (`keys`), and the configured office networks, gateway MACs and
  BSSIDs: a device whose latest report from a key came from the office is not counted at that
  key. Any one configured kind places a report at the office for all its keys (behind the office
  gateway, its public address and BSSID are the office's too);
- configured shared egress ranges (corporate VPN/SASE, known carrier NAT) never key a cluster;
- a public address whose devices sit behind *different* routers (more than one gateway MAC) is
  an egress shared by separate networks — carrier NAT, a VPN exit — not a place; a farm sits
  behind one router, and its gateway MAC keys the cluster anyway. Unless two or more of those
  routers are themselves shared by people who are not one household: that is one place with a
  router per shelf, and the address names the whole farm;
- a public address none of whose devices shows a gateway MAC but which several Wi-Fi networks
  (BSSIDs) reach is a tunnel's exit — a full-tunnel corporate VPN routes the default route
  through a virtual interface with no MAC — not a place;
- Wi-Fi neighbourhoods (`colocation`) are clusters too, and split an address whose routers'
  devices live in separate neighbourhoods (docs/fleet.md §10);
- a device counts at a key only after a stay there: reports on `min_days_at_location` days
  within the window, the first and last at least `min_days_at_location - 1` whole days apart
  (a conference or a two-night hotel stay touches three UTC days but lasts under two).

Score (0-100), documented here and nowhere else:
    people:   2 → 35 (10 when both can share one ship-to address: a household, as
              `roster.same_household` judges it — city spellings and a missing postal code
              forgiven), 3 → 50,
              each further person +5, at most 65 — size alone never reaches RELAY_AT;
    evidence: +20 per member whose own verdict is relay, +10 per suspicious member; cap 100.
    RELAY_AT needs conclusive evidence — a relay member, or two suspicious members — else the
    score is held at RELAY_AT - 1, as detect holds a report without a critical finding: one
    member's tool (installed, idle, running) never turns a whole cluster into relays.
Severity of the cluster (what its members' fleet finding carries), using detect's thresholds:
    score ≥ RELAY_AT → critical; ≥ the high weight (45) → high; ≥ SUSPICIOUS_AT → medium; else low.
So a couple working from home is a visible low cluster; two unrelated people behind one router
are medium; three or more are high; and three or more where a member is seen being driven (or two
members carry remote-control tools) are critical, which makes every member a relay.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations

from farmwatch.collector.detect.scoring import MAX_SCORE, RELAY_AT, SEVERITY_WEIGHTS, SUSPICIOUS_AT
from farmwatch.collector.fleet.colocation import Neighbourhoods, neighbourhoods
from farmwatch.collector.fleet.keys import ADDRESS, CLUSTER_KINDS, GATEWAY, KEY_OF, WIFI_AREA, cluster_id, in_networks
from farmwatch.collector.fleet.settings import FleetSettings
from farmwatch.collector.roster import same_household, ship_to
from farmwatch.common.device_id import canonical_device_id

_SIZE_POINTS = {2: 35, 3: 50}
_HOUSEHOLD_POINTS = 10
_PER_EXTRA_PERSON, _SIZE_CAP = 5, 65
_EVIDENCE_POINTS = {"relay": 20, "suspicious": 10}


@dataclass
class Member:
    device_id: str
    person: str
    on_roster: bool
    address: tuple | None  # roster.ship_to: (country, region, city, postal code) in one spelling
    first_seen: str
    last_seen: str
    reports: int
    own_verdict: str | None


@dataclass
class Cluster:
    kind: str
    value: str
    members: list[Member] = field(default_factory=list)

    @cached_property
    def cluster_id(self) -> str:
        return cluster_id(self.kind, self.value)

    # members are fixed once the cluster is built, so its measures are computed once
    @cached_property
    def people(self) -> int:
        return len({m.person for m in self.members})

    @cached_property
    def household(self) -> bool:
        """Exactly two people whose ship-to addresses can be one home (every pair of their devices)."""
        return self.people == 2 and all(same_household(a.address, b.address) for a in self.members
                                        for b in self.members if a.person < b.person)

    @property
    def first_seen(self) -> str:
        return min(m.first_seen for m in self.members)

    @property
    def last_seen(self) -> str:
        return max(m.last_seen for m in self.members)

    def members_with(self, verdict: str) -> int:
        return sum(m.own_verdict == verdict for m in self.members)

    @cached_property
    def score(self) -> int:
        people = self.people
        size = _HOUSEHOLD_POINTS if self.household else _SIZE_POINTS.get(
            people, min(_SIZE_CAP, _SIZE_POINTS[3] + _PER_EXTRA_PERSON * (people - 3)))
        evidence = sum(points * self.members_with(v) for v, points in _EVIDENCE_POINTS.items())
        score = min(MAX_SCORE, size + evidence)
        return score if self.conclusive else min(score, RELAY_AT - 1)

    @property
    def conclusive(self) -> bool:
        """Evidence enough for a critical cluster: a member seen being driven, or two carrying tools."""
        return self.members_with("relay") >= 1 or self.members_with("suspicious") >= 2

    @cached_property
    def severity(self) -> str:
        score = self.score
        if score >= RELAY_AT:
            return "critical"
        if score >= SEVERITY_WEIGHTS["high"]:
            return "high"
        return "medium" if score >= SUSPICIOUS_AT else "low"


def find_clusters(reads, settings: FleetSettings, window_start: str) -> tuple[list[Cluster], Counter]:
    """Clusters in the window, strongest key kind first; plus why candidate keys were dropped.
    `reads`: the run's `storage.correlation.FleetReads`."""
    skipped: Counter = Counter()
    groups, several_routers = _shared_keys(reads, settings, window_start, skipped)
    areas = _areas(reads, settings, window_start, skipped)
    groups.update({(WIFI_AREA, area.value): area.rows for area in areas.found})
    devices = {row[2] for rows in [*groups.values(), *several_routers.values()] for row in rows}
    people = _people(reads, devices)
    verdicts = reads.own_verdicts(devices)
    clusters = []
    for (kind, value), rows in groups.items():
        cluster = Cluster(kind, value, [_member(row, people, verdicts) for row in rows])
        if cluster.people < 2:
            skipped["one person"] += 1
            continue
        cluster.members.sort(key=lambda m: m.device_id)
        clusters.append(cluster)
    clusters += _one_place_with_several_routers(clusters, several_routers, people, verdicts, skipped, areas)
    clusters.sort(key=lambda c: (CLUSTER_KINDS.index(c.kind), c.value))
    return clusters, skipped


def _areas(reads, settings: FleetSettings, start: str, skipped: Counter) -> Neighbourhoods:
    if not settings.wifi_neighbourhood:
        return Neighbourhoods([], set(), {})
    return neighbourhoods(reads, start[:13], settings.min_days_at_location, _office_test(settings), skipped, WIFI_AREA)


def _one_place_with_several_routers(clusters: list[Cluster], candidates: dict, people: dict, verdicts: dict,
                                    skipped: Counter, areas: Neighbourhoods) -> list[Cluster]:
    """Addresses behind several routers that are one place: two or more of the routers are
    shared by people who are not one household (a farm with a router per shelf) — unless the
    Wi-Fi neighbourhoods put those routers' devices in different places (strangers' flats behind
    one carrier NAT). Else the address is a shared egress (carrier NAT, a VPN exit) whose
    routers are separate homes; where one neighbourhood spans several of its routers (a router
    per laptop), that neighbourhood's own cluster names the place."""
    shared_routers = {c.value for c in clusters if c.kind == GATEWAY and not c.household}
    found = []
    for (kind, value), rows in candidates.items():
        routers = {row[7] for row in rows if row[7]}
        if len(routers & shared_routers) < 2:
            skipped[_why_egress(rows, areas)] += 1
            continue
        if _separate_neighbourhoods(rows, routers & shared_routers, areas):
            skipped["shared egress (its routers are in separate Wi-Fi neighbourhoods)"] += 1
            continue
        cluster = Cluster(kind, value, sorted((_member(row, people, verdicts) for row in rows),
                                              key=lambda m: m.device_id))
        found.append(cluster)
    return found


def _why_egress(rows: list[tuple], areas: Neighbourhoods) -> str:
    spanning = Counter(areas.area_of[row[2]] for row in rows if row[2] in areas.area_of)
    if any(count >= 2 for count in spanning.values()):
        return "several routers, one Wi-Fi neighbourhood (its wifi_area cluster names the place)"
    return "shared egress (devices behind different routers)"


def _separate_neighbourhoods(rows: list[tuple], routers: set[str], areas: Neighbourhoods) -> bool:
    """Two or more of the routers have devices whose Wi-Fi was heard, and no neighbourhood
    holds devices of two of them."""
    heard: dict[str, set] = {}
    for row in rows:
        if row[7] in routers and row[2] in areas.heard:
            heard.setdefault(row[7], set()).add(areas.area_of.get(row[2], ("alone", row[2])))
    return len(heard) >= 2 and not any(a & b for a, b in combinations(heard.values(), 2))


def _shared_keys(reads, settings: FleetSettings, start: str, skipped: Counter) -> tuple[dict, dict]:
    """(key → its rows) of the places, and of the addresses behind several routers, judged once the
    routers' own clusters are known. A device counts at a key when it stayed there (see
    `FleetReads.shared_key_rows`)."""
    rows_at: dict[tuple, list[tuple]] = {}
    for row in reads.shared_key_rows(start, settings.min_days_at_location):
        rows_at.setdefault((row[0], row[1]), []).append(row)
    at_office = _office_test(settings)
    candidates = {}
    for (kind, value), rows in rows_at.items():
        if len(rows) < 2:
            continue  # shared once, not within the window
        kept = [row for row in rows if not at_office(*row[6:9])]
        if len(kept) < 2:
            skipped["office" if len(kept) < len(rows) else "one device"] += 1
            continue
        candidates[(kind, value)] = kept
    days = _days_at(reads, {row[2] for rows in candidates.values() for row in rows}, start)
    groups, several_routers = {}, {}
    for (kind, value), kept in candidates.items():
        kept, reason = _staying((kind, value), kept, days, settings.min_days_at_location)
        reason = reason or _not_a_place((kind, value), kept, settings)
        if reason == _SEVERAL_ROUTERS:
            several_routers[(kind, value)] = kept
        elif reason:
            skipped[reason] += 1
        else:
            groups[(kind, value)] = kept
    return groups, several_routers


def _days_at(reads, devices: set[str], start: str) -> dict[tuple, dict[str, set[str]]]:
    """(device, kind) → value → the UTC days in the window the device reported from it."""
    found: dict[tuple, dict[str, set[str]]] = {}
    for device_id, kind, value, day in reads.days_at(devices, start):
        found.setdefault((device_id, kind), {}).setdefault(value, set()).add(day)
    return found


def _staying(key: tuple, rows: list[tuple], days: dict, min_days: int) -> tuple[list[tuple], str | None]:
    """The rows of devices that live at the key, or why the key is no longer a place.

    Only the device's places of the key's kind that none of the key's other devices reported
    from count as its own (a farm that moved house or rotates between two houses shares both).
    A device that reported from its own places on `min_days` of its days at the key commutes:
    the co-working space by day and home at night, a conference by day and a hotel at night; a
    farm's laptop never leaves. Where fewer than two devices live full-time, the key is no place
    (a co-working space, a conference); where two or more do, it is a home, and a laptop carried
    from it to a café each day is a member too. A device whose last day at the key came before a
    day at its own places has left — a team offsite over, everyone home again; when fewer than
    two devices are still there, the place has dispersed."""
    kind, value = key
    visited = [set(days.get((row[2], kind), {})) for row in rows]
    full_time, left = [], set()
    for index, row in enumerate(rows):
        places = days.get((row[2], kind), {})
        others = set().union(*visited[:index], *visited[index + 1:])
        here = places.get(value, set())
        own_days = set().union(*(d for v, d in places.items() if v != value and v not in others))
        if here and own_days and max(own_days) > max(here):
            left.add(row[2])
        if len(here & own_days) < min_days:
            full_time.append(row)
    if len(full_time) < 2:
        return full_time, "part-time (devices also at places of their own those days: commuters)"
    if sum(row[2] not in left for row in rows) < 2:
        return rows, "dispersed (its devices have gone back to places of their own)"
    return rows, None


def _office_test(settings: FleetSettings):
    """(address, gateway MAC, BSSID) a report showed → whether it came from the office; addresses
    judged once each."""
    judged: dict[str, bool] = {}
    gateways, bssids = frozenset(settings.office_gateway_macs), frozenset(settings.office_bssids)

    def at_office(peer_ip: str | None, gateway: str | None, bssid: str | None) -> bool:
        if gateway in gateways or bssid in bssids:
            return True
        if peer_ip not in judged:
            judged[peer_ip] = in_networks(peer_ip, settings.office_networks)
        return judged[peer_ip]

    return at_office


def _not_a_place(key: tuple, rows: list[tuple], settings: FleetSettings) -> str | None:
    kind, value = key
    if KEY_OF[kind](value) != value:
        return "no longer a key (stored before the key rules changed)"
    if kind != ADDRESS:
        return None
    if in_networks(value, settings.shared_egress_networks):
        return "shared egress (configured)"
    routers = {row[7] for row in rows if row[7]}
    if len(routers) > 1:
        return _SEVERAL_ROUTERS
    if not routers and len({row[8] for row in rows if row[8]}) > 1:
        return "shared egress (a tunnel's exit: no router, several Wi-Fi networks)"
    return None


_SEVERAL_ROUTERS = "several routers"


def _member(row: tuple, people: dict, verdicts: dict) -> Member:
    device_id = row[2]
    person, address = people.get(device_id, (None, None))
    return Member(device_id, person or f"unknown:{device_id}", person is not None, address,
                  row[3], row[4], row[5], verdicts.get(device_id))


def _people(reads, devices: set[str]) -> dict[str, tuple]:
    """device_id → (person, ship-to address) for devices on the roster with a user (a person: see
    `storage.correlation._PERSON`)."""
    found = {}
    wanted = {canonical_device_id(device): device for device in devices}
    for serial, person, *address in reads.roster_people(list(wanted)):
        if person:
            found[wanted[serial]] = (person, ship_to(*address))
    return found
