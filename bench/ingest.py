"""Collector ingest over mTLS against a bare gRPC echo, in the same run, with the same load:
delta reports as agents send them, and full reports only, side by side.

    python bench/ingest.py [--agents 64] [--seconds 10] [--runs 3] [--mode both|delta|full] [--json]
                           [--workers N] [--database URL]

Per run and mode: a fresh collector home; `farmwatch-collector serve` on 127.0.0.1; `--agents`
simulated agents enrolled through Enroll, each with its own certificate and connection, sending
~400-process reports closed-loop (each keeps one call in flight) for a warm-up and then the measured
window. A report counts once its ack arrived in the window: the collector acknowledges only after
the report is classified and committed. Each agent's first report (full: the collector's first
sight of the device, which writes its whole inventory) is acknowledged before the warm-up, so the
window measures steady state. Then the same agents, certificates and reports go to a bare gRPC
server on the same credentials and thread pool whose Report handler only answers.

Modes. `delta`: agents report a laptop's churn between two scans (2–4 processes, 1–3
connections, now and then an application install or a USB plug) as delta reports on their last
acknowledged report, a full report once a day's worth of reports (1 in 288) and 5 % of agents full
reports only (new laptops, resyncs). `full`: the same churn, every report in full.

Figures: reports/s; collector / echo in the same run; p50 and p99; server CPU per report from
psutil on the server's PID over the window, and per delta report derived from it (the window's
CPU less its full reports at the full mode's CPU per report, over its deltas); storage bytes per
stored report over a day of one laptop's reports (288, stored in process through the same ingest,
first full report included); the load average beside each run. Each as median [min–max].

`--workers N` and `--database URL` are handed to `serve` as they are (a multi-process server and
another database backend measure with the same load).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path

import grpc
import psutil

from benchlib.collector import ENV, CollectorProcess, cpu_seconds, create_token, init_home
from benchlib.reports import LaptopReports, base_report
from benchlib.stats import format_spread, spread, table
from farmwatch.collector import ingest, pki
from farmwatch.collector.config import CollectorConfig
from farmwatch.collector.server import server_credentials
from farmwatch.collector.workers import default_count
from farmwatch.demo.launch import free_port, wait_for_port
from farmwatch.v1 import collector_pb2, collector_pb2_grpc
from loadgen import enroll_agents, run_load

WARMUP = 1.5
MODES = ("delta", "full")
DAY = LaptopReports.FULL_EVERY  # a laptop's reports in a day, at one every 5 minutes


class EchoService(collector_pb2_grpc.CollectorServicer):
    def Report(self, request, context):
        return collector_pb2.ReportAck(report_id=request.report_id)


def serve_echo(home: Path, port: int) -> None:
    """The bare server: the collector's TLS credentials, thread count and message limit, no work;
    one of `EchoProcess`'s processes sharing the port."""
    config = CollectorConfig.load(home)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=config.workers),
                         options=[("grpc.max_receive_message_length", config.max_message_bytes),
                                  ("grpc.so_reuseport", 1)])
    collector_pb2_grpc.add_CollectorServicer_to_server(EchoService(), server)
    server.add_secure_port(f"127.0.0.1:{port}", server_credentials(pki.CertificateAuthority.load(config.pki_dir)))
    server.start()
    server.wait_for_termination()


class EchoProcess:
    """`workers` echo servers on one port; `pids` to measure."""

    def __init__(self, home: Path, workers: int):
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.processes = [subprocess.Popen([sys.executable, __file__, "--echo-server", str(home), str(self.port)],
                                           env=ENV) for _ in range(workers)]
        for process in self.processes:
            wait_for_port(self.port, process)
        time.sleep(1.0)  # wait_for_port sees the first to listen; give the others their turn to bind

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)


