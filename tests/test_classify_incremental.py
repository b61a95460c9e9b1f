"""Incremental classification (issue 15 part 2): the verdict of `IncrementalClassifier` equals
`detect.classify` on the same full report, whatever came before, and it re-runs only the rules
whose inputs changed.

The property test walks long random sequences of scenario reports (tests/scenarios/) changed item
by item the way a laptop changes between scans — processes, connections, listeners, applications,
USB devices, displays, sessions, settings coming and going — plus moves that combine sections (a
new connection to a process a tool already runs, ssh flags that open a reverse tunnel, a tunnel's
connection into a remote-desktop port), items from `proto_strategies` (any value the wire allows),
repeated items, the JSON form, and catalogue, allow-list and group changes mid-sequence.
"""
from __future__ import annotations

import random
import tomllib
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from farmwatch.collector import detect, ingest
from farmwatch.collector.detect import RULES, Policy
from farmwatch.collector.detect.catalogue import BUNDLED, load_catalogue
from farmwatch.collector.detect.incremental import IncrementalClassifier
from farmwatch.collector.detect.report import read_report
from farmwatch.collector.detect.rules import Context
from farmwatch.collector.detect.rules.base import SOCKET_PROCESSES, VIEW_INPUTS
from farmwatch.collector.detect.sightings import find_sightings
from farmwatch.common import delta
from farmwatch.v1 import report_pb2
from proto_strategies import messages

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
CORPUS = sorted(SCENARIOS.glob("*/*.json"))
DEVICES = ("SN-INCR-1", "SN-INCR-2")
GROUPS = (None, "helpdesk", "build-agents")


@cache
def corpus() -> tuple[report_pb2.AgentReport, ...]:
    return tuple(ingest.load_report_file(path).report for path in CORPUS)


@cache
def policies() -> tuple[Policy | None, ...]:
    company = tomllib.loads((SCENARIOS / "allowlisted" / "collector.toml").read_text(encoding="utf-8"))
    grouped = {"allow": [{"rule": "ip-forwarding", "groups": ["build-agents"]},
                         {"tool": "teamviewer", "groups": ["helpdesk"], "sessions": True},
                         {"tool": "anydesk", "groups": ["helpdesk"]},
                         {"hardware": "usb:1d6b:0104", "groups": ["helpdesk"]}],
               "fleet": {"office_networks": ["198.51.100.0/24"]}}
    return None, Policy.from_config(company), Policy.from_config(grouped)


@cache
def catalogues():
    """The bundled catalogue, and a second one loaded from the same files: equal, but another object."""
    return load_catalogue(), load_catalogue(BUNDLED)


# --------------------------------------------------------------------------- what a rule reads

class RecordingView:
    """A ReportView that notes which rule inputs are read through it."""

    def __init__(self, view, touched: set):
        self._view, self._touched = view, touched
        self._sockets = {(s.pid, s.process_name) for s in (*view.connections, *view.listeners)}

    def __getattr__(self, name):
        if name in VIEW_INPUTS:
            self._touched.add(name)
        elif name in ("processes_by_pid", "device_id"):
            self._touched.add("processes" if name == "processes_by_pid" else name)
        elif name != "process_of":
            self._touched.add(f"undeclarable:{name}")  # entries(), section(), source: no rule may use them
        return getattr(self._view, name)

    def process_of(self, pid, process_name=""):
        self._touched.add(SOCKET_PROCESSES if (pid, process_name) in self._sockets else "processes")
        return self._view.process_of(pid, process_name)


class RecordingContext(Context):
    @property
    def sightings(self):
        self.touched.add("sightings")
        return self.found


@cache
def corpus_views() -> tuple[tuple, ...]:
    """(report, view, sightings) of each corpus report: read once, for every rule's test (views and
    sightings are read, never changed)."""
    catalogue = load_catalogue()
    return tuple((report, view, find_sightings(view, catalogue)) for report in corpus()
                 for view in (read_report(report),))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_reads_only_what_it_declares(rule):
    catalogue = load_catalogue()
    for report, view, found in corpus_views():
        touched = set()
        ctx = RecordingContext(RecordingView(view, touched), catalogue, Policy().for_device(None))
        ctx.touched, ctx.found = touched, found
        list(rule.run(ctx))
        assert touched <= rule.reads, f"{rule.id} reads {sorted(touched - rule.reads)} undeclared on {report.report_id}"


# --------------------------------------------------------------------------- the same verdict

def _pick(rng: random.Random, items):
    return items[rng.randrange(len(items))] if len(items) else None


def _donor(rng: random.Random) -> report_pb2.AgentReport:
    return _pick(rng, corpus())


