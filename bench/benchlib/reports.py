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
