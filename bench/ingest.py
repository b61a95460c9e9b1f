"""Collector ingest over mTLS against a bare gRPC echo, in the same run, with the same load.

    python bench/ingest.py [--agents 64] [--seconds 10] [--runs 3] [--workers N] [--json]

Per run: a fresh collector home; `farmwatch-collector serve` on 127.0.0.1; `--agents` simulated
agents enrolled through Enroll, each with its own certificate and connection, sending realistic
~400-process reports closed-loop (each keeps one call in flight) for a warm-up and then the measured
window. A report counts once its ack arrived in the window: the collector acknowledges only after
the report is classified and committed. Each agent's first report (the collector's first sight of
the device, which writes its whole inventory) is acknowledged before the warm-up, so the window
measures steady state. Then the same agents, certificates and reports go to a bare
gRPC server on the same credentials and thread pool whose Report handler only answers, in as many
processes sharing the port as the collector has workers (`--workers`, default: serve's, one per
core). Server CPU per report comes from psutil on the server's processes over the window. Figures:
median [min–max].
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path

import grpc
import psutil

from benchlib.collector import ENV, CollectorProcess, cpu_seconds, create_token, init_home
from benchlib.reports import base_report
from benchlib.stats import format_spread, spread, table
from farmwatch.collector import pki
from farmwatch.collector.config import CollectorConfig
from farmwatch.collector.server import server_credentials
from farmwatch.collector.workers import default_count
from farmwatch.demo.launch import free_port, wait_for_port
from farmwatch.v1 import collector_pb2, collector_pb2_grpc
from loadgen import enroll_agents, run_load

WARMUP = 1.5


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


def measure(address: str, pids: list[int], agents, seconds: float, base) -> dict:
    """One load against one server: reports/s, latency and server CPU per report in the window."""
    cpu, client = {}, psutil.Process()

    def read(edge):
        cpu[edge], cpu[f"client_{edge}"] = _cpu(pids), sum(client.cpu_times()[:2])

    hooks = (lambda: read("start"), lambda: read("end"))
    result = run_load(address, agents, seconds=seconds, warmup=WARMUP, base=base, window_hooks=hooks,
                      prime=True)
    summary = result.summary()
    summary["server_cpu_us_per_report"] = round((cpu["end"] - cpu["start"]) / max(result.ok, 1) * 1e6)
    summary["server_cpu_percent"] = round((cpu["end"] - cpu["start"]) / seconds * 100)
    summary["client_cpu_percent"] = round((cpu["client_end"] - cpu["client_start"]) / seconds * 100)
    return summary


def one_run(workdir: Path, agents_count: int, seconds: float, base, workers: int) -> dict:
    home = init_home(workdir / "collector")
    with CollectorProcess(home, workers=workers) as server:
        agents = enroll_agents(server.address, server.ca_pem, create_token(home, agents_count), agents_count)
        collector = measure(server.address, [server.pid], agents, seconds, base)
    stored = server.scalar("SELECT count(*) FROM reports")
    collector["stored_total"] = stored
    collector["classified_total"] = server.scalar("SELECT count(*) FROM reports WHERE verdict IS NOT NULL")
    echo_server = EchoProcess(home, workers)
    try:
        echo = measure(echo_server.address, echo_server.pids, agents, seconds, base)
    finally:
        echo_server.stop()
    return {"collector": collector, "echo": echo,
            "ratio": collector["reports_per_second"] / echo["reports_per_second"]}


def summarise(runs: list[dict]) -> dict:
    def over(side, key):
        return spread([run[side][key] for run in runs])

    figures = {}
    for side in ("collector", "echo"):
        figures[side] = {key: over(side, key) for key in
                         ("reports_per_second", "p50_ms", "p99_ms", "server_cpu_us_per_report", "server_cpu_percent",
                          "client_cpu_percent")}
        figures[side]["failed_calls"] = sum(sum(run[side]["calls_failed"].values()) for run in runs)
    figures["ratio"] = spread([run["ratio"] for run in runs])
    figures["unclassified_stored"] = sum(r["collector"]["stored_total"] - r["collector"]["classified_total"]
                                         for r in runs)
    return figures


def print_table(figures: dict, args, report_bytes: int) -> None:
    rows = []
    for side in ("collector", "echo"):
        f = figures[side]
        rows.append([side, format_spread(f["reports_per_second"]), format_spread(f["p50_ms"], 1),
                     format_spread(f["p99_ms"], 1), format_spread(f["server_cpu_us_per_report"]),
                     format_spread(f["server_cpu_percent"]), format_spread(f["client_cpu_percent"]),
                     f["failed_calls"]])
    print(f"{args.workers} serving process(es) each; "
          f"{args.agents} agents (own certificate and connection each), closed loop, {report_bytes:,} B reports, "
          f"{args.seconds:g} s window after {WARMUP:g} s warm-up, {args.runs} runs: median [min–max]")
    print(table(["server", "reports/s", "p50 ms", "p99 ms", "server CPU µs/report", "server CPU %",
                 "load generator CPU %", "failed"], rows))
    print(f"collector / echo: {format_spread(figures['ratio'], 3)}; "
          f"stored but unclassified: {figures['unclassified_stored']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--processes", type=int, default=400, help="processes per report (default 400)")
    parser.add_argument("--workers", type=int, default=default_count(),
                        help="serve --workers N, and as many echo processes (default: one per core)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--echo-server", nargs=2, metavar=("HOME", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.echo_server:
        serve_echo(Path(args.echo_server[0]), int(args.echo_server[1]))
        return 0
    base = base_report(args.processes)
    runs = []
    for index in range(args.runs):
        with tempfile.TemporaryDirectory(prefix=f"farmwatch-ingest-{index}-") as tmp:
            runs.append(one_run(Path(tmp), args.agents, args.seconds, base, args.workers))
    figures = summarise(runs)
    if args.json:
        print(json.dumps({"agents": args.agents, "workers": args.workers, "seconds": args.seconds,
                          "report_bytes": base.ByteSize(),
                          "figures": figures, "runs": runs}))
    else:
        print_table(figures, args, base.ByteSize())
    return 0 if figures["collector"]["failed_calls"] == figures["echo"]["failed_calls"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