def _add_copy(rng, target, donor_items, pid_from=None):
    item = _pick(rng, donor_items)
    if item is None:
        return
    added = target.add()
    added.CopyFrom(item)
    if pid_from is not None and "process_name" in added.DESCRIPTOR.fields_by_name:  # a socket of a reported process
        owner = _pick(rng, pid_from)
        if owner is not None:
            added.pid, added.process_name = owner.pid, owner.name


def _remove(rng, items):
    if len(items):
        del items[rng.randrange(len(items))]


def _ssh_reverse_tunnel(rng, report):
    """An ssh client appears with a remote forward, or an existing process's flags gain one."""
    spec = rng.choice(["-R", "-fNR", "-oRemoteForward="]) + rng.choice(["3389:localhost:3389", "8080:localhost:80"])
    if rng.random() < 0.5 and len(report.processes):
        _pick(rng, report.processes).cmdline.extend([spec, "user@203.0.113.40"])
    else:
        report.processes.add(pid=rng.randrange(40000, 50000), name="ssh", exe="/usr/bin/ssh",
                             cmdline=["ssh", spec, "user@203.0.113.40"])


def _tunnel_into_desktop_port(rng, report):
    """A connection from a running process into a remote-desktop port over loopback (ngrok tcp 3389)."""
    owner = _pick(rng, report.processes)
    if owner is not None:
        report.network.connections.add(local_ip="127.0.0.1", local_port=rng.randrange(50000, 60000),
                                       remote_ip="127.0.0.1", remote_port=rng.choice([3389, 5900, 22]),
                                       status="ESTABLISHED", pid=owner.pid, process_name=owner.name)


def _inbound_to_existing_process(rng, report):
    """A new connection from a stranger into a port a reported process listens on."""
    listener = _pick(rng, report.network.listeners)
    owner = _pick(rng, report.processes)
    if listener is not None and owner is not None:
        report.network.connections.add(local_ip="10.0.0.5", local_port=listener.port,
                                       remote_ip=rng.choice(["198.51.100.77", "192.168.1.20", "2001:db8::7"]),
                                       remote_port=rng.randrange(1024, 65535), status="ESTABLISHED",
                                       pid=listener.pid or owner.pid, process_name=listener.process_name)


def _new_owner_of_a_socket(rng, report):
    """Another program now holds an existing socket's pid: one of another laptop's (a tool, on a relay
    laptop), or one whose name alone changes what a socket means (peer-to-peer, an SSH server, a dev server)."""
    listening = {listener.port for listener in report.network.listeners}
    inbound = [c for c in report.network.connections if c.status == "ESTABLISHED" and c.local_port in listening]
    socket = _pick(rng, inbound if inbound and rng.random() < 0.7 else
                   [*report.network.connections, *report.network.listeners])
    if socket is None or not socket.pid:
        return
    for index in reversed([i for i, p in enumerate(report.processes) if p.pid == socket.pid]):
        del report.processes[index]
    owner = report.processes.add()
    if rng.random() < 0.5:
        owner.CopyFrom(_pick(rng, _donor(rng).processes) or report_pb2.Process(name="init"))
    else:
        owner.name = rng.choice(["syncthing", "sshd", "node", "qbittorrent", "ssh"])
    owner.pid = socket.pid


def _scalar_change(rng, report):
    choice = rng.randrange(6)
    if choice == 0:
        report.host.os = rng.choice(["linux", "macos", "windows", "darwin", ""])
    elif choice == 1:
        report.network.ip_forwarding = not report.network.ip_forwarding
    elif choice == 2:
        report.host.locale = rng.choice(["en_US.UTF-8", "ko_KR.UTF-8", ""])
    elif choice == 3:
        del report.host.keyboard_layouts[:]
        report.host.keyboard_layouts.extend(rng.sample(["us", "kr", "2SetKorean", "de"], rng.randrange(3)))
    elif choice == 4 and len(report.remote_access):
        setting = _pick(rng, report.remote_access)
        setting.enabled = not setting.enabled
    else:
        report.agent_stats.probes_skipped.append(rng.choice(["usb", "network", "displays"]))


SECTIONS = {  # name -> (the report's list, the donor's list)
    "processes": lambda r: r.processes, "applications": lambda r: r.applications,
    "usb_devices": lambda r: r.usb_devices, "displays": lambda r: r.displays, "sessions": lambda r: r.sessions,
    "connections": lambda r: r.network.connections, "listeners": lambda r: r.network.listeners,
    "interfaces": lambda r: r.network.interfaces, "remote_access": lambda r: r.remote_access,
    "probe_errors": lambda r: r.probe_errors,
}