def _cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def measure(address: str, pids: list[int], agents, seconds: float, base, mode: str) -> dict:
    """One load against one server: reports/s, latency and server CPU per report in the window."""
    cpu, client = {}, psutil.Process()

    def read(edge):
        cpu[edge], cpu[f"client_{edge}"] = _cpu(pids), sum(client.cpu_times()[:2])
        cpu[f"load_{edge}"] = os.getloadavg()[0]

    hooks = (lambda: read("start"), lambda: read("end"))
    result = run_load(address, agents, seconds=seconds, warmup=WARMUP, base=base, window_hooks=hooks,
                      prime=True, deltas=mode == "delta")
    summary = result.summary()
    server_cpu = cpu["end"] - cpu["start"]
    summary["server_cpu_seconds"] = server_cpu
    summary["server_cpu_us_per_report"] = round(server_cpu / max(result.ok, 1) * 1e6)
    summary["server_cpu_percent"] = round(server_cpu / seconds * 100)
    summary["client_cpu_percent"] = round((cpu["client_end"] - cpu["client_start"]) / seconds * 100)
    summary["load_average"] = round(cpu["load_end"], 2)
    return summary


def one_run(workdir: Path, agents_count: int, seconds: float, base, mode: str, workers: int,
            serve_args: list[str], settings: dict) -> dict:
    home = init_home(workdir / "collector", settings)
    with CollectorProcess(home, workers=workers, serve_args=serve_args) as server:
        agents = enroll_agents(server.address, server.ca_pem, create_token(home, agents_count), agents_count)
        collector = measure(server.address, [server.pid], agents, seconds, base, mode)
    collector["stored_total"] = server.scalar("SELECT count(*) FROM reports")
    collector["classified_total"] = server.scalar("SELECT count(*) FROM reports WHERE verdict IS NOT NULL")
    echo_server = EchoProcess(home, workers)
    try:
        echo = measure(echo_server.address, echo_server.pids, agents, seconds, base, mode)
    finally:
        echo_server.stop()
    return {"mode": mode, "collector": collector, "echo": echo,
            "ratio": collector["reports_per_second"] / echo["reports_per_second"]}


def storage_per_day(workdir: Path, base, mode: str) -> float:
    """Bytes the database grows by per stored report over a day of one laptop's reports, stored in
    process through the collector's own ingest (classified, inventory diffed, group committed)."""
    store = ingest.Store(workdir / "day.sqlite")
    try:
        before = _database_bytes(store)
        laptop, classify = LaptopReports(base, "SN-BENCH-DAY", 1, full_only=mode == "full"), ingest.classifier()
        for _ in range(DAY):
            item = ingest.prepare(laptop.message(), peer_ip="198.18.0.1", classify=classify, states=store.states)
            taken = not item.send_full and store.ingest([item])[0]
            laptop.acked(taken)
        return (_database_bytes(store) - before) / DAY
    finally:
        store.close()


def _database_bytes(store) -> int:
    conn = store.storage.conn
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages, free, size = (conn.execute(f"PRAGMA {name}").fetchone()[0]
                         for name in ("page_count", "freelist_count", "page_size"))
    return (pages - free) * size


def summarise(runs: list[dict], full_cpu_us: float | None) -> dict:
    def over(side, key):
        return spread([run[side][key] for run in runs])

    figures = {}
    for side in ("collector", "echo"):
        figures[side] = {key: over(side, key) for key in
                         ("reports_per_second", "p50_ms", "p99_ms", "server_cpu_us_per_report", "server_cpu_percent",
                          "client_cpu_percent", "load_average")}
        figures[side]["failed_calls"] = sum(sum(run[side]["calls_failed"].values()) for run in runs)
    figures["ratio"] = spread([run["ratio"] for run in runs])
    if full_cpu_us is not None and runs[0]["mode"] == "delta":
        figures["server_cpu_us_per_delta"] = spread([_per_delta(run["collector"], full_cpu_us) for run in runs])
    figures["unclassified_stored"] = sum(r["collector"]["stored_total"] - r["collector"]["classified_total"]
                                         for r in runs)
    return figures


