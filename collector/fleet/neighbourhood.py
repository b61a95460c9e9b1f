"""The access points a laptop hears, as the collector keeps them: keyed hashes, never BSSIDs.

A report's `network.wifi_nearby` lists other people's networks: their BSSIDs and names. The
collector needs only to compare one laptop's neighbourhood with another's, so ingest replaces
each BSSID with HMAC-SHA256 under a secret of the collector (`wifi-neighbourhood.key` in the
pki folder of the home, mode 0600, made on first use) and drops the list from the report before
storing it: no raw report, finding or table holds a neighbour's BSSID or network name. A BSSID
is 48 bits, mostly a known vendor prefix, so a plain hash would be undone by trying them all;
the key stays out of the database, so an analyst's SQL or a copy of the database cannot.

Per device and 4-hour UTC slot, storage keeps one row: how many reports the slot had, what the
latest of them showed (address, gateway, BSSID: to recognise the office), and per hashed access
point the reports that heard it and the sum of its signal (`storage.fleet.record_scans`).
Comparing slots, not whole days, keeps a commuter's office hours apart from their evenings at
home (`fleet.colocation`).
"""
from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from farmwatch.collector.config import ConfigError
from farmwatch.collector.fleet.keys import bssid_key, normalise_mac
from farmwatch.common.files import write_private

KEY_NAME = "wifi-neighbourhood.key"
_KEY_BYTES = 32
_HASH_HEX = 32  # 128 bits of the HMAC: collisions among a fleet's access points are out of reach
SLOT_HOURS = 4


class NeighbourhoodKeyError(ConfigError):
    """The key file exists but is not one this collector made."""


class WifiHasher:
    """BSSID → its keyed hash under the collector's key."""

    def __init__(self, key: bytes):
        self.key = key

    def __call__(self, bssid: str) -> str:
        return hmac.new(self.key, bssid.encode(), hashlib.sha256).hexdigest()[:_HASH_HEX]


def load_or_make_key(path: Path) -> bytes:
    """The collector's key; made (0600, 32 random bytes) when there is none yet. Two processes
    making it at once both end with the one that reached the disk first."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            write_private(path, os.urandom(_KEY_BYTES))
        except FileExistsError:
            pass
    key = path.read_bytes()
    if len(key) != _KEY_BYTES:
        raise NeighbourhoodKeyError(
            f"{path} holds {len(key)} bytes, not the {_KEY_BYTES} of a Wi-Fi neighbourhood key: restore it from the "
            f"backup of this collector's home (deleting it starts new hashes: the neighbourhoods of the window "
            f"are lost)")
    return key


def hasher_for(config) -> WifiHasher | None:
    """The hasher of a CollectorConfig (its key read, or made, now: a damaged key stops `serve` at
    start), or None when `[fleet] wifi_neighbourhood = false`."""
    return WifiHasher(load_or_make_key(config.pki_dir / KEY_NAME)) if config.fleet.wifi_neighbourhood else None


def take_nearby(report, received_at: str, peer_ip: str, hasher: WifiHasher | None) -> list[tuple]:
    """The device_scans row of one report (empty without a hasher or a usable BSSID), and the
    report without its `wifi_nearby`: what is stored of it afterwards has no neighbour in it."""
    network = report.network
    heard: dict[str, int] = {}  # hash → its strongest signal in dBm (0: the tool gave none)
    if hasher is not None:
        for ap in network.wifi_nearby:
            bssid = bssid_key(ap.bssid)
            if bssid is not None:
                key = hasher(bssid)
                heard[key] = max(heard.get(key, ap.signal_dbm), ap.signal_dbm) if ap.signal_dbm else heard.get(key, 0)
    if network.wifi_nearby:  # clearing an empty list would still mark `network` present
        del network.wifi_nearby[:]
    if not heard:
        return []
    context = (peer_ip or None, normalise_mac(network.default_gateway.mac), normalise_mac(network.wifi.bssid))
    return [(report.device_id, slot_of(received_at), received_at, *context, heard)]


def slot_of(stamp: str) -> str:
    """"2026-11-03T17:20:00.000Z" → "2026-11-03T16": the UTC day and the first hour of its slot."""
    return f"{stamp[:10]}T{int(stamp[11:13]) // SLOT_HOURS * SLOT_HOURS:02d}"
