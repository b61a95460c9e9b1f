"""Classification CPU per report, in process: the full classify against the incremental one.

    python bench/classify.py [--reports 200] [--runs 3] [--devices 200] [--json]

Two reports: the 36.6 KB benchmark report (`benchlib.reports.base_report`, 400 processes, as
bench/ingest.py sends it) and a real-like scan (`real_like_scan`: 93 processes, 724 packages, 277
connections, the counts of the real scan issue 15 profiled). Per run and report, CPU time
(time.process_time) per classify of:

- full: `detect.classify` of the whole report, every rule over every item;
- incremental, small change: `IncrementalClassifier` on the device's next report, which differs from
  the previous one as two real scans of one laptop 5 s apart do (issue 15): 3 of its processes
  replaced by new ones (new pids and names) and 1 connection with a new local port;
- incremental, first report: the same classifier on a device it has not seen (new device id and
  pids), as after a restart or for a new laptop — the full work plus building the device's state.

Memory: the traced allocations (tracemalloc) that `--devices` devices' states and item views keep,
per device, for the benchmark report. Figures: median [min–max] of `--runs` runs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc

from benchlib.reports import base_report, real_like_scan
from benchlib.stats import format_spread, spread, table
from farmwatch.collector import detect
from farmwatch.v1 import report_pb2

REPLACED_PROCESSES = 3


class Laptop:
    """One device's reports: each next() makes the small change of two scans 5 s apart."""

    def __init__(self, template: report_pb2.AgentReport, device_id: str, pid_offset: int = 0):
        self.report = report_pb2.AgentReport()
        self.report.CopyFrom(template)
        self.report.device_id = self.report.host.serial_number = device_id
        for process in self.report.processes:
            process.pid += pid_offset
        for socket in (*self.report.network.connections, *self.report.network.listeners):
            socket.pid += pid_offset if socket.pid else 0
        self.turn = 0

    def next(self) -> report_pb2.AgentReport:
        self.turn += 1
        for slot in range(REPLACED_PROCESSES):
            process = self.report.processes[-1 - slot]
            process.pid, process.name = 200000 + self.turn * 10 + slot, f"worker-{self.turn % 50}-{slot}"
        if len(self.report.network.connections):
            self.report.network.connections[0].local_port = 30000 + self.turn % 20000
        return self.report


def _cpu_ms_per_report(classify, reports) -> float:
    start = time.process_time()
    for report in reports:
        classify(report)
    return (time.process_time() - start) / len(reports) * 1000


def one_run(template: report_pb2.AgentReport, count: int, run: int) -> dict:
    classifier = detect.IncrementalClassifier()
    laptop = Laptop(template, f"SN-BENCH-{run}")
    classifier.classify(laptop.next())
    steady = [_copy(laptop.next()) for _ in range(count)]
    full = _cpu_ms_per_report(detect.classify, steady)
    incremental = _cpu_ms_per_report(classifier.classify, steady)
    firsts = [_copy(Laptop(template, f"SN-NEW-{run}-{i}", pid_offset=(i + 1) * 100000).next())
              for i in range(max(count // 10, 3))]
    first = _cpu_ms_per_report(classifier.classify, firsts)
    same = all(classifier.classify(r).to_dict() == detect.classify(r).to_dict() for r in steady[-3:])
    return {"full_ms": full, "incremental_ms": incremental, "first_report_ms": first, "same_verdicts": same}


def _copy(report: report_pb2.AgentReport) -> report_pb2.AgentReport:
    copied = report_pb2.AgentReport()
    copied.CopyFrom(report)
    return copied


def memory_per_device(template: report_pb2.AgentReport, devices: int) -> float:
    """Bytes the classifier keeps per device (its state and the item views it holds)."""
    classifier = detect.IncrementalClassifier(max_devices=devices)
    classifier.classify(Laptop(template, "SN-WARM").next())  # catalogue caches, interned names
    reports = [_copy(Laptop(template, f"SN-MEM-{i}", pid_offset=(i + 1) * 100000).next()) for i in range(devices)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for report in reports:
        classifier.classify(report)
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return kept / devices


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=200, help="reports classified per run (default 200)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--devices", type=int, default=200, help="devices for the memory figure (default 200)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    templates = {"benchmark report": base_report(400), "real-like scan": real_like_scan()}
    figures = {}
    for name, template in templates.items():
        runs = [one_run(template, args.reports, run) for run in range(args.runs)]
        figures[name] = {"bytes": template.ByteSize(), "same_verdicts": all(r["same_verdicts"] for r in runs),
                         **{key: spread([r[key] for r in runs]) for key in ("full_ms", "incremental_ms",
                                                                            "first_report_ms")}}
    per_device = memory_per_device(templates["benchmark report"], args.devices)
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"figures": figures, "memory_bytes_per_device": per_device, "load_average": load}))
    else:
        rows = [[name, f"{f['bytes']:,} B", format_spread(f["full_ms"], 2), format_spread(f["incremental_ms"], 2),
                 format_spread(f["first_report_ms"], 2), "yes" if f["same_verdicts"] else "NO"]
                for name, f in figures.items()]
        print(f"CPU ms per classify, {args.reports} reports per run, {args.runs} runs: median [min–max]; "
              f"load average {load:.2f}")
        print(table(["report", "size", "full", "incremental, small change", "incremental, first report",
                     "same verdicts"], rows))
        print(f"memory kept per device (benchmark report, {args.devices} devices): {per_device / 1024:,.0f} KiB")
    return 0 if all(f["same_verdicts"] for f in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
