"""Two collector processes on two ports sharing one PostgreSQL database, 50 agents split across
them; `kill -9` one mid-load: its agents fail over to the other, every report arrives once.

Each agent is given both addresses ("A,B" for half of them, "B,A" for the others), as an agent
behind no balancer would be (agent/transport.py); the collectors are the real `farmwatch-collector
serve` processes, the agents the agent's own runner code with their own state dirs and spools.
"""
from __future__ import annotations

import shutil

import pytest

import figures
from agent_fleet import agents_across, provision
from collector_process import ENV, Collector, cli
from farmwatch.agent.state import AgentConfig
from farmwatch.collector.ingest import Store

AGENTS = 50
REPORTS_EACH = 6
SECTION = "faults: one of two collectors killed (-9) with 50 agents sending"


@pytest.fixture
def pair(tmp_path, postgres_url):
    cli("farmwatch-collector", "--home", tmp_path / "a", "pki", "init")
    shutil.copytree(tmp_path / "a" / "pki", tmp_path / "b" / "pki")  # one CA and server certificate
    env = {**ENV, "FARMWATCH_DATABASE_URL": postgres_url}
    collectors = [Collector(tmp_path / name, env=env) for name in ("a", "b")]
    yield collectors
    for collector in collectors:
        if collector.running():
            collector.stop()


def test_agents_fail_over_when_one_collector_is_killed_and_nothing_is_lost_or_doubled(pair, tmp_path, postgres_url):
    a, b = pair
    devices = [f"SN-FAILOVER-{i:03d}" for i in range(AGENTS)]
    states = provision(a.home, f"{a.address},{b.address}", tmp_path / "agents", devices, database=postgres_url)
    for state in states[::2]:  # half of them try B first
        config = state.load_config()
        state.save_config(AgentConfig(collector=f"{b.address},{a.address}", device_id=config.device_id))
    a.start()
    b.start()

    def kill_a():
        assert a.kill() == -9

    logs, killed_at = agents_across(states, REPORTS_EACH, kill_a)
    b.stop()

    store = Store(postgres_url)
    try:
        stored = {row["report_id"] for row in store.rows("SELECT report_id FROM reports")}
        duplicates = store.rows("SELECT count(*) - count(DISTINCT device_id || '/' || sequence) AS n FROM reports")
        by_collector = store.rows("SELECT count(*) AS n FROM reports")
        correlations = store.rows("SELECT job, collector FROM job_runs")
    finally:
        store.close()
    generated = [report_id for log in logs for report_id in log.generated]
    lost = len(set(generated) - stored)
    figures.note(SECTION, "reports generated", len(generated))
    figures.note(SECTION, "acknowledged before the kill", killed_at)
    figures.note(SECTION, "failed delivery cycles", sum(log.failed_drains for log in logs))
    figures.note(SECTION, "reports lost", lost)
    figures.note(SECTION, "duplicates stored", duplicates[0]["n"])
    assert len(generated) == AGENTS * REPORTS_EACH and by_collector[0]["n"] == len(generated)
    assert lost == 0 and duplicates[0]["n"] == 0
    # both collectors started their correlation timer; the cluster ran it once in the interval
    assert [row["job"] for row in correlations] == ["correlation"]
    ran = sum(collector.log.count("event=correlated") for collector in pair)
    skipped = sum(collector.log.count("event=job_skipped job=correlation ") for collector in pair)
    assert ran == 1 and skipped == 1, (ran, skipped)
