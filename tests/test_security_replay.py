"""Replays over the wire: an old report resent under a new report_id, with a sequence at or below
the last one seen for the same certificate, is stored as a replay (replay=1), never as news: the
device's state stays with the newest report, and analysts see the replay in the device's history.

No separate finding is raised: the device's verdict deliberately ignores replays, so a finding on
the replayed report would never reach a flag, and the device view already lists replay=1 rows.
"""
from __future__ import annotations

import json
import uuid

import pytest

import figures
from conftest import make_report, scenario_report
from farmwatch.v1 import query_pb2, query_pb2_grpc

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
