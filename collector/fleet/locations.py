"""The location rows of a report: what ingest records for fleet correlation, one per key kind.

Storage upserts them into `device_locations` (see `storage.fleet`), one row per (device,
location key), so correlation reads ~3 rows per device instead of every report in the window.
"""
from __future__ import annotations

from farmwatch.collector.fleet.keys import ADDRESS, KEY_OF, KINDS, normalise_mac


def location_rows(device_id: str, received_at: str, peer_ip: str, gateway_mac: str | None,
                  bssid: str | None, reports: int = 1, first_seen: str | None = None) -> list[tuple]:
    """The device_locations upserts of one report (or of `reports` reports of one UTC day, from
    `first_seen` to `received_at`): one per kind whose value identifies a place."""
    raw = {ADDRESS: peer_ip, "gateway_mac": gateway_mac, "wifi_bssid": bssid}
    context = (peer_ip or None, normalise_mac(gateway_mac), normalise_mac(bssid))
    return [(device_id, kind, value, first_seen or received_at, received_at, reports, *context)
            for kind in KINDS if (value := KEY_OF[kind](raw[kind])) is not None]
