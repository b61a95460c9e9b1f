"""kill -9 an agent process while it writes its spool: the spool opens again, nothing acknowledged
comes back, and the collector never stores a report twice or misses one."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import figures
from agent_fleet import AgentLog, drain_until_empty, provision, scanner_for
from farmwatch.agent import run as runner
from farmwatch.agent.spool import Spool

CHILD = Path(__file__).parent / "agent_child.py"
LINE = re.compile(r"^report (spooled|delivered) report_id=(\S+) sequence=(\d+)")
SECTION = "faults: agent kill -9 mid spool write"


def run_until_killed(state_dir: Path, deliveries: int) -> tuple[set[str], set[str], int]:
    """Start the agent, kill -9 it after `deliveries` delivered reports; (spooled, delivered, top sequence)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CHILD.parent), os.environ.get("PYTHONPATH", "")]),
           "GRPC_VERBOSITY": "ERROR"}
    child = subprocess.Popen([sys.executable, str(CHILD), str(state_dir)], stderr=subprocess.PIPE, text=True,
                             env=env)
    spooled, delivered, top = set(), set(), 0
    try:
        while len(delivered) < deliveries:
            line = child.stderr.readline()
            assert line, "the agent stopped by itself"
            match = LINE.match(line)
            if match:
                kind, report_id, sequence = match.groups()
                (spooled if kind == "spooled" else delivered).add(report_id)
                top = max(top, int(sequence))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    return spooled, delivered, top


def test_kill_9_mid_spool_write_resends_nothing_acknowledged(collector, tmp_path):
    [state] = provision(collector.home, collector.address, tmp_path / "agents", ["SN-KILLED"])
    spooled, delivered = set(), set()
    for round_number in range(5):
        new_spooled, new_delivered, top = run_until_killed(state.root, 3 + 4 * round_number)
        spooled |= new_spooled
        delivered |= new_delivered
        with Spool(state.spool_file) as spool:  # opens after every kill
            assert not delivered & {entry.report_id for entry in spool.pending(10_000)}
            assert spool.stats().next_sequence > top
    agent, log = runner.Agent(state, scanner_for("SN-KILLED"), timeout=5), AgentLog()
    drain_until_empty(agent, log, deadline=time.monotonic() + 30)
    agent.close()

    stored = collector.store.rows("SELECT report_id, sequence FROM reports WHERE device_id = 'SN-KILLED'")
    stored_ids = {row["report_id"] for row in stored}
    resent_as_new = len(stored) - len({row["sequence"] for row in stored})
    figures.note(SECTION, "kills", 5)
    figures.note(SECTION, "reports acknowledged before the kills", len(delivered))
    figures.note(SECTION, "acknowledged reports resent as new", resent_as_new)
    figures.note(SECTION, "reports lost", len(spooled - stored_ids))
    assert delivered <= stored_ids
    assert spooled <= stored_ids
    assert resent_as_new == 0
    assert not list(state.root.glob("*.corrupt-*"))
