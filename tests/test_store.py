"""The store on both engines (a real SQLite file, a real PostgreSQL server): change-only inventory,
idempotence, replays, retention; and the SQLite file's own cases (a full disk, permissions, fsync)."""
from __future__ import annotations

import sqlite3
import time

import pytest

from conftest import make_report
from farmwatch.collector.ingest import IngestQueue
from farmwatch.collector.ingest import Incoming, Store
from farmwatch.collector.storage import StoreFull


def incoming(report, at: str, serial: str = "c1", verdict=None) -> Incoming:
    return Incoming(report=report, received_at=at, peer_ip="198.51.100.7", cert_serial=serial, verdict=verdict)


@pytest.fixture
def store(database):
    s = Store(database)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path):
    s = Store(tmp_path / "fw.sqlite")
    yield s
    s.close()


def test_unchanged_inventory_writes_no_rows(store):
    for seq in range(1, 6):
        store.ingest([incoming(make_report("SN1", seq, processes=50), f"2026-11-01T00:0{seq}:00Z")])
    assert store.count("processes") == 50
    rows = store.rows("SELECT first_seen, last_seen FROM current_processes WHERE name = 'proc7'")
    assert rows == [{"first_seen": "2026-11-01T00:01:00Z", "last_seen": "2026-11-01T00:05:00Z"}]


def test_item_that_goes_away_keeps_its_last_sighting_and_a_return_is_a_new_row(store):
    store.ingest([incoming(make_report("SN1", 1, processes=3), "2026-11-01T01:00:00Z")])
    store.ingest([incoming(make_report("SN1", 2, processes=2), "2026-11-01T02:00:00Z")])
    store.ingest([incoming(make_report("SN1", 3, processes=3), "2026-11-01T03:00:00Z")])
    history = store.rows("SELECT first_seen, last_seen, present FROM processes WHERE name = 'proc3' ORDER BY rowid")
    assert history == [
        {"first_seen": "2026-11-01T01:00:00Z", "last_seen": "2026-11-01T01:00:00Z", "present": 0},
        {"first_seen": "2026-11-01T03:00:00Z", "last_seen": "2026-11-01T03:00:00Z", "present": 1},
    ]


def test_duplicate_report_id_stores_nothing_new(store):
    report = make_report("SN1")
    assert store.ingest([incoming(report, "2026-11-01T01:00:00Z")]) == [True]
    assert store.ingest([incoming(report, "2026-11-01T01:05:00Z")]) == [False]
    assert store.count("reports") == 1
    assert store.rows("SELECT reports FROM devices") == [{"reports": 1}]


def test_duplicates_within_one_batch(store):
    report = make_report("SN1")
    assert store.ingest([incoming(report, "t1"), incoming(report, "t1")]) == [True, False]


def collected(report, at: str):
    report.collected_at.FromJsonString(at)
    return report


def test_replayed_sequence_is_marked_and_does_not_roll_state_back(store):
    # collected before they were received: times further ahead than a day are not believed (ordering.py)
    store.ingest([incoming(collected(make_report("SN1", 5, processes=4), "2026-11-01T00:59:00Z"),
                           "2026-11-01T01:00:00Z")])
    replay = collected(make_report("SN1", 3, processes=1), "2026-11-01T00:00:00Z")  # an old report sent again
    store.ingest([incoming(replay, "2026-11-01T02:00:00Z")])
    assert store.rows("SELECT replay FROM reports WHERE report_id = ?", (replay.report_id,)) == [{"replay": 1}]
    assert store.rows("SELECT last_sequence FROM devices") == [{"last_sequence": 5}]
    assert store.count("current_processes") == 4


def test_reports_arriving_newest_first_all_count_and_the_first_seen_is_the_earliest(store):
    """Envelopes ingested from an archive may come newest first: the device's report count and
    first sighting must not depend on that order."""
    reports = [make_report("SN1", sequence, processes=2) for sequence in (1, 2, 3)]
    for report in reports:
        report.collected_at.FromSeconds(1_764_000_000 + report.sequence * 300)
    for report in reversed(reports):
        store.ingest([incoming(report, f"2026-11-01T0{report.sequence}:00:00.000Z")])
    assert store.rows("SELECT reports, first_seen, last_seen, last_sequence FROM devices") == [
        {"reports": 3, "first_seen": "2026-11-01T01:00:00.000Z", "last_seen": "2026-11-01T03:00:00.000Z",
         "last_sequence": 3}]


def test_wiped_outbox_restarts_the_count_without_freezing_the_device(store):
    store.ingest([incoming(make_report("SN1", 40, processes=4), "2026-11-01T01:00:00Z")])
    restarted = make_report("SN1", 1, processes=2)
    restarted.collected_at.FromSeconds(restarted.collected_at.seconds + 60)  # collected after the last one
    store.ingest([incoming(restarted, "2026-11-01T02:00:00Z")])
    assert store.rows("SELECT replay FROM reports WHERE report_id = ?", (restarted.report_id,)) == [{"replay": 1}]
    assert store.rows("SELECT last_sequence FROM devices") == [{"last_sequence": 1}]
    assert store.count("current_processes") == 2


