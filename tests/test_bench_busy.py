"""bench/benchlib/busy.py makes this machine a busy laptop for real and leaves nothing behind."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from farmwatch.agent.probes import network
from farmwatch.agent.probes.context import ProbeContext

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from benchlib.busy import BusyLaptop, process_count  # noqa: E402


def test_the_busy_laptop_holds_its_connections_in_its_processes_and_ends_them():
    with BusyLaptop(processes=process_count() + 12, connections=20) as busy:
        assert busy.pids and all(os.path.exists(f"/proc/{pid}") for pid in busy.pids)
        found = network.collect(ProbeContext.create(None).for_probe("network"))
        owned = [c for c in found.connections if c.pid in busy.pids]
        assert len(owned) == 20 and {c.process_name for c in owned} == {"sleep"}
        assert all(c.local_ip == c.remote_ip == "127.0.0.1" and c.status == "ESTABLISHED" for c in owned)
        pids = busy.pids
    assert not [pid for pid in pids if os.path.exists(f"/proc/{pid}")]
    found = network.collect(ProbeContext.create(None).for_probe("network"))
    ports = {c.local_port for c in owned}
    assert not [c for c in found.connections if c.local_port in ports and c.status == "ESTABLISHED"]
