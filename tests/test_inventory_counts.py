"""A delta report's inventory identities, worked out from the items it added and removed, are
those of the rebuilt report counted afresh, and its flips are exactly the identities that came
and went (collector/inventory.py `Inventory.after`: what the stored inventory's diff relies on)."""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from farmwatch.collector.inventory import TABLES, Inventory, digest
from farmwatch.common import delta
from farmwatch.v1 import report_pb2


def _laptop() -> report_pb2.AgentReport:
    report = report_pb2.AgentReport(report_id="r0", device_id="SN-1")
    for pid in range(1, 9):
        report.processes.add(pid=pid, name=f"p{pid % 4}", exe=f"/bin/p{pid % 4}", username="dev")
    report.applications.add(name="git", version="2.43", source="dpkg")
    report.network.listeners.add(ip="0.0.0.0", port=22, protocol="tcp", process_name="sshd")
    for port in (22, 40000, 40001):
        report.network.connections.add(local_ip="10.0.0.2", local_port=port, remote_ip="192.0.2.7",
                                       remote_port=443 if port != 22 else 50000, process_name="p1")
    report.sessions.add(user="dev", terminal="pts/0", remote_host="192.0.2.9")
    return report


def _change(rng: random.Random, report: report_pb2.AgentReport) -> None:
    """A laptop's churn, with identities shared by several items (the same program twice) and
    listeners that turn a connection inbound or outbound."""
    move = rng.choice(("process", "gone", "twin", "connection", "listener", "unlisten", "session", "app"))
    if move == "process":
        n = rng.randrange(6)
        report.processes.add(pid=rng.randrange(100, 10**5), name=f"p{n}", exe=f"/bin/p{n}", username="dev")
    elif move == "gone" and report.processes:
        del report.processes[rng.randrange(len(report.processes))]
    elif move == "twin" and report.processes:
        report.processes.add().CopyFrom(report.processes[rng.randrange(len(report.processes))])
    elif move == "connection":
        report.network.connections.add(local_ip="10.0.0.2", local_port=rng.choice((22, 8080, 40002)),
                                       remote_ip=f"192.0.2.{rng.randrange(4)}", remote_port=443, process_name="p1")
    elif move == "listener":
        report.network.listeners.add(ip="0.0.0.0", port=rng.choice((8080, 40000)), protocol="tcp", process_name="p2")
    elif move == "unlisten" and report.network.listeners:
        del report.network.listeners[rng.randrange(len(report.network.listeners))]
    elif move == "session":
        report.sessions.add(user="dev", terminal=f"pts/{rng.randrange(3)}", remote_host="192.0.2.9")
    elif move == "app":
        report.applications.add(name=f"tool-{rng.randrange(3)}", version="1.0", source="dpkg")


@settings(max_examples=60, deadline=None, database=None)
@given(seed=st.integers(0, 2**32), steps=st.integers(1, 25), moves=st.integers(1, 4))
def test_a_deltas_inventory_is_the_rebuilt_reports_counted_afresh(seed, steps, moves):
    rng = random.Random(seed)
    laptop = _laptop()
    state = delta.DeviceState.of(report_pb2.AgentReport.FromString(laptop.SerializeToString()))  # the collector's copy
    inventory = Inventory.of(state.report)
    for step in range(steps):
        for _ in range(rng.randint(1, moves)):
            _change(rng, laptop)
        laptop.report_id = f"r{step + 1}"
        change = delta.make_delta(state, f"r{step}", step, laptop)
        rebuilt = state.apply(change)
        after = inventory.after(change, rebuilt.removed, rebuilt.report, delta.changed_sections(change))
        fresh = Inventory.of(rebuilt.report)
        for table in TABLES:
            assert after.tables[table.name].counts == fresh.tables[table.name].counts, table.name
            assert after.tables[table.name].digest == fresh.tables[table.name].digest == digest(table, laptop)
            before, now = set(table.identities(state.report)), set(table.identities(rebuilt.report))
            flip = after.flips.get(table.name)
            if flip is None:
                assert before == now, table.name
            elif flip.appeared is not None:  # worked out from the items that came and went
                assert (flip.appeared, flip.gone) == (now - before, before - now), table.name
                assert flip.appeared <= set(table.identities(flip.added)), table.name  # new rows are made from it
            else:  # counted afresh: the diff looks at every identity, and builds rows from the whole report
                assert flip.added is rebuilt.report and table.name == "connections"
        state, inventory = rebuilt, after


def test_a_digest_is_of_the_set_of_identities_whatever_their_order_and_repeats():
    one, other = _laptop(), _laptop()
    other.processes.add().CopyFrom(other.processes[0])
    other.processes.reverse()
    processes = TABLES[0]
    assert digest(processes, one) == digest(processes, other)
    other.processes.add(name="new", exe="/bin/new", username="dev")
    assert digest(processes, one) != digest(processes, other)