def test_sequence_restarts_with_a_new_certificate(store):
    store.ingest([incoming(make_report("SN1", 9), "t1", serial="old")])
    fresh = make_report("SN1", 1)
    store.ingest([incoming(fresh, "t2", serial="new")])
    assert store.rows("SELECT replay FROM reports WHERE report_id = ?", (fresh.report_id,)) == [{"replay": 0}]


def test_verdict_changes_are_recorded(store):
    def verdict(name, score):
        return {"device_id": "SN1", "verdict": name, "score": score,
                "findings": [{"rule": "r", "severity": "high", "summary": "s", "evidence": {}}] if score else []}

    store.ingest([incoming(make_report("SN1", 1), "t1", verdict=verdict("clean", 0))])
    store.ingest([incoming(make_report("SN1", 2), "t2", verdict=verdict("clean", 0))])
    store.ingest([incoming(make_report("SN1", 3), "t3", verdict=verdict("relay", 90))])
    changes = store.rows("SELECT old_verdict, new_verdict FROM verdict_changes ORDER BY rowid")
    assert changes == [{"old_verdict": None, "new_verdict": "clean"},
                       {"old_verdict": "clean", "new_verdict": "relay"}]
    assert store.count("findings") == 1


def test_raw_report_round_trips_as_an_envelope(store):
    report = make_report("SN1", processes=5)
    store.ingest([incoming(report, "2026-11-01T01:00:00Z")])
    envelope = store.envelope(report.report_id)
    assert envelope["received_at"] == "2026-11-01T01:00:00Z"
    assert envelope["peer_ip"] == "198.51.100.7"
    assert len(envelope["report"]["processes"]) == 5


def test_full_database_refuses_the_batch_and_keeps_what_was_stored(tmp_path):
    store = Store(tmp_path / "small.sqlite")
    store.ingest([incoming(make_report("SN1", 1), "t1")])
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    big = [incoming(make_report(f"SN{i}", 1, processes=400), "t2") for i in range(2, 6)]
    with pytest.raises(StoreFull):
        store.ingest(big)
    assert store.count("reports") == 1
    assert store.count("devices") == 1
    store.conn.execute("PRAGMA max_page_count = 1073741823")
    assert store.ingest(big) == [True] * 4
    store.close()


def test_database_file_is_owner_only(sqlite_store):
    assert sqlite_store.path.stat().st_mode & 0o777 == 0o600


def test_reader_connection_sees_committed_rows(sqlite_store):
    sqlite_store.ingest([incoming(make_report("SN1"), "t1")])
    assert isinstance(sqlite_store.reader(), sqlite3.Connection)
    assert sqlite_store.count("devices") == 1


def test_raw_reports_past_retention_are_dropped_but_the_latest_stays(store):
    old = [make_report("SN1", seq) for seq in (1, 2, 3)]
    for seq, report in enumerate(old, 1):
        store.ingest([incoming(report, f"2020-01-0{seq}T00:00:00Z")])
    assert store.prune_raw(older_than_days=30) == 2
    assert store.envelope(old[2].report_id) is not None
    assert store.envelope(old[0].report_id) is None
    assert store.count("reports") == 3
    assert [rid for rid, _, _ in store.stored_reports()] == [old[2].report_id]


def test_a_report_the_store_fails_on_fails_alone_not_its_whole_batch(sqlite_store):
    """Group commit puts many agents' reports in one transaction; a fault on one of them must not
    refuse the others (their agents would all resend, and meet the same fault again together)."""
    sqlite_store.conn.execute("CREATE TRIGGER fault BEFORE INSERT ON reports WHEN NEW.device_id = 'SN-BAD' "
                       "BEGIN SELECT RAISE(ABORT, 'fault'); END")
    writer = IngestQueue(sqlite_store)
    with sqlite_store._write_lock:  # the writer waits here with the first report; the others queue as one batch
        first = writer.submit(incoming(make_report("SN-A"), "2026-11-20T10:00:00.000Z"))
        time.sleep(0.2)
        rest = {serial: writer.submit(incoming(make_report(serial), "2026-11-20T10:00:01.000Z"))
                for serial in ("SN-B", "SN-BAD", "SN-C")}
    writer.close()
    assert first.result().stored and rest["SN-B"].result().stored and rest["SN-C"].result().stored
    with pytest.raises(sqlite3.IntegrityError, match="fault"):
        rest["SN-BAD"].result()
    assert sorted(r[0] for r in sqlite_store.conn.execute("SELECT device_id FROM reports")) == ["SN-A", "SN-B", "SN-C"]


def test_commits_reach_the_disk_before_the_ack(tmp_path):
    """synchronous=FULL on every connection that writes: with NORMAL, a WAL commit (and so an
    acknowledged report) can be lost on power loss or an OS crash (issue 13, Durability)."""
    store = Store(tmp_path / "fw.sqlite")
    try:
        full = 2
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == full
        assert store.reader().execute("PRAGMA synchronous").fetchone()[0] == full
    finally:
        store.close()
