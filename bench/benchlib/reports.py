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
import random
import uuid
from pathlib import Path

from farmwatch.collector.ingest import load_report_file
from farmwatch.common import delta
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
class LaptopReports:
    """A simulated agent's reports with a laptop's churn and delta reports, as the agent sends them.

    Per scan (from pairs of real scans of one laptop a report interval apart): 2–4 processes and
    1–3 connections come and go; one scan in 50 installs an application, one in 100 plugs or
    unplugs a USB device. `message()` is the next report as the agent would send it: in full on
    first contact, after a failed call, once a day (`FULL_EVERY` scans at 5 minutes), or always
    with `full_only` (a new laptop, an agent resyncing, an old agent); otherwise a delta on the
    last acknowledged report, made from the changes the scan knows it made (as cheap for the load
    generator as for the agent's own `make_delta`, which compares whole reports)."""

    FULL_EVERY = 288

    def __init__(self, base: report_pb2.AgentReport, device_id: str, index: int, *, full_only: bool = False,
                 seed: int | None = None):
        self.full_only, self.rng = full_only, random.Random(index if seed is None else seed)
        self.report = copy.deepcopy(base)
        _make_own(self.report, device_id, index)
        self.state = delta.DeviceState.of(self.report)
        self._acked: tuple[str, int] | None = None  # (report id, sequence) the collector has
        self._removed: dict[str, list[bytes]] = {}
        self._added: dict[str, list] = {}
        self._next_pid = 100_000
        self.sent_full = False

    def message(self) -> report_pb2.AgentReport:
        """Scan (apply this interval's churn), then the report to send: full or delta."""
        self._scan()
        report = self.report
        report.report_id, report.sequence = str(uuid.uuid4()), report.sequence + 1
        report.collected_at.GetCurrentTime()
        self.sent_full = (self.full_only or self._acked is None or self.rng.randrange(self.FULL_EVERY) == 0)
        return self.full() if self.sent_full else self._delta()

    def full(self) -> report_pb2.AgentReport:
        """The latest report in full, a copy of its own (as each report the agent spools is)."""
        return copy.deepcopy(self.report)

    def acked(self, taken: bool) -> None:
        """The last message's answer: `taken` (stored, or a duplicate) makes it the base of the next
        delta; otherwise the next report goes in full."""
        self._acked = (self.report.report_id, self.report.sequence) if taken else None

    def _delta(self) -> report_pb2.AgentReport:
        change = report_pb2.AgentReport()
        for field_name in ("report_id", "device_id", "sequence"):
            setattr(change, field_name, getattr(self.report, field_name))
        for field_name in ("collected_at", "host", "agent_stats"):
            if self.report.HasField(field_name):
                getattr(change, field_name).CopyFrom(getattr(self.report, field_name))
        network, whole = self.report.network, change.network
        for field_name in ("default_gateway", "wifi"):
            if network.HasField(field_name):
                getattr(whole, field_name).CopyFrom(getattr(network, field_name))
        whole.dns_servers.extend(network.dns_servers)
        whole.wifi_nearby.extend(network.wifi_nearby)
        whole.ip_forwarding = network.ip_forwarding
        for name, items in self._added.items():
            delta.section(change, name).extend(items)
        for name, digests in self._removed.items():
            change.delta.removed.add(section=name, item_digests=digests)
        change.delta.base_report_id, change.delta.base_sequence = self._acked
        change.delta.state_digest = self.state.state_digest()
        return change

    def _scan(self) -> None:
        self._removed, self._added = {}, {}
        rng = self.rng
        for _ in range(rng.randint(2, 4)):
            self._remove("processes", rng.randrange(len(self.report.processes) - len(self._added.get("processes", []))))
            self._next_pid += 1
            self._add("processes", report_pb2.Process(pid=self._next_pid, ppid=1, name=rng.choice(TRANSIENT),
                                                      exe="/usr/bin/" + rng.choice(TRANSIENT), username="dev"))
        for _ in range(rng.randint(1, 3)):
            if len(self.report.network.connections) > 4:
                self._remove("network.connections", 0)
            remote = f"140.82.{rng.randrange(256)}.{rng.randrange(256)}"
            self._add("network.connections", report_pb2.Connection(
                local_ip="192.168.1.20", local_port=rng.randrange(32768, 61000), remote_ip=remote, remote_port=443,
                status="ESTABLISHED", pid=self.report.processes[0].pid))
        if rng.randrange(50) == 0:
            self._add("applications", report_pb2.Application(name=f"tool-{rng.randrange(10**6)}", version="1.0",
                                                             source="dpkg"))
        if rng.randrange(100) == 0:
            if self.report.usb_devices:
                self._remove("usb_devices", 0)
            else:
                self._add("usb_devices", report_pb2.UsbDevice(vendor_id="0781", product_id="5583",
                                                              product="Ultra Fit", bus_path="1-2"))

    def _remove(self, name: str, index: int) -> None:
        """Remove an item the base holds (added ones sit at the end, past `index`)."""
        del delta.section(self.report, name)[index]
        self._removed.setdefault(name, []).append(self.state.digests[name].pop(index))

    def _add(self, name: str, item) -> None:
        delta.section(self.report, name).append(item)
        self._added.setdefault(name, []).append(item)
        self.state.digests[name].append(delta.item_digest(item))