def _step(rng: random.Random, report: report_pb2.AgentReport, move: str) -> None:
    section = SECTIONS[rng.choice(sorted(SECTIONS))]
    if move == "add":
        owners = report.processes if rng.random() < 0.7 else None
        _add_copy(rng, section(report), section(_donor(rng)), owners)
    elif move == "remove":
        _remove(rng, section(report))
    elif move == "repeat":  # the same item twice, byte for byte
        item = _pick(rng, section(report))
        if item is not None:
            section(report).add().CopyFrom(item)
    elif move == "pid":
        proc = _pick(rng, report.processes)
        if proc is not None:
            proc.pid = rng.choice([proc.pid + 1, 0, rng.randrange(1, 99999)])
    elif move == "ssh":
        _ssh_reverse_tunnel(rng, report)
    elif move == "tunnel":
        _tunnel_into_desktop_port(rng, report)
    elif move == "inbound":
        _inbound_to_existing_process(rng, report)
    elif move == "owner":
        _new_owner_of_a_socket(rng, report)
    elif move == "scalar":
        _scalar_change(rng, report)
    elif move == "laptop":  # another laptop's whole report under this device id
        device_id = report.device_id
        report.CopyFrom(_donor(rng))
        report.device_id = device_id


MOVES = ("add", "remove", "repeat", "pid", "ssh", "tunnel", "inbound", "owner", "scalar", "laptop", "nothing")
FUZZED = {"processes": report_pb2.Process, "connections": report_pb2.Connection,
          "listeners": report_pb2.Listener, "applications": report_pb2.Application,
          "usb_devices": report_pb2.UsbDevice, "displays": report_pb2.Display, "sessions": report_pb2.Session}
fuzzed_items = st.sampled_from(sorted(FUZZED)).flatmap(
    lambda name: st.tuples(st.just(name), messages(FUZZED[name].DESCRIPTOR, depth=2)))
steps = st.tuples(st.sampled_from(MOVES), st.integers(0, 2**32), st.none() | fuzzed_items,
                  st.integers(0, 99))


def _add_fuzzed(report: report_pb2.AgentReport, section: str, item) -> None:
    """Add `item` if the collector would accept the report with it (ingest validates before it classifies)."""
    items = SECTIONS[section](report)
    items.add().CopyFrom(item)
    try:
        ingest.validate(report)
    except ingest.InvalidReport:
        del items[-1]


def _json_form(report: report_pb2.AgentReport):
    """The report as `scan` prints it; a fuzzed item JSON cannot hold (a time no calendar has) keeps it a message."""
    try:
        return json_format.MessageToDict(report, preserving_proto_field_name=True)
    except json_format.Error:
        return report


def _configuration(roll: int, current: tuple) -> tuple:
    """Now and then the collector's catalogue, allow-list or the device's group changes."""
    policy, catalogue, group = current
    if roll < 4:
        policy = policies()[roll % len(policies())]
    elif roll < 7:
        catalogue = catalogues()[roll % 2]
    elif roll < 12:
        group = GROUPS[roll % len(GROUPS)]
    return policy, catalogue, group