def _per_delta(collector: dict, full_cpu_us: float) -> float:
    """The window's server CPU less its full reports (at the full mode's CPU each), over its deltas."""
    deltas = collector["calls_ok"] - collector["full_in_window"]
    rest = collector["server_cpu_seconds"] * 1e6 - collector["full_in_window"] * full_cpu_us
    return rest / deltas if deltas > 0 else float("nan")


def print_table(by_mode: dict, args, report_bytes: int) -> None:
    rows = []
    for mode, figures in by_mode.items():
        for side in ("collector", "echo"):
            f = figures[side]
            rows.append([mode, side, format_spread(f["reports_per_second"]), format_spread(f["p50_ms"], 1),
                         format_spread(f["p99_ms"], 1), format_spread(f["server_cpu_us_per_report"]),
                         format_spread(f["server_cpu_percent"]), format_spread(f["client_cpu_percent"]),
                         format_spread(f["load_average"], 2), f["failed_calls"]])
    print(f"{args.workers} serving process(es) each; "
          f"{args.agents} agents (own certificate and connection each), closed loop, {report_bytes:,} B full reports, "
          f"{args.seconds:g} s window after {WARMUP:g} s warm-up, {args.runs} runs: median [min–max]")
    print(table(["mode", "server", "reports/s", "p50 ms", "p99 ms", "server CPU µs/report", "server CPU %",
                 "load generator CPU %", "load average", "failed"], rows))
    for mode, figures in by_mode.items():
        extra = (f"; server CPU per delta report: {format_spread(figures['server_cpu_us_per_delta'])} µs"
                 if "server_cpu_us_per_delta" in figures else "")
        print(f"{mode}: collector / echo {format_spread(figures['ratio'], 3)}; storage per report over a day "
              f"of one laptop: {figures['storage_bytes_per_report']:,.0f} B{extra}; "
              f"stored but unclassified: {figures['unclassified_stored']}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", choices=("both", *MODES), default="both",
                        help="delta reports as agents send them, full reports only, or both side by side")
    parser.add_argument("--processes", type=int, default=400, help="processes per report (default 400)")
    parser.add_argument("--workers", type=int, default=default_count(),
                        help="serve --workers N, and as many echo processes (default: one per core)")
    parser.add_argument("--threads", type=int, help="RPC threads per serving process (the `workers` setting; "
                        "default: the collector's)")
    parser.add_argument("--database", metavar="URL", help="handed to `serve --database URL`")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--echo-server", nargs=2, metavar=("HOME", "PORT"), help=argparse.SUPPRESS)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.echo_server:
        serve_echo(Path(args.echo_server[0]), int(args.echo_server[1]))
        return 0
    serve_args = ["--database", args.database] if args.database else []
    settings = {"workers": args.threads} if args.threads else {}
    base = base_report(args.processes)
    modes = ("full", "delta") if args.mode == "both" else (args.mode,)  # full first: deltas' CPU is derived from it
    by_mode, full_cpu_us, runs_by_mode = {}, None, {}
    for mode in modes:
        runs = []
        for index in range(args.runs):
            with tempfile.TemporaryDirectory(prefix=f"farmwatch-ingest-{mode}-{index}-") as tmp:
                runs.append(one_run(Path(tmp), args.agents, args.seconds, base, mode, args.workers, serve_args,
                                    settings))
        figures = summarise(runs, full_cpu_us)
        with tempfile.TemporaryDirectory(prefix="farmwatch-ingest-day-") as tmp:
            figures["storage_bytes_per_report"] = storage_per_day(Path(tmp), base, mode)
        if mode == "full":
            full_cpu_us = figures["collector"]["server_cpu_us_per_report"]["median"]
        by_mode[mode], runs_by_mode[mode] = figures, runs
    if args.json:
        print(json.dumps({"agents": args.agents, "workers": args.workers, "seconds": args.seconds,
                          "report_bytes": base.ByteSize(),
                          "figures": by_mode, "runs": runs_by_mode}))
    else:
        print_table(by_mode, args, base.ByteSize())
    failed = sum(f[side]["failed_calls"] for f in by_mode.values() for side in ("collector", "echo"))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
