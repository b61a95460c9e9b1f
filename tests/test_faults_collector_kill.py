"""kill -9 the collector while 50 agents are sending, start it again: every report arrives once.

The collector is the real `farmwatch-collector serve` process; each agent is a thread running
the agent's own runner code with its own state dir, certificate and spool.
"""
from __future__ import annotations

import time

import pytest

import figures
from agent_fleet import agents_across, provision
from collector_process import Collector, cli

AGENTS = 50
REPORTS_EACH = 6
SECTION = "faults: collector kill -9 with 50 agents sending"


@pytest.fixture
def collector(tmp_path):
    home = tmp_path / "collector"
    cli("farmwatch-collector", "--home", home, "pki", "init")
    server = Collector(home)
    yield server
    if server.running():
        server.stop()


def test_every_report_arrives_exactly_once_across_a_kill_9(collector, tmp_path):
    states = provision(collector.home, collector.address, tmp_path / "agents",
                       [f"SN-FLEET-{i:03d}" for i in range(AGENTS)])
    collector.start()

    def kill_and_restart():
        assert collector.kill() == -9
        time.sleep(0.5)  # agents keep scanning and spooling while nobody answers
        collector.start()

    logs, killed_at = agents_across(states, REPORTS_EACH, kill_and_restart)
    generated = [rid for log in logs for rid in log.generated]
    stored = collector.sql("SELECT report_id FROM reports")
    # a report stored twice would carry a second report_id but its agent's sequence again
    duplicates = collector.sql("SELECT count(*) - count(DISTINCT device_id || '/' || sequence) FROM reports")[0][0]
    lost = len(set(generated) - {row[0] for row in stored})
    figures.note(SECTION, "reports generated", len(generated))
    figures.note(SECTION, "acknowledged before the kill", killed_at)
    figures.note(SECTION, "failed delivery cycles while down", sum(log.failed_drains for log in logs))
    deltas = collector.sql("SELECT count(*) FROM reports WHERE base_report_id IS NOT NULL")[0][0]
    figures.note(SECTION, "stored as delta reports", deltas)
    figures.note(SECTION, "reports lost", lost)
    figures.note(SECTION, "duplicates stored", duplicates)
    assert len(generated) == AGENTS * REPORTS_EACH
    assert lost == 0
    assert sorted(row[0] for row in stored) == sorted(generated)  # exactly once: nothing extra, nothing twice
    assert duplicates == 0
    assert deltas > len(generated) // 2  # most went as deltas on the agent's last acknowledged report
    assert sum(log.failed_drains for log in logs) > 0  # the kill did hit agents mid-send
