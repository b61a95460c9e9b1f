"""Agent footprint: one full scan (CPU, wall, peak RSS, report size) and the idle CPU of `run`.

    python bench/agent.py [--quick] [--json]

Scans run in a fresh `python` subprocess each (as a freshly started agent would), 3 times per
machine: this machine as it is; this machine made a busy laptop for real (bench/benchlib/busy.py:
`sleep` processes up to `--processes` in all, 400 by default, holding `--connections` loopback
TCP connections, 300 by default, i.e. 150 pairs with both ends reported; all ended by PID
afterwards); and the `busy_laptop` fixture sysroot (400 processes' worth of /proc,
tests/sysroot_machines.py). The busy machine's counts are what its scans reported (other
programs' processes and connections come and go). "scan CPU" is the CPU the scan itself used
(process time around `build_report`), "processes probe" and "network probe" the wall time those
probes reported for themselves (agent_stats.probe_seconds); "process CPU" adds interpreter start
and imports; peak RSS is the subprocess's maxrss from wait4().

Report size: serialized protobuf, zlib (level 6) and gzip of it, and the delta a second scan a few
seconds later would send if only items that changed were sent (the items of each list not
present byte for byte in the previous scan, plus the scalar sections when they changed).

Idle: a collector in a temporary home, an agent enrolled with it and `farmwatch-agent run
--interval 3600`; after its first report is stored, the agent's CPU (psutil) over 60 s (10 s
with --quick), and its peak RSS (VmHWM) over its whole life. Then, with the same enrollment,
what `run` does step by step in one fresh process (imports as the entry point makes them, then
three report cycles, `run_once`), with VmRSS and VmHWM after each step: where the memory goes.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import psutil

from benchlib.busy import BusyLaptop
from benchlib.collector import BIN, ENV, CollectorProcess, create_token, init_home
from benchlib.stats import format_spread, spread, table

REPO = Path(__file__).resolve().parents[1]
RUNS = 3
DELTA_GAP_SECONDS = 5.0


# -- one scan, in the child ----------------------------------------------------------------------

def scan_child(sysroot: str | None, delta: bool) -> None:
    """Runs in the fresh subprocess: one scan, its cost, its sizes; prints one JSON line."""
    import farmwatch.agent.cli  # noqa: F401  (the agent's entry point: its imports and process settings first)
    from farmwatch.agent.scan import build_report

    cpu, wall = time.process_time(), time.perf_counter()
    report = build_report(sysroot=sysroot)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    raw = report.SerializeToString()
    figures = {"scan_cpu_s": cpu, "scan_wall_s": wall, "processes": len(report.processes),
               "connections": len(report.network.connections),
               "processes_probe_s": report.agent_stats.probe_seconds["processes"],
               "network_probe_s": report.agent_stats.probe_seconds["network"],
               "bytes": len(raw), "zlib_bytes": len(zlib.compress(raw, 6)), "gzip_bytes": len(gzip.compress(raw, 6))}
    if delta:
        time.sleep(DELTA_GAP_SECONDS)
        changed = delta_bytes(report, build_report(sysroot=sysroot))
        figures.update(delta_bytes=len(changed), delta_zlib_bytes=len(zlib.compress(changed, 6)))
    print(json.dumps(figures))


def delta_bytes(before, after) -> bytes:
    """`after` as it would go on the wire if list items and sections unchanged since `before` were left out."""
    delta = type(after)()
    delta.CopyFrom(after)
    _strip_unchanged(before, delta)
    return delta.SerializeToString()


def _strip_unchanged(before, message) -> None:
    for field, value in message.ListFields():
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue  # scalars (ids, sequence, host fields) and maps (probe timings) always go
        if field.is_repeated:
            seen = {item.SerializeToString(deterministic=True) for item in getattr(before, field.name)}
            kept = [item for item in value if item.SerializeToString(deterministic=True) not in seen]
            message.ClearField(field.name)
            getattr(message, field.name).extend(kept)
        elif getattr(before, field.name) == value:
            message.ClearField(field.name)
        else:
            _strip_unchanged(getattr(before, field.name), value)


# -- the parent ------------------------------------------------------------------------------------

def scan_once(sysroot: Path | None, delta: bool) -> dict:
    argv = [sys.executable, __file__, "--scan-child"] + (["--sysroot", str(sysroot)] if sysroot else [])
    child = subprocess.Popen(argv + (["--delta"] if delta else []), stdout=subprocess.PIPE, env=ENV)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"scan subprocess failed ({child.returncode})")
    figures = json.loads(output)
    figures.update(process_cpu_s=usage.ru_utime + usage.ru_stime, peak_rss_mib=usage.ru_maxrss / 1024)
    return figures


def scan_machine(name: str, sysroot: Path | None) -> dict:
    runs = [scan_once(sysroot, delta=index == 0) for index in range(RUNS)]
    summary = {key: spread([run[key] for run in runs]) for key in
               ("scan_cpu_s", "scan_wall_s", "processes_probe_s", "network_probe_s", "process_cpu_s", "peak_rss_mib",
                "processes", "connections", "bytes", "zlib_bytes", "gzip_bytes")}
    summary.update(machine=name, delta_bytes=runs[0]["delta_bytes"], delta_zlib_bytes=runs[0]["delta_zlib_bytes"])
    return summary


def busy_sysroot(directory: Path) -> Path:
    subprocess.run([sys.executable, str(REPO / "tests" / "sysroot_machines.py"), "busy_laptop", str(directory)],
                   check=True, capture_output=True)
    return directory


def idle_run(seconds: float, workdir: Path) -> dict:
    """CPU of `farmwatch-agent run` between scans, and its peak RSS."""
    home, state = init_home(workdir / "collector"), workdir / "agent"
    with CollectorProcess(home) as server:
        subprocess.run([str(BIN / "farmwatch-agent"), "--state-dir", str(state), "enroll", "--collector",
                        server.address, "--token", create_token(home, 1), "--ca-cert", str(home / "pki" / "ca.crt"),
                        "--device-id", "BENCH-AGENT-1"], check=True, capture_output=True, env=ENV)
        agent = subprocess.Popen([str(BIN / "farmwatch-agent"), "--state-dir", str(state), "-q", "run",
                                  "--interval", "3600"], env=ENV, stderr=subprocess.DEVNULL)
        try:
            _wait_for_first_report(server, agent)
            process = psutil.Process(agent.pid)
            before, started = sum(process.cpu_times()[:2]), time.perf_counter()
            time.sleep(seconds)
            used, elapsed = sum(process.cpu_times()[:2]) - before, time.perf_counter() - started
            peak_rss = _peak_rss_mib(agent.pid)
            threads = process.num_threads()
        finally:
            agent.terminate()
            agent.wait(timeout=30)
        stages = subprocess.run([sys.executable, str(Path(__file__).parent / "benchlib" / "rss_stages.py"), str(state)],
                                env=ENV, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    return {"idle_seconds": round(elapsed, 1), "idle_cpu_s": used, "idle_cpu_percent": used / elapsed * 100,
            "run_peak_rss_mib": peak_rss, "run_threads": threads, "rss_stages": json.loads(stages)}


def _wait_for_first_report(server: CollectorProcess, agent: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            raise SystemExit(f"farmwatch-agent run exited ({agent.returncode}) before its first report")
        if server.scalar("SELECT count(*) FROM reports"):
            time.sleep(1.0)  # let it finish writing the ack to its spool
            return
        time.sleep(0.2)
    raise SystemExit("the agent's first report did not arrive within a minute")


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc/PID/status")


def print_table(scans: list[dict], idle: dict, load: list[float]) -> None:
    rows = [[s["machine"], format_spread(s["processes"]), format_spread(s["connections"]),
             format_spread(_ms(s["scan_cpu_s"])), format_spread(_ms(s["scan_wall_s"])),
             format_spread(_ms(s["processes_probe_s"])), format_spread(_ms(s["network_probe_s"])),
             format_spread(_ms(s["process_cpu_s"])),
             format_spread(s["peak_rss_mib"], 1), format_spread(s["bytes"]), format_spread(s["zlib_bytes"]),
             format_spread(s["gzip_bytes"]), f"{s['delta_bytes']:,} / {s['delta_zlib_bytes']:,}"]
            for s in scans]
    print(f"one full scan, fresh subprocess, {RUNS} runs: median [min–max]; load average (1 min) "
          f"{load[0]:.2f} before, {load[1]:.2f} after")
    print(table(["machine", "processes", "connections", "scan CPU ms", "scan wall ms", "processes probe ms",
                 "network probe ms", "process CPU ms", "peak RSS MiB",
                 "report B", "zlib B", "gzip B", f"delta B / zlib (2nd scan {DELTA_GAP_SECONDS:g} s later)"], rows))
    print()
    print(table(["`farmwatch-agent run`", "value"], [
        ["idle CPU between scans", f"{idle['idle_cpu_percent']:.3f} % ({idle['idle_cpu_s'] * 1000:.0f} ms "
                                   f"in {idle['idle_seconds']:g} s)"],
        ["peak RSS (VmHWM, whole life incl. first scan and report)", f"{idle['run_peak_rss_mib']:.1f} MiB"],
        ["threads", idle["run_threads"]]]))
    print()
    print(table(["`run` step by step, one process", "VmRSS MiB", "VmHWM MiB"],
                [[stage["stage"], f"{stage['rss_mib']:.1f}", f"{stage['peak_mib']:.1f}"]
                 for stage in idle["rss_stages"]]))


def _ms(summary: dict) -> dict:
    return {k: (v * 1000 if k != "runs" else v) for k, v in summary.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="idle measurement over 10 s instead of 60 s")
    parser.add_argument("--processes", type=int, default=400, help="processes on the busy machine (default 400)")
    parser.add_argument("--connections", type=int, default=300,
                        help="loopback connections reported on the busy machine, both ends counted (default 300)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--scan-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sysroot", help=argparse.SUPPRESS)
    parser.add_argument("--delta", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scan_child:
        scan_child(args.sysroot, args.delta)
        return 0
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="farmwatch-agent-bench-") as tmp:
        scans = [scan_machine("this machine", None)]
        with BusyLaptop(args.processes, args.connections):
            scans.append(scan_machine(f"this machine, busy ({args.processes} processes, +{args.connections} "
                                      "connections)", None))
        scans.append(scan_machine("busy_laptop fixture", busy_sysroot(Path(tmp) / "busy")))
        idle = idle_run(10.0 if args.quick else 60.0, Path(tmp))
    load.append(os.getloadavg()[0])
    if args.json:
        print(json.dumps({"scans": scans, "run": idle, "load_average": load}))
    else:
        print_table(scans, idle, load)
    return 0


if __name__ == "__main__":
    sys.exit(main())
