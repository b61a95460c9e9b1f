"""Fleet correlation: what the collector sees only across devices.

- `keys`: location keys (gateway MAC, Wi-Fi BSSID, public address) and which values never count;
- `locations`: the location rows ingest records per report (the tables: `storage.schema`);
- `clusters`: a key shared by several people's devices, and its score;
- `device_rules`: per-device fleet findings (cluster, move, roster, locale, silence);
- `replays`: a device whose reports keep arriving as replays;
- `verdict`: how a device's own findings and its fleet findings combine;
- `correlation`: `correlate()`, one run, written in one transaction.
"""
from farmwatch.collector.fleet.correlation import CorrelationResult, correlate
from farmwatch.collector.fleet.settings import FleetSettings, FleetSettingsError

__all__ = ["correlate", "CorrelationResult", "FleetSettings", "FleetSettingsError"]
