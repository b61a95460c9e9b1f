"""Realistic reports for simulated agents.

The base is a recorded-style Linux developer laptop from the scenario corpus (tests/scenarios),
grown to ~400 processes the way a browser-heavy desktop grows: more renderer/helper processes of
programs it already runs. Each simulated agent gets its own serial, hostname, network location and
a few processes of its own; each report gets a fresh report_id, the next sequence, the current
time, and one short-lived process that comes and goes (a laptop's process list is never frozen,
so the collector's change-only inventory does real work).
"""
from __future__ import annotations

import copy
import uuid
from pathlib import Path

from farmwatch.collector.ingest import load_report_file
from farmwatch.v1 import report_pb2

REPO = Path(__file__).resolve().parents[2]
BASE_SCENARIO = REPO / "tests" / "scenarios" / "clean" / "linux_docker_ssh_developer.json"
TRANSIENT = ("git", "python3", "apt-check", "sshd-session", "ripgrep")


def base_report(processes: int = 400) -> report_pb2.AgentReport:
    """The scenario laptop with its user-space processes repeated (new pids) up to `processes`."""
    report = load_report_file(BASE_SCENARIO).report
    helpers = [p for p in report.processes if p.exe]
    next_pid = max(p.pid for p in report.processes) + 1
    index = 0
    while len(report.processes) < processes:
        clone = report.processes.add()
        clone.CopyFrom(helpers[index % len(helpers)])
        clone.pid, clone.ppid = next_pid, helpers[index % len(helpers)].pid
        del clone.cmdline[:]  # a helper's flags differ from its parent's; keep the report near 36 KB
        next_pid += 1
        index += 1
    return report


class AgentReports:
    """The reports of one simulated agent: `next()` returns a fresh one each time."""

    def __init__(self, base: report_pb2.AgentReport, device_id: str, index: int):
        self.device_id, self.sequence = device_id, 0
        self.template = copy.deepcopy(base)
        _make_own(self.template, device_id, index)
        self._transient = self.template.processes.add(pid=90000, ppid=1, username="dev")

    def next(self) -> report_pb2.AgentReport:
        self.sequence += 1
        name = TRANSIENT[self.sequence % len(TRANSIENT)]
        self._transient.name, self._transient.exe = name, f"/usr/bin/{name}"
        self._transient.pid = 90000 + self.sequence
        report = self.template
        report.report_id, report.sequence = str(uuid.uuid4()), self.sequence
        report.collected_at.GetCurrentTime()
        return report


def _make_own(report: report_pb2.AgentReport, device_id: str, index: int) -> None:
    report.device_id = report.host.serial_number = device_id
    report.host.hostname = f"acme-lt-{index:05d}"
    mac_tail = f"{(index >> 8) & 0xff:02x}:{index & 0xff:02x}"
    report.network.default_gateway.mac = f"02:fb:00:00:{mac_tail}"
    report.network.wifi.bssid = f"02:fb:01:00:{mac_tail}"
    for offset, process in enumerate(list(report.processes)[-3:]):
        process.pid = 70000 + index * 3 + offset
        process.name = f"{process.name}-{index % 7}"


def real_like_scan(processes: int = 93, applications: int = 724, connections: int = 277) -> report_pb2.AgentReport:
    """A report shaped like a real `scan` of a developer's Linux laptop as issue 15 profiled it (53 KB:
    93 processes, 724 packages, 277 connections): the scenario laptop's user-space processes first,
    its packages repeated under numbered names, its connections repeated to distinct public peers."""
    report = load_report_file(BASE_SCENARIO).report
    kept = sorted(report.processes, key=lambda p: not p.exe)[:processes]
    del report.processes[:]
    report.processes.extend(kept)
    _grow(report.applications, applications, lambda app, i: setattr(app, "name", f"{app.name}-{i}"))
    owners = [p for p in kept if p.exe]

    def spread(conn, i):
        owner = owners[i % len(owners)]
        conn.remote_ip, conn.local_port = f"{140 + i % 20}.{82 + i % 7}.{i % 251}.{(i * 7) % 253 + 1}", 40000 + i
        conn.pid, conn.process_name = owner.pid, owner.name
    _grow(report.network.connections, connections, spread)
    return report


def _grow(items, count: int, vary) -> None:
    """Add copies of the first items, each varied by `vary(copy, index)`, until there are `count`."""
    originals = list(items)
    while len(items) < count:
        clone = items.add()
        clone.CopyFrom(originals[len(items) % len(originals)])
        vary(clone, len(items))
