"""The agent's outbox: a real SQLite file, reopened the way a restarted agent would."""
from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from farmwatch.agent.spool import DeltaBase, Spool, SpoolLimits
from farmwatch.v1 import report_pb2


def report(processes: int = 2) -> report_pb2.AgentReport:
    made = report_pb2.AgentReport(report_id=str(uuid.uuid4()), device_id="SN-1")
    made.host.hostname = "laptop"
    for pid in range(processes):
        # distinct names so the compressed size grows with the count
        made.processes.add(pid=pid, name=f"proc-{uuid.uuid4()}")
    return made


class Clock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_pending_is_oldest_first_and_ack_removes(tmp_path):
    with Spool(tmp_path / "spool.sqlite") as spool:
        ids = [spool.put(report()).report_id for _ in range(4)]
        assert [entry.report_id for entry in spool.pending(10)] == ids
        assert [entry.report_id for entry in spool.pending(2)] == ids[:2]
        assert spool.ack(ids[1]) is True
        assert spool.ack(ids[1]) is False
        assert [entry.report_id for entry in spool.pending(10)] == [ids[0], ids[2], ids[3]]
        assert spool.depth() == 3


def test_the_acknowledged_report_becomes_the_delta_base_and_survives_reopen(tmp_path):
    with Spool(tmp_path / "spool.sqlite") as spool:
        assert spool.delta_base() is None  # a new outbox, or one an older agent wrote: full reports first
        first, second = spool.put(report(5)), spool.put(report(5))
        spool.ack(first.report_id, DeltaBase(first.report, deltas_accepted=True))
        spool.ack("not-spooled")  # an ack without a base leaves the base as it is
    with Spool(tmp_path / "spool.sqlite") as spool:
        base = spool.delta_base()
        assert base.report == first.report and base.deltas_accepted
        spool.ack(second.report_id, DeltaBase(second.report, deltas_accepted=False))
        assert spool.delta_base().report.report_id == second.report_id
        assert not spool.delta_base().deltas_accepted and spool.depth() == 0


def test_put_numbers_reports_and_the_counter_survives_reopen(tmp_path):
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        first, second = spool.put(report()), spool.put(report())
        spool.ack(first.report_id)
        spool.ack(second.report_id)
    with Spool(path) as spool:
        third = spool.put(report())
    assert (first.sequence, second.sequence, third.sequence) == (1, 2, 3)
    assert third.report.sequence == 3


def test_spooled_report_comes_back_intact_with_outbox_stats(tmp_path):
    with Spool(tmp_path / "spool.sqlite") as spool:
        spool.put(report())
        original = report(processes=50)
        spool.put(original)
        stored = spool.pending(10)[1].report
    assert stored == original
    assert stored.agent_stats.spool_depth == 1  # one report was waiting ahead of it


def test_database_is_wal_and_owner_only(tmp_path):
    path = tmp_path / "spool.sqlite"
    old_umask = os.umask(0)  # even a permissive umask must not open the outbox to others
    try:
        with Spool(path) as spool:
            spool.put(report())
            files = [p for p in tmp_path.iterdir() if p.name.startswith("spool.sqlite")]
            assert {p.name for p in files} >= {"spool.sqlite", "spool.sqlite-wal"}
            assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}
            journal = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        os.umask(old_umask)
    assert journal == "wal"


def test_count_bound_drops_oldest_and_counts(tmp_path):
    with Spool(tmp_path / "spool.sqlite", SpoolLimits(max_reports=3)) as spool:
        ids = [spool.put(report()).report_id for _ in range(5)]
        assert [entry.report_id for entry in spool.pending(10)] == ids[2:]
        assert spool.dropped_since_last_delivery() == 2
        assert spool.stats().dropped_total == 2


def test_age_bound_drops_reports_older_than_allowed(tmp_path):
    clock = Clock()
    with Spool(tmp_path / "spool.sqlite", SpoolLimits(max_age_seconds=3600), clock=clock) as spool:
        old = spool.put(report()).report_id
        clock.now += 1800
        middle = spool.put(report()).report_id
        clock.now += 1801  # `old` is now 3601 s old, `middle` 1801 s
        new = spool.put(report()).report_id
        assert [entry.report_id for entry in spool.pending(10)] == [middle, new]
        assert old not in {entry.report_id for entry in spool.pending(10)}
        assert spool.dropped_since_last_delivery() == 1


def test_byte_bound_keeps_the_newest_even_when_it_alone_is_too_big(tmp_path):
    with Spool(tmp_path / "spool.sqlite", SpoolLimits(max_bytes=2000)) as spool:
        small = [spool.put(report(processes=1)).report_id for _ in range(3)]
        assert spool.depth() == 3 and spool.stats().bytes <= 2000
        big = spool.put(report(processes=200))
        assert big.report_id not in small
        assert [entry.report_id for entry in spool.pending(10)] == [big.report_id]
        assert spool.dropped_since_last_delivery() == 3


def test_drop_count_travels_with_the_next_report_exactly_once(tmp_path):
    with Spool(tmp_path / "spool.sqlite", SpoolLimits(max_reports=2)) as spool:
        for _ in range(3):  # the third put drops the first report
            spool.put(report())
        carrier = spool.put(report())  # tells that drop, then drops the second report
        following = spool.put(report())  # tells the second drop, then drops the third
        assert carrier.report.agent_stats.spool_dropped == 1
        assert following.report.agent_stats.spool_dropped == 1
        assert spool.dropped_since_last_delivery() == 3 == spool.stats().dropped_total
        spool.ack(carrier.report_id)
        spool.ack(following.report_id)
        assert spool.dropped_since_last_delivery() == 1  # the third drop, not told yet
        assert spool.put(report()).report.agent_stats.spool_dropped == 1
        assert spool.dropped_since_last_delivery() == 1  # now riding with that report


