"""Fleet correlation settings: the `[fleet]` table of `collector.toml` (documented in
`collector.example.toml`)."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, fields

from farmwatch.collector.setting_types import type_problem


class FleetSettingsError(ValueError):
    pass


@dataclass(frozen=True)
class FleetSettings:
    # Devices share a location when both reported from it within the last `window_days`.
    window_days: float = 7
    # A device counts at a location once it has reported from there on this many UTC days:
    # farms persist, a conference or a hotel stay does not (docs/fleet.md §1: "persisting ≥3 days").
    min_days_at_location: int = 3
    # Silence finding: no report for this long (never less than three report intervals).
    silent_after_hours: float = 72
    # A roster device that never reported is a finding this many days after its issue date
    # (or after it was imported, when the roster has no issue date).
    never_reported_grace_days: float = 14
    # Company networks: devices seen from these addresses (CIDR, public or the office LAN's
    # private range), or behind these gateway MACs / Wi-Fi BSSIDs, are at the office.
    office_networks: tuple = ()
    office_gateway_macs: tuple = ()
    office_bssids: tuple = ()
    # Addresses many unrelated people share by design: the corporate VPN / SASE egress
    # (e.g. Zscaler), a known carrier NAT. They never key a cluster.
    shared_egress_networks: tuple = ()
    # How often `serve` runs correlation (minutes; 0: only on demand).
    correlate_every_minutes: float = 15
    # Compare the access points laptops hear (`network.wifi_nearby`, kept as keyed hashes) to
    # find laptops of different people in one place whatever their routers (docs/fleet.md §10).
    # Off: ingest drops the list from every report, and correlation deletes what was kept.
    wifi_neighbourhood: bool = True

    def __post_init__(self) -> None:
        for name in ("office_networks", "shared_egress_networks"):
            object.__setattr__(self, name, tuple(_network(value, name) for value in getattr(self, name)))
        for name in ("office_gateway_macs", "office_bssids"):
            object.__setattr__(self, name, tuple(_mac(value, name) for value in getattr(self, name)))
        if not isinstance(self.wifi_neighbourhood, bool):
            raise FleetSettingsError(f"fleet.wifi_neighbourhood must be true or false, not {self.wifi_neighbourhood!r}")
        if self.window_days <= 0 or self.min_days_at_location < 1:
            raise FleetSettingsError("fleet: window_days must be > 0 and min_days_at_location >= 1")

    @classmethod
    def from_dict(cls, values: dict | None) -> "FleetSettings":
        values = dict(values or {})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise FleetSettingsError(f"[fleet]: unknown setting(s) {', '.join(sorted(unknown))}")
        problem = type_problem(cls, values, "[fleet] ")
        if problem:
            raise FleetSettingsError(problem)
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _network(value, name: str):
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise FleetSettingsError(f"fleet.{name}: {value!r} is not an address or CIDR range") from None


def _mac(value, name: str) -> str:
    from farmwatch.collector.fleet.keys import normalise_mac

    mac = normalise_mac(str(value))
    if mac is None:
        raise FleetSettingsError(f"fleet.{name}: {value!r} is not a MAC address")
    return mac
