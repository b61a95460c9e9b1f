"""Replays over the wire: an old report resent under a new report_id, with a sequence at or below
the last one seen for the same certificate, is stored as a replay (replay=1), never as news: the
device's state stays with the newest report, and analysts see the replay in the device's history.

The device's own verdict ignores replays, so a device whose reports keep arriving as replays gets a
fleet finding instead (`fleet-replays`, medium), which reaches `flags`. And a forged counter or
clock cannot freeze a device (issue 13): a sequence far ahead of what the time since allows, or a
collected_at after the collector received the report, never makes later reports look old.
"""
from __future__ import annotations

import json
import uuid

from google.protobuf.timestamp_pb2 import Timestamp

import pytest

import figures
from conftest import make_report, scenario_report
from farmwatch.collector import fleet
from farmwatch.v1 import query_pb2, query_pb2_grpc

# on both engines: SQLite and a real PostgreSQL server (conftest `engine`)
pytestmark = pytest.mark.usefixtures("engine")

SECTION = "security: replays"


def resent(report, sequence: int | None = None):
    """The same content under a fresh report_id (what a replaying client must do to get past dedup)."""
    copy = type(report)()
    copy.CopyFrom(report)
    copy.report_id = str(uuid.uuid4())
    if sequence is not None:
        copy.sequence = sequence
    return copy


@pytest.fixture
def history(collector):
    """SN-RP sent a relay report (sequence 3), then two clean ones (4, 5)."""
    creds = collector.enroll("SN-RP")
    relay = scenario_report("relay/linux_tinypilot", "SN-RP", 3)
    later = [make_report("SN-RP", 4), make_report("SN-RP", 5)]
    with collector.client(creds) as client:
        for report in [relay, *later]:
            client.report(report)
    return creds, relay, later[-1]


def device(collector) -> dict:
    return collector.store.rows("SELECT last_sequence, last_report_id, hostname, verdict FROM devices "
                                "WHERE device_id = 'SN-RP'")[0]


@pytest.mark.parametrize("case, sequence_of", [("older sequence", lambda relay, last: relay.sequence),
                                               ("same sequence as the last", lambda relay, last: last.sequence)])
def test_old_report_under_a_new_id_is_flagged_as_replay(collector, history, case, sequence_of):
    creds, relay, last = history
    state = device(collector)
    replay = resent(relay, sequence_of(relay, last))
    with collector.client(creds) as client:
        ack = client.report(replay)
    assert ack.duplicate is False  # stored, as evidence
    assert collector.store.rows("SELECT replay FROM reports WHERE report_id = ?", (replay.report_id,)) == [
        {"replay": 1}]
    assert device(collector) == state  # not rolled back to the relay report's picture
    assert collector.store.rows("SELECT count(*) AS n FROM reports WHERE replay = 0") == [{"n": 3}]
    figures.count(SECTION, f"flagged ({case})")


def test_analyst_sees_the_replay_in_the_device_history(collector, history):
    creds, relay, _ = history
    replay = resent(relay)
    with collector.client(creds) as client:
        client.report(replay)
    with collector.channel(collector.analyst()) as channel:
        answer = query_pb2_grpc.QueryStub(channel).Device(query_pb2.DeviceRequest(device_id="SN-RP"), timeout=10)
    reports = {r["report_id"]: r["replay"] for r in json.loads(answer.json)["reports"]}
    assert reports[replay.report_id] == 1
    assert sum(reports.values()) == 1


def test_a_newer_sequence_is_news_not_a_replay(collector, history):
    creds, _, last = history
    fresh = make_report("SN-RP", last.sequence + 1)
    with collector.client(creds) as client:
        client.report(fresh)
    assert collector.store.rows("SELECT replay FROM reports WHERE report_id = ?", (fresh.report_id,)) == [
        {"replay": 0}]
    assert device(collector)["last_report_id"] == fresh.report_id


# -- a forged counter or clock (issue 13, red team 2) ----------------------------------------

def forged(device_id: str):
    """The red team's report: the largest sequence and the last day a timestamp can hold."""
    report = make_report(device_id, 4294967295)
    report.collected_at.CopyFrom(Timestamp(seconds=253402214400))  # 9999-12-31T00:00:00Z
    return report


def verdict_of(collector, device_id: str) -> str:
    return collector.store.rows("SELECT verdict FROM devices WHERE device_id = ?", (device_id,))[0]["verdict"]


@pytest.mark.parametrize("honest_before", [2, 0], ids=["after honest reports", "as the first report"])
def test_a_forged_sequence_and_time_do_not_freeze_the_device(collector, honest_before):
    creds = collector.enroll("SN-FREEZE")
    attack = forged("SN-FREEZE")
    with collector.client(creds) as client:
        for sequence in range(1, honest_before + 1):
            client.report(make_report("SN-FREEZE", sequence))
        assert not client.report(attack).duplicate  # stored: it is evidence
        relays = [scenario_report("relay/linux_tinypilot", "SN-FREEZE", honest_before + n) for n in (1, 2)]
        for report in relays:
            report.collected_at.GetCurrentTime()  # an honest agent reports what it sees now
            client.report(report)
    assert verdict_of(collector, "SN-FREEZE") == "relay"
    assert device_row(collector, "SN-FREEZE")["last_report_id"] == relays[-1].report_id
    assert collector.store.rows("SELECT replay FROM reports WHERE report_id = ?", (relays[-1].report_id,)) == [
        {"replay": 0}]
    if honest_before:  # a baseline to judge it by: the forged sequence is not trusted at all
        assert collector.store.rows("SELECT replay FROM reports WHERE report_id = ?", (attack.report_id,)) == [
            {"replay": 1}]
        assert device_row(collector, "SN-FREEZE")["last_sequence"] == honest_before + 2


def device_row(collector, device_id: str) -> dict:
    return collector.store.rows("SELECT last_sequence, last_report_id FROM devices WHERE device_id = ?",
                                (device_id,))[0]


def test_repeated_replays_raise_a_fleet_finding_seen_in_flags(collector, history):
    creds, relay, last = history
    with collector.client(creds) as client:
        for _ in range(3):
            client.report(resent(make_report("SN-RP", 1)))
    fleet.correlate(collector.store, collector.config)
    [finding] = [f for f in collector.store.flags() if f["rule"] == "fleet-replays"]
    assert finding["device_id"] == "SN-RP" and finding["severity"] == "medium"
    assert finding["evidence"]["replays"] == 3


def test_one_replay_is_no_finding(collector, history):
    creds, relay, _ = history
    with collector.client(creds) as client:
        client.report(resent(relay))
    fleet.correlate(collector.store, collector.config)
    assert [f for f in collector.store.fleet_findings("SN-RP") if f["rule"] == "fleet-replays"] == []
