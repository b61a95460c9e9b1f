"""Ingest on PostgreSQL against SQLite, in the same run: one collector process on each, then two
collector processes sharing one PostgreSQL database (docs/scale.md).

    python bench/postgres.py --database postgresql://USER@HOST/postgres [--agents 32] [--seconds 8] [--json]

The URL's user must be allowed to create databases: each setup gets a fresh one, dropped after.
Agents are simulated (bench/loadgen.py): own certificate and connection each, closed loop, the
realistic ~400-process report, first report acknowledged before the window. With two collectors
the agents are split between them. PostgreSQL CPU per report is the CPU time of the server's
processes on this machine over the window (so the server must run here).
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import psutil

from benchlib.collector import ENV, CollectorProcess, create_token, init_home
from benchlib.reports import base_report
from benchlib.stats import table
from loadgen import enroll_agents, run_load

WARMUP = 1.5


def _postgres_cpu() -> dict[int, float]:
    found = {}
    for process in psutil.process_iter(["name", "cpu_times"]):
        if process.info["name"] in ("postgres", "postmaster") and process.info["cpu_times"]:
            found[process.pid] = process.info["cpu_times"].user + process.info["cpu_times"].system
    return found


def _database(admin_url: str, action: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"{action} DATABASE {name}" + (" WITH (FORCE)" if action == "DROP" else ""))
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def one_setup(workdir: Path, collectors: int, url: str | None, agents_count: int, seconds: float, base) -> dict:
    """reports/s, collector CPU and PostgreSQL CPU per report for `collectors` processes on one database."""
    homes = [init_home(workdir / "c0")]
    for n in range(1, collectors):  # the same CA and server certificate, as every host of a cluster has
        shutil.copytree(homes[0] / "pki", workdir / f"c{n}" / "pki")
        shutil.copy(homes[0] / "collector.toml", workdir / f"c{n}" / "collector.toml")
        homes.append(workdir / f"c{n}")
    env = {**ENV, "FARMWATCH_DATABASE_URL": url} if url else ENV
    servers = [CollectorProcess(home, env=env, workers=1).start() for home in homes]  # per process
    try:
        token = create_token(homes[0], agents_count, database=url)
        agents = enroll_agents(servers[0].address, servers[0].ca_pem, token, agents_count)
        share = [agents[n::collectors] for n in range(collectors)]
        cpu, results = {}, [None] * collectors

        def edge(name):
            cpu[name] = (sum(s.cpu_seconds() for s in servers), _postgres_cpu())

        def load(n):
            hooks = (lambda: edge("start"), lambda: edge("end")) if n == 0 else None
            results[n] = run_load(servers[n].address, share[n], seconds=seconds, warmup=WARMUP, base=base,
                                  window_hooks=hooks, prime=True)

        threads = [threading.Thread(target=load, args=(n,)) for n in range(collectors)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    finally:
        for server in servers:
            server.stop()
    ok = sum(r.ok for r in results)
    pg_start, pg_end = cpu["start"][1], cpu["end"][1]
    pg_cpu = sum(end - pg_start.get(pid, 0.0) for pid, end in pg_end.items()) if url else None
    return {"engine": "postgresql" if url else "sqlite", "collectors": collectors,
            "reports_per_second": round(ok / seconds, 1),
            "collector_cpu_ms_per_report": round((cpu["end"][0] - cpu["start"][0]) / max(ok, 1) * 1e3, 2),
            "postgres_cpu_ms_per_report": round(pg_cpu / max(ok, 1) * 1e3, 2) if url else None,
            "failed_calls": sum(sum(r.failed.values()) for r in results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True, metavar="URL",
                        help="postgresql:// URL of a server whose user may create databases")
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--processes", type=int, default=400, help="processes per report (its size)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    base = base_report(args.processes)
    rows = []
    for collectors, engine in ((1, "sqlite"), (1, "postgresql"), (2, "postgresql")):
        with tempfile.TemporaryDirectory(prefix="fw-bench-pg-") as workdir:
            name = f"farmwatch_bench_{uuid.uuid4().hex[:8]}"
            url = _database(args.database, "CREATE", name) if engine == "postgresql" else None
            try:
                rows.append(one_setup(Path(workdir), collectors, url, args.agents, args.seconds, base))
            finally:
                if url:
                    _database(args.database, "DROP", name)
    if args.json:
        print(json.dumps({"agents": args.agents, "seconds": args.seconds, "report_bytes": base.ByteSize(),
                          "setups": rows}, indent=2))
        return
    print(f"{args.agents} agents, closed loop, {base.ByteSize():,} B reports, {args.seconds:g} s window")
    columns = ["engine", "collectors", "reports_per_second", "collector_cpu_ms_per_report",
               "postgres_cpu_ms_per_report", "failed_calls"]
    print(table(["engine", "collector processes", "reports/s", "collector CPU ms/report",
                 "PostgreSQL CPU ms/report", "failed"],
                [["–" if row[c] is None else row[c] for c in columns] for row in rows]))


if __name__ == "__main__":
    main()
