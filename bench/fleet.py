"""Fleet scale: correlation and query latency with 100,000 devices and 1,000,000 stored reports,
and storage per stored report.

    python bench/fleet.py [--devices 100000] [--reports-per-device 10] [--json]

The big database is built with direct batched inserts into the collector's real schema (made by
`Store`), not through gRPC: 1,000,000 reports over gRPC would take hours at the measured ingest
rate. What it holds: every device with its state and verdict, a roster row, three location keys
(gateway MAC, Wi-Fi BSSID, public address) seen on 7 days, and its reports' rows; 1 % of devices
sit in farms of 5 sharing a router and an address, 0.5 % more are relays on their own and 2 % are
suspicious, each flagged report with two findings. Left out, because none of the timed queries
reads them: raw report blobs and per-device inventory rows. Storage per stored report is therefore
measured separately, through the real ingest path (classify + `Store.ingest`, raw blob and
inventory included), on a smaller database.

Timed: `correlate(store, config)` (3 runs: the first creates every cluster, the others find them
again), and the library calls behind `devices --verdict relay`, `device ID` (20 devices), `clusters`
and `devices` (all): first call, then the median and maximum of 5 more.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchlib.reports import AgentReports, base_report
from benchlib.stats import table
from farmwatch.collector import ingest, queries
from farmwatch.collector.config import CollectorConfig
from farmwatch.collector.detect import Policy
from farmwatch.collector.ingest import Store

FARM_SIZE = 5
FARM_SHARE, LONE_RELAY_SHARE, SUSPICIOUS_SHARE = 0.01, 0.005, 0.02
DAYS = 7
BATCH = 20_000


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SyntheticFleet:
    """Deterministic devices: ids, people, locations and verdicts."""

    def __init__(self, devices: int, reports_per_device: int, now: datetime, seed: int = 7):
        self.count, self.per_device, self.now = devices, reports_per_device, now
        self.rng = random.Random(seed)
        self.last_ids: dict[int, str] = {}  # device index → its latest report_id, filled by the build
        farmed = int(devices * FARM_SHARE) // FARM_SIZE * FARM_SIZE
        self.farm_of = {i: i // FARM_SIZE for i in range(farmed)}
        lone = int(devices * LONE_RELAY_SHARE)
        self.verdict = ["relay" if i < farmed + lone else "clean" for i in range(devices)]
        for i in range(farmed + lone, farmed + lone + int(devices * SUSPICIOUS_SHARE)):
            self.verdict[i] = "suspicious"

    @staticmethod
    def device_id(i: int) -> str:
        return f"FLT{i:07d}"

    def gateway_mac(self, i: int) -> str:
        n = self.farm_of.get(i, 100_000 + i)
        return f"3c:84:6a:{(n >> 16) & 0xff:02x}:{(n >> 8) & 0xff:02x}:{n & 0xff:02x}"

    def bssid(self, i: int) -> str:
        n = self.farm_of.get(i, 100_000 + i)
        return f"3c:84:6b:{(n >> 16) & 0xff:02x}:{(n >> 8) & 0xff:02x}:{n & 0xff:02x}"

    def peer_ip(self, i: int) -> str:
        n = self.farm_of.get(i, 100_000 + i)
        return f"81.{(n >> 16) & 0xff}.{(n >> 8) & 0xff}.{n & 0xff}"

    def score(self, i: int) -> int:
        return {"relay": 85, "suspicious": 45, "clean": 0}[self.verdict[i]]

    def report_times(self) -> list[datetime]:
        step = timedelta(days=DAYS) / self.per_device
        return [self.now - timedelta(days=DAYS) + step * (k + 1) for k in range(self.per_device)]


def build(path: Path, fleet: SyntheticFleet) -> dict:
    """The big database; returns how long each part took and how many rows it wrote."""
    Store(path).close()  # the real schema
    from farmwatch.collector.storage.sqlite import connect

    conn = connect(path)
    conn.execute("PRAGMA synchronous=OFF")  # a benchmark fixture: durability of the build does not matter
    started = time.perf_counter()
    times = fleet.report_times()
    rows = {"reports": 0, "findings": 0}
    devices_per_batch = max(1, BATCH // fleet.per_device)
    for first in range(0, fleet.count, devices_per_batch):
        chunk = range(first, min(fleet.count, first + devices_per_batch))
        conn.execute("BEGIN")
        rows["reports"] += _insert_reports(conn, fleet, chunk, times)
        rows["findings"] += _insert_findings(conn, fleet, chunk)
        _insert_devices(conn, fleet, chunk, times[-1])
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"seconds": time.perf_counter() - started, **rows, "devices": fleet.count}


def _report_id(fleet: SyntheticFleet) -> str:
    return str(uuid.UUID(int=fleet.rng.getrandbits(128), version=4))


def _insert_reports(conn, fleet: SyntheticFleet, chunk, times) -> int:
    rows = []
    for i in chunk:
        for k, moment in enumerate(times):
            report_id = _report_id(fleet)
            stamp = _stamp(moment)
            rows.append((report_id, fleet.device_id(i), k + 1, stamp, stamp, fleet.peer_ip(i), f"{i:x}",
                         fleet.gateway_mac(i), fleet.bssid(i), "Europe/Berlin", 36636, fleet.verdict[i],
                         fleet.score(i), 0))
        fleet.last_ids[i] = report_id
    conn.executemany(
        "INSERT INTO reports (report_id, device_id, sequence, collected_at, received_at, peer_ip, cert_serial, "
        "gateway_mac, wifi_bssid, timezone, size_bytes, verdict, score, replay) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def _insert_findings(conn, fleet: SyntheticFleet, chunk) -> int:
    evidence = json.dumps({"tool": "AnyDesk", "process": "anydesk", "exe": "/usr/bin/anydesk"})
    rows = []
    for i in chunk:
        if fleet.verdict[i] == "clean":
            continue
        for report_id, in conn.execute("SELECT report_id FROM reports WHERE device_id = ?", (fleet.device_id(i),)):
            rows.append((report_id, fleet.device_id(i), "remote-control-running", "high",
                         "AnyDesk is running", evidence, 0))
            rows.append((report_id, fleet.device_id(i), "remote-session-inbound", "critical",
                         "an inbound AnyDesk session", evidence, 0))
    conn.executemany("INSERT INTO findings (report_id, device_id, rule, severity, summary, evidence, allowed) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def _insert_devices(conn, fleet: SyntheticFleet, chunk, last: datetime) -> None:
    first, last_stamp = _stamp(last - timedelta(days=DAYS)), _stamp(last)
    conn.executemany(
        "INSERT INTO devices (device_id, hostname, os, os_version, hardware_model, agent_version, timezone, "
        "first_seen, last_seen, last_report_id, last_sequence, last_peer_ip, last_cert_serial, reports, verdict, "
        "score, own_verdict, own_score, verdict_source, input_languages) "
        "VALUES (?, ?, 'linux', 'Ubuntu 24.04.1 LTS', 'Latitude 7440', '0.1.0', 'Europe/Berlin', ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, 'report', '')",
        [(fleet.device_id(i), f"acme-lt-{i:07d}", first, last_stamp, fleet.last_ids[i], fleet.per_device,
          fleet.peer_ip(i), f"{i:x}", fleet.per_device, fleet.verdict[i], fleet.score(i), fleet.verdict[i],
          fleet.score(i)) for i in chunk])
    conn.executemany(
        "INSERT INTO roster (serial, user_name, email, department, city, region, country, postal_code, issue_date, "
        "source_format, source_file, imported_at, updated_at) "
        "VALUES (?, ?, ?, 'Engineering', 'Berlin', 'BE', 'DE', ?, '2026-01-05', 'csv', 'roster.csv', ?, ?)",
        [(fleet.device_id(i), f"Person {i}", f"person{i}@example.com", f"{10115 + i % 900}", first, first)
         for i in chunk])
    conn.executemany(
        "INSERT INTO device_locations (device_id, kind, value, first_seen, last_seen, reports, days, peer_ip, "
        "gateway_mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(fleet.device_id(i), kind, value, first, last_stamp, fleet.per_device, DAYS, fleet.peer_ip(i),
          fleet.gateway_mac(i))
         for i in chunk
         for kind, value in (("gateway_mac", fleet.gateway_mac(i)), ("wifi_bssid", fleet.bssid(i)),
                             ("peer_ip", fleet.peer_ip(i)))])
    conn.executemany(  # correlation counts a place's days from these rows, one per (key, device, UTC day)
        "INSERT INTO device_location_days (kind, value, device_id, day) VALUES (?, ?, ?, ?)",
        [(kind, value, fleet.device_id(i), (last - timedelta(days=d)).strftime("%Y-%m-%d"))
         for i in chunk
         for kind, value in (("gateway_mac", fleet.gateway_mac(i)), ("wifi_bssid", fleet.bssid(i)),
                             ("peer_ip", fleet.peer_ip(i)))
         for d in range(DAYS)])


# -- timing ----------------------------------------------------------------------------------------

def timed(call, repeat: int = 5) -> dict:
    """First call, then median and max of `repeat` more, in milliseconds."""
    started = time.perf_counter()
    result = call()
    first = (time.perf_counter() - started) * 1000
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        warm.append((time.perf_counter() - started) * 1000)
    size = len(result) if isinstance(result, list) else (1 if result else 0)
    return {"first_ms": first, "median_ms": statistics.median(warm), "max_ms": max(warm), "rows": size}


def time_correlation(store: Store, config: CollectorConfig, now: datetime, runs: int = 3) -> list[dict]:
    from farmwatch.collector.fleet import correlate

    results = []
    for _ in range(runs):
        outcome = correlate(store, config, now=now)
        results.append({"seconds": outcome.seconds, "clusters": len(outcome.clusters),
                        "findings": sum(outcome.findings.values())})
    return results


def time_queries(store: Store, fleet: SyntheticFleet) -> dict:
    sample = fleet.rng.sample(range(fleet.count), 20)
    per_device = [timed(lambda i=i: queries.device(store, fleet.device_id(i)), repeat=1) for i in sample]
    return {
        "devices --verdict relay": timed(lambda: queries.devices(store, verdict="relay")),
        "device ID": {"first_ms": statistics.median(d["first_ms"] for d in per_device),
                      "median_ms": statistics.median(d["median_ms"] for d in per_device),
                      "max_ms": max(max(d["first_ms"], d["max_ms"]) for d in per_device),
                      "rows": sum(d["rows"] for d in per_device)},  # devices found, of 20
        "clusters": timed(lambda: queries.clusters(store)),
        "devices (all)": timed(lambda: queries.devices(store), repeat=2),
    }


def storage_per_report(workdir: Path, devices: int = 100, reports_per_device: int = 20) -> dict:
    """Bytes on disk per stored report through the real ingest path (classify + Store.ingest)."""
    path = workdir / "storage.sqlite"
    store = Store(path)
    classify = ingest.classifier(Policy.from_config({"allow": []}))
    base = base_report()
    agents = [AgentReports(base, f"STO{i:05d}", i) for i in range(devices)]
    sizes = [_checkpointed_bytes(store)]
    for _ in range(reports_per_device):
        store.ingest([ingest.prepare(agent.next(), peer_ip="81.1.2.3", classify=classify) for agent in agents])
        sizes.append(_checkpointed_bytes(store))
    raw = store.conn.execute("SELECT sum(length(raw)), sum(size_bytes), count(*) FROM reports").fetchone()
    store.close()
    count = devices * reports_per_device
    return {"reports": count, "devices": devices, "bytes_per_report": (sizes[-1] - sizes[0]) / count,
            # a device's first report writes its whole inventory; later ones only what changed
            "first_report_bytes": (sizes[1] - sizes[0]) / devices,
            "later_report_bytes": (sizes[-1] - sizes[1]) / (count - devices),
            "raw_blob_bytes_per_report": raw[0] / raw[2], "report_bytes": raw[1] / raw[2]}


def _checkpointed_bytes(store: Store) -> int:
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return _file_bytes(store.path)


def _file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def run(args) -> dict:
    now = datetime.now(timezone.utc)
    fleet = SyntheticFleet(args.devices, args.reports_per_device, now)
    with tempfile.TemporaryDirectory(prefix="farmwatch-fleet-bench-") as tmp:
        home = Path(tmp) / "collector"
        home.mkdir()
        config = CollectorConfig.load(home)
        built = build(config.database, fleet)
        built["database_bytes"] = _file_bytes(config.database)
        store = Store(config.database)
        try:
            correlation = time_correlation(store, config, now)
            query_times = time_queries(store, fleet)
        finally:
            store.close()
        storage = storage_per_report(Path(tmp))
    return {"build": built, "correlation": correlation, "queries": query_times, "storage": storage}


def print_tables(figures: dict) -> None:
    built = figures["build"]
    print(f"database built by direct inserts (not gRPC): {built['devices']:,} devices, {built['reports']:,} reports, "
          f"{built['findings']:,} findings in {built['seconds']:.0f} s; {built['database_bytes'] / 1e6:,.0f} MB "
          "without raw blobs or inventory")
    print(table(["correlation run", "seconds", "clusters", "fleet findings"],
                [[n + 1, f"{c['seconds']:.2f}", c["clusters"], c["findings"]]
                 for n, c in enumerate(figures["correlation"])]))
    print()
    print(table(["query (library call behind the CLI)", "first ms", "median ms", "max ms", "rows"],
                [[name, f"{q['first_ms']:.1f}", f"{q['median_ms']:.1f}", f"{q['max_ms']:.1f}", q["rows"]]
                 for name, q in figures["queries"].items()]))
    s = figures["storage"]
    print()
    print(f"storage through the real ingest path ({s['reports']:,} reports of {s['devices']} devices, "
          f"{s['report_bytes']:,.0f} B each): {s['bytes_per_report']:,.0f} B per stored report on average; "
          f"a device's first report {s['first_report_bytes']:,.0f} B, each later one {s['later_report_bytes']:,.0f} B; "
          f"the compressed raw report is {s['raw_blob_bytes_per_report']:,.0f} B of that")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--reports-per-device", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    figures = run(args)
    if args.json:
        print(json.dumps(figures))
    else:
        print_tables(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
