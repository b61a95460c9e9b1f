"""Delta reports: the agent sends what changed, the collector ends holding exactly the laptop's
state, whatever the network loses, repeats or reorders (docs/design.md, "Delta reports")."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ENGINES, RunningCollector, new_database
from delta_laptop import Laptop
from farmwatch.agent.transport import CollectorError
from farmwatch.collector.inventory import TABLES
from farmwatch.collector.storage import reports
from farmwatch.common import delta
from farmwatch.v1 import collector_pb2, report_pb2


# -- making and applying deltas ------------------------------------------------------------------

def _report(processes, apps=(), hostname="h"):
    report = report_pb2.AgentReport(report_id="r", device_id="SN-1")
    report.host.hostname = hostname
    for pid in processes:
        report.processes.add(pid=pid, name=f"p{pid}")
    for name in apps:
        report.applications.add(name=name)
    return report


def test_a_delta_carries_only_what_changed_and_rebuilds_the_report():
    base = _report(range(100), ["a", "b"])
    new = _report(range(2, 101), ["a", "b", "c"], hostname="renamed")
    change = delta.make_delta(delta.DeviceState.of(base), "base-id", 7, new)
    assert [p.pid for p in change.processes] == [100] and [a.name for a in change.applications] == ["c"]
    assert {entry.section: len(entry.item_digests) for entry in change.delta.removed} == {"processes": 2}
    assert (change.delta.base_report_id, change.delta.base_sequence) == ("base-id", 7)
    rebuilt = delta.DeviceState.of(base).apply(change).report
    assert delta.canonical(rebuilt) == delta.canonical(new)
    assert not rebuilt.HasField("delta") and rebuilt.host.hostname == "renamed"


def test_identical_items_count_as_many_times_as_they_occur():
    base, new = _report([1, 1, 1]), _report([1])
    rebuilt = delta.DeviceState.of(base).apply(delta.make_delta(delta.DeviceState.of(base), "b", 1, new))
    assert [p.pid for p in rebuilt.report.processes] == [1]


def test_a_delta_on_another_state_is_refused_not_applied():
    base, other, new = _report([1, 2]), _report([5, 6]), _report([2, 3])
    change = delta.make_delta(delta.DeviceState.of(base), "b", 1, new)
    with pytest.raises(delta.DeltaMismatch, match="does not hold"):
        delta.DeviceState.of(other).apply(change)
    change.delta.state_digest = b"\0" * 32
    with pytest.raises(delta.DeltaMismatch, match="digested"):
        delta.DeviceState.of(base).apply(change)


def test_a_delta_as_large_as_the_report_is_not_worth_sending():
    base, new = _report(range(10)), _report(range(100, 110))
    assert not delta.worth_sending(delta.make_delta(delta.DeviceState.of(base), "b", 1, new), new)
    small = _report(range(1, 101))
    assert delta.worth_sending(delta.make_delta(delta.DeviceState.of(_report(range(100))), "b", 1, small), small)


# -- over real mTLS ------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=ENGINES)
def fleet_collector(request, tmp_path_factory):
    """A collector on each engine (on PostgreSQL, a database of its own)."""
    from farmwatch.collector import pki

    folder = tmp_path_factory.mktemp("delta")
    home = folder / "collector"
    pki.CertificateAuthority.create(home / "pki").issue_server(["localhost", "127.0.0.1"])
    database = {} if request.param == "sqlite" else {"database_url": new_database(request, request.param, folder)}
    running = RunningCollector(home, device_report_burst=0, device_byte_burst=0, **database)
    yield running
    running.stop()


_devices = itertools.count(1)


def new_laptop(collector, tmp_path_factory, seed=0) -> Laptop:
    device_id = f"SN-D{next(_devices):05d}"
    creds = collector.enroll(device_id)
    return Laptop(device_id, tmp_path_factory.mktemp(device_id), collector.client(creds), creds.cert_pem, seed)


def collector_state(collector, device_id: str) -> bytes:
    """The device's state as the collector holds it in the database: its latest state, and the
    same rebuilt from the stored chain of reports."""
    *_, latest = collector.store.device_state(device_id)
    last_report_id = collector.store.rows("SELECT last_report_id FROM devices WHERE device_id = ?",
                                          (device_id,))[0]["last_report_id"]
    chain = reports.report_chain(collector.store.storage.reader(), last_report_id)
    assert delta.canonical(delta.DeviceState.of_chain([stored for _, _, stored in chain]).report) == \
        delta.canonical(latest)
    return delta.canonical(latest)


def assert_converged(collector, laptop: Laptop) -> None:
    """The collector holds the laptop's latest report, and every report it stored is, read back
    in full, the report the agent made under that id and classified: nothing lost, nothing invented."""
    assert collector_state(collector, laptop.device_id) == laptop.made[laptop.last_made]
    latest = report_pb2.AgentReport.FromString(laptop.made[laptop.last_made])
    for table in TABLES:  # the inventory tables show what the latest report holds
        columns = ", ".join(f'"{c}"' for c in table.identity)  # `user` is a reserved word in PostgreSQL
        present = collector.store.rows(f"SELECT {columns} FROM {table.name} "
                                       "WHERE device_id = ? AND present = 1", (laptop.device_id,))
        assert {tuple(row.values()) for row in present} == set(table.identities(latest)), table.name
    stored = collector.store.rows("SELECT report_id, verdict FROM reports WHERE device_id = ?", (laptop.device_id,))
    assert stored and all(row["verdict"] for row in stored)  # each classified on its full report
    for row in stored:
        envelope = collector.store.envelope(row["report_id"])
        report = report_pb2.AgentReport()
        from google.protobuf import json_format

        json_format.ParseDict(envelope["report"], report)
        assert delta.canonical(report) == laptop.made[row["report_id"]]


def test_steady_reports_go_as_deltas_and_the_collector_holds_the_laptop(fleet_collector, tmp_path_factory):
    laptop = new_laptop(fleet_collector, tmp_path_factory)
    laptop.report("process", "connection", "install", "usb", "twin", "twin", "wifi", "host", "wifi", "process")
    assert (laptop.client.fulls, laptop.client.deltas) == (1, 9)  # full on first contact only
    assert_converged(fleet_collector, laptop)
    raw = fleet_collector.store.rows("SELECT base_report_id FROM reports WHERE device_id = ? ORDER BY rowid",
                                     (laptop.device_id,))
    assert raw[0]["base_report_id"] is None and all(r["base_report_id"] for r in raw[1:])
    laptop.close()


def test_a_lost_ack_ends_in_one_stored_report(fleet_collector, tmp_path_factory):
    laptop = new_laptop(fleet_collector, tmp_path_factory)
    laptop.report("nothing")
    laptop.change("process")
    laptop.scan()
    laptop.client.fail_call = (0, "ack")  # the delta is stored, its answer lost
    assert isinstance(laptop.drain().error, CollectorError)
    laptop.report("install")
    assert len(fleet_collector.store.rows("SELECT 1 FROM reports WHERE device_id = ?", (laptop.device_id,))) == 3
    assert_converged(fleet_collector, laptop)
    laptop.close()


def test_a_delta_on_a_base_the_collector_lacks_is_answered_with_a_reason(fleet_collector, tmp_path_factory):
    laptop = new_laptop(fleet_collector, tmp_path_factory)
    laptop.report("nothing")
    laptop.change("process")
    report = laptop.scan()
    change = delta.make_delta(delta.DeviceState.of(report), "9d5ed678-fe57-4ffe-a3bc-3b8f1d1e2a3c", 999, report)
    ack = laptop.client.client.report(change)
    assert (ack.send_full, ack.duplicate) == (collector_pb2.FULL_REPORT_BASE_UNKNOWN, False)
    assert not fleet_collector.store.rows("SELECT 1 FROM reports WHERE report_id = ?", (report.report_id,))
    laptop.drain_all()
    assert_converged(fleet_collector, laptop)
    laptop.close()


def test_a_restarted_agent_starts_again_with_a_full_report(fleet_collector, tmp_path_factory):
    laptop = new_laptop(fleet_collector, tmp_path_factory)
    laptop.report("process", "process")
    laptop.wipe()
    laptop.report("connection", "usb")
    assert (laptop.client.fulls, laptop.client.deltas) == (2, 2)
    assert_converged(fleet_collector, laptop)
    laptop.close()


def test_a_report_delivered_after_a_newer_one_leaves_the_base_on_the_newer(fleet_collector, tmp_path_factory):
    laptop = new_laptop(fleet_collector, tmp_path_factory)
    laptop.report("nothing")
    for kind in ("process", "install"):
        laptop.change(kind)
        laptop.scan()
    laptop.client.fail_call = (0, "refuse")  # the collector chokes on the older; the newer goes through
    laptop.drain()
    laptop.drain_all()  # the older, late: stored as history on the newer's state
    assert laptop.spool.delta_base().report.report_id == laptop.last_made
    laptop.report("usb")
    assert (laptop.client.fulls, laptop.client.deltas) == (1, 3)  # no full report asked for
    assert_converged(fleet_collector, laptop)
    laptop.close()


CHANGES = ("process", "connection", "install", "usb", "twin", "host", "wifi", "reinstall")
STEPS = st.one_of(
    st.tuples(st.just("change"), st.sampled_from(CHANGES)),
    st.tuples(st.just("scan")),
    st.tuples(st.just("drain"), st.sampled_from(("ok", "request", "ack", "refuse")), st.integers(0, 2)),
    st.tuples(st.just("replay"), st.integers(0, 50)),  # an earlier request arriving again, late
    st.tuples(st.just("wipe")),
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                   HealthCheck.too_slow])
@given(steps=st.lists(STEPS, min_size=1, max_size=25), seed=st.integers(0, 2**16))
def test_any_sequence_of_scans_losses_and_replays_ends_in_the_laptops_state(fleet_collector, tmp_path_factory,
                                                                             steps, seed):
    laptop = new_laptop(fleet_collector, tmp_path_factory, seed)
    try:
        for step in steps:
            if step[0] == "change":
                laptop.change(step[1])
            elif step[0] == "scan":
                laptop.scan()
            elif step[0] == "drain":
                laptop.client.fail_call = None if step[1] == "ok" else (step[2], step[1])
                laptop.drain()
                laptop.client.fail_call = None
            elif step[0] == "replay" and laptop.client.sent:
                sent = laptop.client.sent
                ack = laptop.client.client.report(sent[step[1] % len(sent)])
                assert ack.duplicate or ack.send_full  # an old request is never stored twice
            elif step[0] == "wipe":
                laptop.drain_all()  # what the outbox held is delivered before the disk goes
                laptop.wipe()
        laptop.scan()
        laptop.drain_all()
        assert_converged(fleet_collector, laptop)
    finally:
        laptop.close()
