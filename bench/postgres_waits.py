"""Round trips of the ingest write path on PostgreSQL: how often the collector's writer waits for
the server per report, and how many statements it runs (docs/scale.md, "Sizing").

    python bench/postgres_waits.py --database postgresql://USER@HOST/postgres [--devices 16] [--batches 5] [--json]

Each of `--devices` simulated laptops sends a first full report (not counted), then `--batches`
batches of one new report each are stored through the collector's own ingest, with the
collector's classifier, in a fresh database dropped after. Waits and statements are counted from
a libpq trace of the writer connection: a wait is a Sync, Flush or simple Query message (the
client then reads the server's answer), a statement an Execute or simple Query.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import uuid
from collections import Counter

import psycopg

from benchlib.reports import AgentReports, base_report
from farmwatch.collector import ingest
from farmwatch.collector.detect import Policy
from postgres import _database


def _traced(conn, work) -> Counter:
    """The frontend messages `conn` (psycopg) sent while `work()` ran, by kind."""
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(os.dup(trace.fileno()))  # libpq closes its copy at untrace
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            work()
        finally:
            conn.pgconn.untrace()
        trace.seek(0)
        return Counter(line.split("\t")[2].strip() for line in trace if line.startswith("F\t"))


def measure(url: str, devices: int, batches: int, processes: int) -> dict:
    store = ingest.Store(url)
    try:
        classify = ingest.classifier(Policy.from_config({"allow": [], "fleet": {}}))
        base = base_report(processes)
        agents = [AgentReports(base, f"BENCH-{n:05d}", n) for n in range(devices)]

        def batch():
            stored = store.ingest([ingest.prepare(a.next(), peer_ip=f"81.2.{n}.1", cert_serial="bench",
                                                  classify=classify, states=store.states)
                                   for n, a in enumerate(agents)])
            assert all(stored), "a report was not stored"

        batch()
        sent = _traced(store.storage.conn.raw, lambda: [batch() for _ in range(batches)])
    finally:
        store.close()
    reports = devices * batches
    waits = sent["Sync"] + sent["Flush"] + sent["Query"]
    return {"reports": reports, "report_bytes": base.ByteSize(),
            "waits_per_report": round(waits / reports, 2), "statements_per_report":
            round((sent["Execute"] + sent["Query"]) / reports, 2), "messages": dict(sent)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True, metavar="URL",
                        help="postgresql:// URL of a server whose user may create databases")
    parser.add_argument("--devices", type=int, default=16, help="laptops, one report each per batch")
    parser.add_argument("--batches", type=int, default=5, help="batches counted, after the first")
    parser.add_argument("--processes", type=int, default=400, help="processes per report (its size)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    name = f"farmwatch_bench_{uuid.uuid4().hex[:8]}"
    url = _database(args.database, "CREATE", name)
    try:
        result = measure(url, args.devices, args.batches, args.processes)
    finally:
        _database(args.database, "DROP", name)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['reports']} reports of {result['report_bytes']:,} B in batches of {args.devices}: "
          f"{result['waits_per_report']} waits and {result['statements_per_report']} statements per report")


if __name__ == "__main__":
    main()
