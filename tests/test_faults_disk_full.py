"""The collector's database cannot grow (a full disk, simulated by capping SQLite's page count on
the writer's connection): reports are refused with UNAVAILABLE and logged, the collector keeps
serving, agents keep their reports spooled, and deliver them once space returns."""
from __future__ import annotations

import logging

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import figures
from agent_fleet import provision, scanner_for
from conftest import make_report
from db_snapshot import table_counts
from farmwatch.agent import run as runner
from farmwatch.agent.transport import CollectorError

SECTION = "faults: collector database full"
NO_LIMIT = 1073741823  # SQLite's own default maximum page count
FILLER_PROCESSES, AGENT_PROCESSES = 40, 200  # agents' reports are bigger than what no longer fits


def fill_disk(collector) -> int:
    """Cap the database where it is, then let reports fill what room is left in its pages until
    the collector refuses one; later, larger reports find no room either. Returns reports stored."""
    pages = collector.store.conn.execute("PRAGMA page_count").fetchone()[0]
    collector.store.conn.execute(f"PRAGMA max_page_count = {pages}")
    with collector.client(collector.enroll("SN-DF-FILLER")) as client:
        for sequence in range(1, 200):
            try:
                client.report(make_report("SN-DF-FILLER", sequence, processes=FILLER_PROCESSES))
            except CollectorError as refused:
                assert refused.code == grpc.StatusCode.UNAVAILABLE
                return sequence - 1
    raise AssertionError("the capped database never filled up")


def free_disk(store) -> None:  # space returns
    store.conn.execute(f"PRAGMA max_page_count = {NO_LIMIT}")


@pytest.fixture
def agents(collector, tmp_path):
    states = provision(collector.home, collector.address, tmp_path / "agents", ["SN-DF-1", "SN-DF-2", "SN-DF-3"])
    opened = [runner.Agent(state, scanner_for(state.load_config().device_id, processes=AGENT_PROCESSES), timeout=5)
              for state in states]
    yield opened
    for agent in opened:
        agent.close()


def serving(collector) -> bool:
    with collector.channel(collector.enroll("SN-DF-HEALTH")) as channel:
        status = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="farmwatch.v1.Collector"), timeout=5).status
    return status == health_pb2.HealthCheckResponse.SERVING


def test_full_database_refuses_with_unavailable_and_agents_deliver_later(collector, agents, caplog):
    fill_disk(collector)  # before the agents' first reports, whose new inventory needs new pages
    stored_before = collector.stored_reports()
    with caplog.at_level(logging.ERROR, logger="farmwatch.collector.ingest"):
        refused = [runner.run_once(agent) for agent in agents for _ in range(2)]
    assert all(r.spooled and not r.delivered and r.error.startswith("UNAVAILABLE") for r in refused)
    assert any("event=store_full" in record.getMessage() for record in caplog.records)
    assert collector.stored_reports() == stored_before
    assert [agent.spool.depth() for agent in agents] == [2, 2, 2]
    assert serving(collector)

    free_disk(collector.store)
    for agent in agents:
        assert len(runner.drain(agent).acked) == 2
    figures.note(SECTION, "reports made while full (refused UNAVAILABLE, kept spooled)", len(refused))
    figures.note(SECTION, "reports delivered once space returned", collector.stored_reports() - stored_before)
    figures.note(SECTION, "reports lost", len(refused) - (collector.stored_reports() - stored_before))
    assert [agent.spool.depth() for agent in agents] == [0, 0, 0]
    assert collector.stored_reports() == stored_before + len(refused)


def test_report_call_on_a_full_database_is_unavailable_and_stores_nothing(collector):
    creds = collector.enroll("SN-DF-RAW")
    fill_disk(collector)
    before = table_counts(collector.store)
    with collector.client(creds) as client:
        with pytest.raises(CollectorError) as refused:
            client.report(make_report("SN-DF-RAW", processes=AGENT_PROCESSES))
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    assert "keep them spooled" in refused.value.details
    assert table_counts(collector.store) == before