def test_a_dropped_carrier_returns_its_count(tmp_path):
    with Spool(tmp_path / "spool.sqlite", SpoolLimits(max_reports=1)) as spool:
        spool.put(report())
        spool.put(report())  # drops the first
        carrier = spool.put(report())  # tells 1, then drops the second
        assert carrier.report.agent_stats.spool_dropped == 1
        spool.put(report())  # tells 1 (the second), then drops the carrier: 1 + its 1 untold
        assert spool.put(report()).report.agent_stats.spool_dropped == 2


def test_discard_and_failures_are_recorded(tmp_path):
    with Spool(tmp_path / "spool.sqlite") as spool:
        entry = spool.put(report())
        assert spool.record_failure("UNAVAILABLE: down") == 0
        assert spool.record_failure("INTERNAL: boom", entry.report_id) == 1
        assert spool.record_failure("INTERNAL: boom", entry.report_id) == 2
        assert spool.pending(1)[0].attempts == 2
        assert spool.stats().last_error == "INTERNAL: boom"
        assert spool.discard(entry.report_id, "INVALID_ARGUMENT: bad") is True
        assert spool.depth() == 0 and spool.dropped_since_last_delivery() == 1
        spool.put(report())
        spool.ack(spool.pending(1)[0].report_id)
        stats = spool.stats()
    assert stats.last_error is None and stats.last_delivery_at is not None


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["put", "ack", "discard"]), max_size=40), st.integers(1, 4))
def test_every_drop_is_told_exactly_once(tmp_path_factory, operations, max_reports):
    """Sum of spool_dropped over delivered reports + what is still untold == every drop."""
    path = tmp_path_factory.mktemp("spool") / "spool.sqlite"
    told = 0
    with Spool(path, SpoolLimits(max_reports=max_reports)) as spool:
        for operation in operations:
            pending = spool.pending(100)
            if operation == "put":
                spool.put(report(processes=0))
            elif pending and operation == "ack":
                told += pending[0].report.agent_stats.spool_dropped
                spool.ack(pending[0].report_id)
            elif pending:
                spool.discard(pending[-1].report_id, "test")
        stats = spool.stats()
    assert told + stats.dropped_since_last_delivery == stats.dropped_total


def test_unreadable_database_is_moved_aside(tmp_path):
    path = tmp_path / "spool.sqlite"
    path.write_bytes(b"this is not a database file, it is garbage " * 200)
    before = int(time.time())
    with Spool(path) as spool:
        first, second = spool.put(report()), spool.put(report())
    # numbered on from the clock, not from 1: the collector would take restarted numbers for replays
    assert before <= first.sequence <= time.time() and second.sequence == first.sequence + 1
    assert len(list(tmp_path.glob("spool.sqlite.corrupt-*"))) == 1


FULL_DISK_WRITER = textwrap.dedent("""
    import resource, signal, sqlite3, sys, uuid
    from farmwatch.agent.spool import Spool
    from farmwatch.v1 import report_pb2

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
    try:
        with Spool(sys.argv[1]) as spool:
            for _ in range(100):
                made = report_pb2.AgentReport(report_id=str(uuid.uuid4()), device_id="SN-1")
                made.processes.add(pid=1, name=uuid.uuid4().hex * 200)
                spool.put(made)
    except sqlite3.Error as exc:
        print("refused", exc, flush=True)
""")


def test_a_full_disk_keeps_the_outbox_instead_of_moving_it_aside(tmp_path):
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        kept = [spool.put(report(processes=50)).report_id for _ in range(5)]
    for limit in (0, path.stat().st_size + 8192):  # full at open, full while writing
        child = subprocess.run([sys.executable, "-c", FULL_DISK_WRITER, str(path), str(limit)],
                               capture_output=True, text=True, timeout=60)
        assert "refused" in child.stdout, child.stderr
        assert not list(tmp_path.glob("*.corrupt-*"))
        with Spool(path) as spool:
            assert [entry.report_id for entry in spool.pending(1000)][:5] == kept


WRITER = textwrap.dedent("""
    import sys, uuid
    from farmwatch.agent.spool import DeltaBase, Spool, SpoolLimits
    from farmwatch.v1 import report_pb2

    spool = Spool(sys.argv[1], SpoolLimits(max_reports=50))
    print("ready", flush=True)
    while True:
        made = report_pb2.AgentReport(report_id=str(uuid.uuid4()), device_id="SN-1")
        made.processes.add(pid=1, name="x" * 2000)
        entry = spool.put(made)
        print("put", entry.sequence, flush=True)
        oldest = spool.pending(1)[0]
        if entry.sequence % 3:
            spool.ack(oldest.report_id)
            print("acked", oldest.report_id, flush=True)
""")


def test_kill_9_while_writing_loses_no_acknowledged_state(tmp_path):
    path = tmp_path / "spool.sqlite"
    acked: set[str] = set()
    highest_sequence = 0
    for round_number in range(6):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        lines = [child.stdout.readline() for _ in range(3 + 7 * round_number)]  # it is mid-write now
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate()
        for line in lines + rest.splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "acked":
                acked.add(words[1])
            elif len(words) == 2 and words[0] == "put":
                highest_sequence = max(highest_sequence, int(words[1]))
        with Spool(path) as spool:  # opens after every kill, and nothing acked is back
            assert not acked & {entry.report_id for entry in spool.pending(1000)}
            assert spool.stats().next_sequence > highest_sequence
    assert len(acked) >= 6
    assert not list(tmp_path.glob("*.corrupt-*"))
