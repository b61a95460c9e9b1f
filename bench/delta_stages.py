"""Server CPU of a delta report, in process, by stage: where a delta's time goes.

    python bench/delta_stages.py [--devices 32] [--reports 20] [--batch 1] [--full] [--profile out.pstats] [--json]

`--devices` simulated laptops (`benchlib.reports.LaptopReports`: a laptop's churn between scans)
each send a full report, then `--reports` delta reports, through the collector's own path on a
real SQLite file: `ingest.prepare` (validate, rebuild on the device's state), the incremental
classifier, `ingest.prepare_write` (the rows and compressed bodies, made before the write) and
`Store.ingest` (the writer's transaction, its turn), `--batch` reports a transaction.
Prints CPU µs per delta (time.process_time) per stage; `--profile` writes a cProfile of the
delta reports' whole path for `python -m pstats`. `--full`: the same churn sent as full reports
(an old agent, or deltas turned off), measured the same way, for comparison.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import sys
import tempfile
import time
from pathlib import Path

from benchlib.reports import LaptopReports, base_report
from benchlib.stats import table
from farmwatch.collector import ingest


STAGES = ("validate + rebuild", "classify", "prepare write", "store (write turn)")


def _timed(totals: dict, stage: str, call, *args, **kwargs):
    start = time.process_time()
    result = call(*args, **kwargs)
    totals[stage] += time.process_time() - start
    return result


def _classify(classify, item):
    """As the server does: a delta with its state's item digests as hints, a full report without."""
    return classify(item.report, ingest.classify_hints(item.known) if item.delta is not None else None)


def _one_batch(laptops, store, classify, totals: dict, profiler) -> int:
    """Each laptop's next report: through prepare, classify and prepare_write one by one, then stored
    in one transaction (group commit); a delta laptop's daily full report goes alone, unmeasured.
    Returns the reports measured."""
    batch = []
    for laptop in laptops:
        message = laptop.message()
        if laptop.sent_full and not laptop.full_only:
            item = ingest.prepare(message, peer_ip="10.0.0.1", classify=classify, states=store.states)
            laptop.acked(store.ingest([item])[0])
            continue
        if profiler:
            profiler.enable()
        item = _timed(totals, "validate + rebuild", ingest.prepare, message, peer_ip="10.0.0.1", states=store.states)
        item.verdict = _timed(totals, "classify", _classify, classify, item)
        _timed(totals, "prepare write", ingest.prepare_write, item, store.wifi)
        if profiler:
            profiler.disable()
        if item.send_full:
            raise SystemExit(f"a delta was refused (reason {item.send_full}): the bench's chain is broken")
        batch.append((laptop, item))
    if profiler:
        profiler.enable()
    stored = _timed(totals, "store (write turn)", store.ingest, [item for _, item in batch])
    if profiler:
        profiler.disable()
    for (laptop, _), taken in zip(batch, stored):
        laptop.acked(taken)
    return len(batch)


def run(devices: int, reports: int, batch: int, profile: str | None, full: bool = False) -> dict:
    base = base_report()
    with tempfile.TemporaryDirectory() as tmp:
        store = ingest.Store(Path(tmp) / "collector.db")
        classify = ingest.classifier()
        laptops = [LaptopReports(base, f"BENCH{index:07d}", index, full_only=full) for index in range(devices)]
        for laptop in laptops:  # first contact: full reports, not measured
            item = ingest.prepare(laptop.message(), peer_ip="10.0.0.1", classify=classify, states=store.states)
            laptop.acked(store.ingest([item])[0])
        totals = dict.fromkeys(STAGES, 0.0)
        deltas = 0
        profiler = cProfile.Profile() if profile else None
        for _ in range(reports):
            for first in range(0, devices, batch):
                deltas += _one_batch(laptops[first:first + batch], store, classify, totals, profiler)
        store.close()
        if profiler:
            profiler.dump_stats(profile)
    per = {stage: seconds * 1e6 / deltas for stage, seconds in totals.items()}
    per["total"] = sum(per.values())
    return {"kind": "full" if full else "delta", "reports": deltas, "cpu_us_per_report": per}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=32)
    parser.add_argument("--reports", type=int, default=20, help="delta reports per device")
    parser.add_argument("--batch", type=int, default=1,
                        help="reports a transaction (the writer's group commit: 1 at low load, more under load)")
    parser.add_argument("--full", action="store_true", help="every report in full: the same churn without deltas")
    parser.add_argument("--profile", help="write a cProfile of the deltas' path to this file")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.devices, args.reports, args.batch, args.profile, args.full)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(table(["stage", f"CPU µs per {result['kind']} report"],
                    [[stage, f"{us:,.0f}"] for stage, us in result["cpu_us_per_report"].items()]))
        print(f"{result['reports']} {result['kind']} reports measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
