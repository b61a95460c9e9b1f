"""Wi-Fi neighbourhoods: laptops that hear the same access points at similar strengths are in one
place, whatever router they sit behind and whatever address they reach us from (docs/fleet.md §10).

Each device's neighbourhood is kept per 4-hour UTC slot as keyed hashes of the BSSIDs it heard
and their mean signal (`fleet.neighbourhood`). Two devices were **together in a slot** when

    similarity = (access points both heard, their mean signals within SIGNAL_TOLERANCE_DB)
                 / (access points either heard)                                    ≥ SAME_PLACE

and at least MIN_SHARED access points matched (one shared access point is what the BSSID key
already says). The signal condition is what tells a shelf from the flat next door: neighbours
through a wall hear much the same networks, but each hears its own router and the other's tens
of dB apart; laptops a metre apart hear every one alike.

Two devices **live together** when they were together on `min_days_at_location` UTC days of the
window, the first and last of those slots at least `min_days_at_location - 1` days apart (the
stay rule of the location keys, `fleet.clusters`). Devices that live together, directly or
through each other, are one neighbourhood. As at a location key, **commuters** are left out: a
device that on those days also spent slots somewhere else — slots unlike both its slots with the
others and every other member's — works there by day and lives elsewhere (a co-working space);
a place where fewer than two devices live full-time is none. Slots whose latest report came from
the office (`office_networks`, `office_gateway_macs`, `office_bssids`) are not compared at all.

SAME_PLACE, SIGNAL_TOLERANCE_DB and MIN_SHARED are our heuristics, not published values:
calibrate them on the fleet (docs/fleet.md §10 says why these).
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations

SAME_PLACE = 0.6
SIGNAL_TOLERANCE_DB = 10
MIN_SHARED = 3


@dataclass(frozen=True)
class Slot:
    device_id: str
    slot: str              # "2026-11-03T16": the UTC day and the first hour of the slot
    first_seen: str
    last_seen: str
    reports: int
    heard: dict            # keyed hash → mean signal in dBm, None when no report gave one


@dataclass
class Neighbourhood:
    value: str                                       # the hash most of its members' slots heard
    rows: list[tuple] = field(default_factory=list)  # (kind, value, device_id, first_seen, last_seen, reports)


@dataclass
class Neighbourhoods:
    found: list[Neighbourhood]
    heard: set[str]          # every device with a compared slot in the window
    area_of: dict[str, int]  # device → index in `found`


def similarity(a: dict, b: dict) -> float:
    matched = sum(1 for key in a.keys() & b.keys()
                  if a[key] is None or b[key] is None or abs(a[key] - b[key]) <= SIGNAL_TOLERANCE_DB)
    return matched / len(a.keys() | b.keys()) if matched >= MIN_SHARED else 0.0


def neighbourhoods(reads, start_slot: str, min_days: int, at_office, skipped: Counter, kind: str) -> Neighbourhoods:
    """The window's neighbourhoods of two or more devices (`at_office(peer_ip, gateway, bssid)`
    tells a slot at the office; `skipped` counts what was dropped, by reason)."""
    slots = _slots(reads, start_slot, at_office)
    together = _together(slots)
    living = [pair for pair, shared in together.items() if _stayed(shared, min_days)]
    found, area_of = [], {}
    for devices in _components(living):
        mates = {pair: shared for pair, shared in together.items() if pair[0] in devices and pair[1] in devices}
        full_time = [d for d in devices if not _commutes(d, slots[d], mates, slots, min_days)]
        if len(full_time) < 2:
            skipped["part-time (devices also at places of their own those days: commuters)"] += 1
            continue
        area_of.update((device, len(found)) for device in devices)
        found.append(_neighbourhood(sorted(devices), mates, slots, kind))
    return Neighbourhoods(found, set(slots), area_of)


def _slots(reads, start_slot: str, at_office) -> dict[str, dict[str, Slot]]:
    found: dict[str, dict[str, Slot]] = {}
    for device_id, slot, first, last, reports, peer_ip, gateway, bssid, heard in reads.scans_since(start_slot):
        if at_office(peer_ip, gateway, bssid):
            continue
        means = {key: (total / known if known else None) for key, (_, known, total) in json.loads(heard).items()}
        found.setdefault(device_id, {})[slot] = Slot(device_id, slot, first, last, reports, means)
    return found


def _together(slots: dict[str, dict[str, Slot]]) -> dict[tuple, list[tuple[Slot, Slot]]]:
    """(device, device) → the slot pairs they were together in. Only devices that heard one
    access point in one slot are compared (an index by slot and hash), not every pair."""
    by_key: dict[tuple, set[str]] = {}
    for device, own in slots.items():
        for name, slot in own.items():
            for key in slot.heard:
                by_key.setdefault((name, key), set()).add(device)
    candidates = {(name, pair) for (name, _), devices in by_key.items() if len(devices) > 1
                  for pair in combinations(sorted(devices), 2)}
    together: dict[tuple, list] = {}
    for name, (a, b) in candidates:
        first, second = slots[a][name], slots[b][name]
        if similarity(first.heard, second.heard) >= SAME_PLACE:
            together.setdefault((a, b), []).append((first, second))
    return together


def _stayed(shared: list[tuple[Slot, Slot]], min_days: int) -> bool:
    days = {first.slot[:10] for first, _ in shared}
    start = min(max(a.first_seen, b.first_seen) for a, b in shared)
    end = max(min(a.last_seen, b.last_seen) for a, b in shared)
    return len(days) >= min_days and _days_between(start, end) >= min_days - 1


def _days_between(start: str, end: str) -> float:
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds() / 86400


def _components(pairs: list[tuple]) -> list[set[str]]:
    parent: dict[str, str] = {}

    def root(device: str) -> str:
        while parent.setdefault(device, device) != device:
            parent[device] = parent[parent[device]]
            device = parent[device]
        return device

    for a, b in pairs:
        parent[root(a)] = root(b)
    groups: dict[str, set[str]] = {}
    for device in parent:
        groups.setdefault(root(device), set()).add(device)
    return sorted(groups.values(), key=min)


def _commutes(device: str, own: dict[str, Slot], mates: dict, slots: dict, min_days: int) -> bool:
    """Whether the device spent slots elsewhere on `min_days` of its days with the others: slots
    unlike its own slots with them that day and unlike every other member's slot then."""
    with_them = {name for (a, b), shared in mates.items() if device in (a, b) for name in (s.slot for s, _ in shared)}
    members = {d for pair in mates for d in pair} - {device}
    away_days = set()
    for name, slot in own.items():
        day = name[:10]
        if name in with_them or not any(n[:10] == day for n in with_them):
            continue
        alike = [own[n] for n in with_them if n[:10] == day] + [slots[m][name] for m in members if name in slots[m]]
        if all(similarity(slot.heard, other.heard) < SAME_PLACE for other in alike):
            away_days.add(day)
    return len(away_days) >= min_days


def _neighbourhood(devices: list[str], mates: dict, slots: dict, kind: str) -> Neighbourhood:
    """Named by the hash most member slots heard (the same name run after run while it lasts)."""
    names: dict[str, set[str]] = {d: set() for d in devices}
    for (a, b), shared in mates.items():
        for first, _ in shared:
            names[a].add(first.slot)
            names[b].add(first.slot)
    heard = Counter(key for d in devices for name in names[d] for key in slots[d][name].heard)
    value = min(heard, key=lambda key: (-heard[key], key))
    rows = []
    for device in devices:
        own = [slots[device][name] for name in sorted(names[device])]
        rows.append((kind, value, device, min(s.first_seen for s in own), max(s.last_seen for s in own),
                     sum(s.reports for s in own)))
    return Neighbourhood(value, rows)
