"""Simulated fleets for the correlation tests: laptops from the scenario corpus, given their own
serials, owners and places, reporting once a day through the collector's real ingest path.

Everything that varies (serial, host name, addresses, MACs, report ids) is derived from a label
with SHA-256, so a fleet is the same on every run.
"""
from __future__ import annotations

import csv
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

from google.protobuf import json_format

from farmwatch.collector import roster
from farmwatch.collector.ingest import classifier, prepare
from farmwatch.collector.ingest import Store
from farmwatch.v1 import report_pb2

SCENARIOS = Path(__file__).parent / "scenarios"
_SERIAL_ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXYZ"
# Prefixes of real consumer ISPs' address space, so the addresses are global.
_ISP_PREFIXES = ("73", "98", "24", "67", "71", "76", "99", "108")
_ROUTER_OUIS = ("04:d9:f5", "50:c7:bf", "c8:3a:35", "b0:be:76", "f4:f2:6d", "e8:48:b8")


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("/".join(parts).encode()).digest()


def serial(label: str) -> str:
    raw = _digest("serial", label)
    return "FW" + "".join(_SERIAL_ALPHABET[b % len(_SERIAL_ALPHABET)] for b in raw[:8])


def public_ip(label: str) -> str:
    raw = _digest("ip", label)
    return f"{_ISP_PREFIXES[raw[0] % len(_ISP_PREFIXES)]}.{raw[1]}.{raw[2]}.{1 + raw[3] % 250}"


def router_mac(label: str, kind: str = "gateway") -> str:
    raw = _digest(kind, label)
    return _ROUTER_OUIS[raw[0] % len(_ROUTER_OUIS)] + "".join(f":{b:02x}" for b in raw[1:4])


def airspace(label: str, count: int = 10) -> tuple:
    """The access points heard at a place: (bssid, ssid, signal in dBm), each a neighbour's
    network at its own distance (-55 to -88 dBm)."""
    return tuple((router_mac(f"{label}-{i}", "bssid"), f"{label}-net{i}",
                  -55 - _digest("signal", label, str(i))[0] % 34) for i in range(count))


@dataclass(frozen=True)
class Place:
    peer_ip: str
    gateway_mac: str | None
    bssid: str | None
    heard: tuple = ()  # airspace(): the access points in range (the place's own one is added at -38 dBm)

    @classmethod
    def home(cls, label: str, heard: tuple = ()) -> "Place":
        """A home network of its own: its public address, router and access point."""
        return cls(public_ip(label), router_mac(label), router_mac(label, "bssid"), heard)


@dataclass(frozen=True)
class Person:
    name: str
    city: str
    region: str
    country: str = "US"
    postal_code: str = ""

    @property
    def email(self) -> str:
        return self.name.lower().replace(" ", ".") + "@acme.example"


@dataclass
class Laptop:
    label: str
    base: str                     # scenario file, e.g. "clean/linux_office_plain.json"
    person: Person | None         # None: not on the roster
    # where it reported, on which days; a third item gives that stay's own UTC hours (a commuter:
    # the co-working space by day, home in the evening)
    stays: list[tuple] = field(default_factory=list)
    timezone: str | None = None   # overrides the base report's
    hours: tuple | None = None    # UTC hours after each day's midnight it reports at (default: once, its own minute)
    clock_ahead: timedelta = timedelta(0)  # how far the laptop's clock runs ahead of the collector's

    @property
    def serial(self) -> str:
        return serial(self.label)


@cache
def _base(path: str) -> bytes:
    report = json_format.Parse((SCENARIOS / path).read_text(), report_pb2.AgentReport())
    return report.SerializeToString()


def report_for(laptop: Laptop, place: Place, when: datetime, sequence: int) -> report_pb2.AgentReport:
    report = report_pb2.AgentReport.FromString(_base(laptop.base))
    report.device_id = report.host.serial_number = laptop.serial
    report.host.hostname = f"acme-lt-{laptop.serial.lower()}"
    report.report_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"farmwatch-fleet/{laptop.label}/{sequence}"))
    report.sequence = sequence
    report.collected_at.FromDatetime(when.replace(tzinfo=None))
    if laptop.timezone:
        report.host.timezone = laptop.timezone
    report.network.default_gateway.mac = place.gateway_mac or ""
    if report.network.wifi.bssid or not report.network.wifi.ssid:
        report.network.wifi.bssid = place.bssid or ""  # keep a withheld BSSID (macOS without consent) withheld
    report.network.wifi_nearby.extend(_scan(laptop, place, sequence))
    return report


def _scan(laptop: Laptop, place: Place, sequence: int) -> list[report_pb2.WifiAccessPoint]:
    """What one scan at the place hears: every access point within 3 dB of its level there, the
    faintest (below -80 dBm) missed one scan in four, as real scans flicker."""
    heard = [*place.heard, *([(place.bssid, "own", -38)] if place.bssid and place.heard else [])]
    found = []
    for bssid, ssid, signal in heard:
        noise = _digest("scan", laptop.label, str(sequence), bssid)
        if signal < -80 and noise[0] % 4 == 0:
            continue
        found.append(report_pb2.WifiAccessPoint(bssid=bssid, ssid=ssid, signal_dbm=signal + noise[1] % 7 - 3,
                                                channel=1 + noise[2] % 11))
    return found


def ingest_fleet(store: Store, laptops: list[Laptop], start: datetime) -> int:
    """Every laptop reports once a day (at a time of its own, or at its `hours`) on its stays' days;
    returns the count."""
    classify = classifier()
    items = []
    for laptop in laptops:
        own_minutes = [hour * 60 for hour in laptop.hours] if laptop.hours else [_digest("minute", laptop.label)[0] * 5]
        visits = sorted((start + timedelta(days=day, minutes=minute), index, place)
                        for index, (place, days, *hours) in enumerate(laptop.stays)
                        for day in days for minute in ([hour * 60 for hour in hours[0]] if hours else own_minutes))
        for sequence, (when, _, place) in enumerate(visits, 1):
            stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            items.append(prepare(report_for(laptop, place, when + laptop.clock_ahead, sequence), peer_ip=place.peer_ip,
                                 received_at=stamp, classify=classify))
    items.sort(key=lambda item: item.received_at)
    for chunk in range(0, len(items), 256):
        store.ingest(items[chunk:chunk + 256])
    return len(items)


def write_roster(path: Path, laptops: list[Laptop], extra: list[tuple[str, Person, str]] = ()) -> Path:
    """The plain roster CSV of the laptops that have an owner, plus (serial, person, issue date) extras."""
    rows = [(laptop.serial, laptop.person, "2026-09-01") for laptop in laptops if laptop.person]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["serial", "user", "email", "department", "city", "region", "country", "postal_code",
                         "issue_date"])
        for serial_number, person, issued in [*rows, *extra]:
            writer.writerow([serial_number, person.name, person.email, "Engineering", person.city, person.region,
                             person.country, person.postal_code, issued])
    return path


def import_roster(store: Store, path: Path) -> None:
    roster.import_roster(store, roster.parse(path, "csv"))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
