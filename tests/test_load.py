"""500 simulated agents, each with its own enrolled certificate and mTLS connection, against one
collector process: no call fails, no report is lost, none is stored twice. Agents send as the agent
does: full on first contact, then delta reports of a laptop's churn (5 % of them full reports only).

FARMWATCH_LOAD_SECONDS (default 30) sets the window; FARMWATCH_LOAD_AGENTS (default 500) the fleet;
FARMWATCH_LOAD_RATE (reports/s over all agents) defaults to two reports per agent per window, i.e. a
fleet whose report interval is half the window: a first full report, then a delta. The figures are printed (run with -s to see them).
"""
from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from benchlib.collector import CollectorProcess, create_token, init_home  # noqa: E402
from loadgen import enroll_agents, run_load  # noqa: E402

SECONDS = float(os.environ.get("FARMWATCH_LOAD_SECONDS", "30"))
AGENTS = int(os.environ.get("FARMWATCH_LOAD_AGENTS", "500"))
RATE = float(os.environ.get("FARMWATCH_LOAD_RATE", 2 * AGENTS / SECONDS))


@pytest.mark.slow
def test_many_agents_lose_nothing(tmp_path):
    server = CollectorProcess(init_home(tmp_path / "collector")).start()
    try:
        agents = enroll_agents(server.address, server.ca_pem, create_token(server.home, AGENTS), AGENTS)
        assert len({a.cert_pem for a in agents}) == AGENTS
        result = run_load(server.address, agents, seconds=SECONDS, rate=RATE, deltas=True)  # as agents send
    finally:
        assert server.stop() == 0
    stored = Counter(server.stored_report_ids())
    print(json.dumps({**result.summary(), "stored": sum(stored.values()),
                      "devices": server.scalar("SELECT count(*) FROM devices")}))

    assert result.failed_calls == 0, result.failed
    assert result.duplicates_acked == 0
    assert len(result.report_ids) >= AGENTS * 0.8  # nearly every agent sent within the window
    assert sorted(stored) == sorted(result.report_ids)  # every report stored, nothing else
    assert max(stored.values()) == 1
    assert server.scalar("SELECT count(*) FROM reports WHERE verdict IS NULL") == 0  # all classified
    # every agent's first report is full; the others' went as deltas unless the agent is a full-only one
    assert server.scalar("SELECT count(*) FROM reports WHERE base_report_id IS NOT NULL") > 0