# No shrinking: each example classifies up to 120 full reports, and the failing sequence is printed anyway.
@settings(max_examples=40, deadline=None, database=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(start=st.integers(0, len(CORPUS) - 1), sequence=st.lists(steps, min_size=20, max_size=60),
       max_devices=st.sampled_from([1, 2, 64]))
def test_incremental_verdict_equals_full_classify_over_random_sequences(start, sequence, max_devices):
    classifier = IncrementalClassifier(max_devices=max_devices)
    reports = {}
    for device in DEVICES:
        reports[device] = report_pb2.AgentReport()
        reports[device].CopyFrom(corpus()[(start + len(reports)) % len(corpus())])
        reports[device].device_id = device
    configuration = (None, catalogues()[0], None)
    for index, (move, seed, fuzzed, roll) in enumerate(sequence):
        rng = random.Random(seed)
        device = DEVICES[0] if roll % 5 else DEVICES[1]
        report = reports[device]
        _step(rng, report, move)
        if fuzzed is not None:
            _add_fuzzed(report, *fuzzed)
        configuration = _configuration(roll, configuration)
        policy, catalogue, group = configuration
        given_form = _json_form(report) if roll > 94 else report
        expected = detect.classify(report, policy, catalogue, group).to_dict()
        keys = delta.DeviceState.of(report).digests if roll % 4 else None  # as prepare() gives them, mostly
        got = classifier.classify(given_form, policy, catalogue, group, item_keys=keys).to_dict()
        assert got == expected, f"step {index} ({move}) of device {device}"


# --------------------------------------------------------------------------- what runs again

def _laptop() -> report_pb2.AgentReport:
    report = report_pb2.AgentReport()
    report.CopyFrom(corpus()[CORPUS.index(SCENARIOS / "clean" / "linux_docker_ssh_developer.json")])
    return report


def test_a_process_away_from_any_socket_reruns_only_the_process_rule():
    classifier, report = IncrementalClassifier(), _laptop()
    classifier.classify(report)
    assert classifier.rules_run(report.device_id) == {r.id for r in RULES}
    report.processes.add(pid=91234, name="git", exe="/usr/bin/git", cmdline=["git", "status"])
    classifier.classify(report)
    assert classifier.rules_run(report.device_id) == {"ssh-reverse-tunnel"}
    classifier.classify(report)
    assert classifier.rules_run(report.device_id) == set()


def test_a_new_connection_of_a_running_tool_reruns_the_socket_rules_and_finds_the_session():
    report = _laptop()
    report.processes.add(pid=4242, name="x11vnc", exe="/usr/bin/x11vnc", cmdline=["x11vnc", "-forever"])
    report.network.listeners.add(ip="0.0.0.0", port=5900, protocol="tcp", pid=4242, process_name="x11vnc")
    classifier = IncrementalClassifier()
    before = classifier.classify(report)
    report.network.connections.add(local_ip="10.0.0.5", local_port=5900, remote_ip="198.51.100.77",
                                   remote_port=50123, status="ESTABLISHED", pid=4242, process_name="x11vnc")
    after = classifier.classify(report)
    assert "remote-session-inbound" in classifier.rules_run(report.device_id)
    assert "usb-ip-kvm" not in classifier.rules_run(report.device_id)
    assert (before.verdict, after.verdict) == ("suspicious", "relay")
    assert after.to_dict() == detect.classify(report).to_dict()


def test_the_program_behind_a_socket_changing_alone_reruns_the_socket_rules():
    report = _laptop()
    report.network.listeners.add(ip="0.0.0.0", port=8384, protocol="tcp", pid=777)
    report.network.connections.add(local_ip="10.0.0.5", local_port=8384, remote_ip="198.51.100.77",
                                   remote_port=50123, status="ESTABLISHED", pid=777)
    classifier = IncrementalClassifier()
    stranger = classifier.classify(report)
    report.processes.add(pid=777, name="syncthing", exe="/usr/bin/syncthing", cmdline=["syncthing", "serve"])
    peer = classifier.classify(report)
    assert "inbound-internet-session" in classifier.rules_run(report.device_id)
    assert "inbound-internet-session" in {f.rule for f in stranger.findings}
    assert "inbound-internet-session" not in {f.rule for f in peer.findings}
    assert peer.to_dict() == detect.classify(report).to_dict()


@pytest.mark.parametrize("change", ["catalogue", "policy", "group"])
def test_a_configuration_change_reruns_every_rule(change):
    classifier, report = IncrementalClassifier(), _laptop()
    company = policies()[2]
    classifier.classify(report, company, catalogues()[0], "helpdesk")
    changed = {"catalogue": (company, catalogues()[1], "helpdesk"), "policy": (policies()[1], catalogues()[0],
               "helpdesk"), "group": (company, catalogues()[0], "build-agents")}[change]
    classifier.classify(report, *changed)
    assert classifier.rules_run(report.device_id) == {r.id for r in RULES}


def test_devices_beyond_the_bound_are_forgotten_oldest_first():
    classifier, report = IncrementalClassifier(max_devices=2), _laptop()
    for device in ("A", "B", "A", "C"):
        report.device_id = device
        classifier.classify(report)
    assert len(classifier) == 2
    assert classifier.rules_run("B") is None and classifier.rules_run("A") == set()


def test_a_device_keeps_only_its_latest_reports_items():
    classifier, report = IncrementalClassifier(), _laptop()
    for offset in range(1, 4):
        for proc in report.processes:
            proc.pid += 1000 * offset
        assert classifier.classify(report).to_dict() == detect.classify(report).to_dict()
    kept = classifier._devices[report.device_id].memo.seen["processes"]
    assert sorted(v.pid for v in kept.values()) == sorted(p.pid for p in report.processes)


def test_a_bound_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        IncrementalClassifier(max_devices=0)


def test_threads_classifying_the_same_devices_get_the_full_verdicts():
    """gRPC workers classify concurrently, a device's reports sometimes side by side (a replay)."""
    classifier, rng = IncrementalClassifier(max_devices=3), random.Random(15)
    reports = []
    for index in range(24):
        report = _laptop()
        report.device_id = DEVICES[index % 2] if index % 3 else "SN-INCR-3"
        for _ in range(index % 4):
            _step(rng, report, rng.choice(MOVES))
        reports.append(report)
    expected = [detect.classify(r).to_dict() for r in reports]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda r: classifier.classify(r).to_dict(), reports * 3))
    assert got == expected * 3
