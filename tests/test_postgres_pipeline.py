"""Ingest batches on PostgreSQL run in pipeline mode (storage/postgres.py): writes are sent without
waiting for their results. What that must not change, on a real server: counts read back in the
batch, a failing write failing its report alone, and where the batch waits."""
from __future__ import annotations

import os
import tempfile
import time

import psycopg
import pytest

from conftest import make_report
from farmwatch.collector.ingest import Incoming, IngestQueue, Store

FAULT = ("CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
         "IF NEW.device_id = 'SN-BAD' THEN RAISE EXCEPTION 'fault'; END IF; RETURN NEW; END $$; "
         "CREATE TRIGGER fault BEFORE INSERT ON reports FOR EACH ROW EXECUTE FUNCTION fault()")


def incoming(device_id: str, at: str, sequence: int = 1) -> Incoming:
    report = make_report(device_id, sequence)
    report.network.default_gateway.mac = "3c:22:fb:00:00:01"  # two places: the router and the address
    return Incoming(report=report, received_at=at, peer_ip="81.2.69.160", cert_serial="c1")


@pytest.fixture
def store(postgres_url):
    s = Store(postgres_url)
    yield s
    s.close()


def test_a_place_counts_once_per_day_when_the_day_rows_are_pipelined(store):
    """`record_locations` reads each day row's rowcount after sending them all (one wait)."""
    store.ingest([incoming("SN-A", "2026-11-20T10:00:00.000Z", 1), incoming("SN-A", "2026-11-20T11:00:00.000Z", 2)])
    store.ingest([incoming("SN-A", "2026-11-21T10:00:00.000Z", 3)])
    assert store.rows("SELECT kind, days, reports FROM device_locations WHERE device_id = 'SN-A' ORDER BY kind") == [
        {"kind": "gateway_mac", "days": 2, "reports": 3}, {"kind": "peer_ip", "days": 2, "reports": 3}]


def test_a_write_that_fails_inside_the_pipeline_fails_its_report_alone(store):
    """The failing INSERT's error comes back at a later read of the batch, not at the INSERT: the
    batch rolls back as a whole, and the queue then stores each report alone (SQLite: test_store)."""
    store.conn.raw.execute(FAULT)
    writer = IngestQueue(store)
    with store._write_lock:  # the writer waits here with the first report; the others queue as one batch
        first = writer.submit(incoming("SN-A", "2026-11-20T10:00:00.000Z"))
        time.sleep(0.2)
        rest = {serial: writer.submit(incoming(serial, "2026-11-20T10:00:01.000Z"))
                for serial in ("SN-B", "SN-BAD", "SN-C")}
    writer.close()
    assert first.result().stored and rest["SN-B"].result().stored and rest["SN-C"].result().stored
    with pytest.raises(psycopg.errors.RaiseException, match="fault"):
        rest["SN-BAD"].result()
    assert [r["device_id"] for r in store.rows("SELECT device_id FROM reports ORDER BY device_id")] == [
        "SN-A", "SN-B", "SN-C"]
    assert store.count("devices") == 3  # nothing of SN-BAD's report was kept


def _waits_and_statements(store, batch) -> tuple[int, int]:
    """(times the writer waited for the server, statements it ran) while storing `batch`, from a
    libpq trace of its connection: a wait is a Sync, Flush or simple Query message."""
    with tempfile.TemporaryFile("w+") as trace:
        raw = store.storage.conn.raw
        raw.pgconn.trace(os.dup(trace.fileno()))  # libpq closes its copy at untrace
        raw.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            assert store.ingest(batch) == [True] * len(batch)
        finally:
            raw.pgconn.untrace()
        trace.seek(0)
        sent = [line.split("\t")[2].strip() for line in trace if line.startswith("F\t")]
    return sum(kind in ("Sync", "Flush", "Query") for kind in sent), sent.count("Execute") + sent.count("Query")


def test_a_batch_waits_only_where_it_reads_a_result(store):
    """Per report the batch reads three results (is it stored; the device; its place's new day);
    every write, and every lock taken before a read, goes without a wait of its own."""
    devices = [f"SN-{n}" for n in range(4)]
    store.ingest([incoming(d, "2026-11-20T10:00:00.000Z") for d in devices])
    waits, statements = _waits_and_statements(store, [incoming(d, "2026-11-20T10:15:00.000Z", 2) for d in devices])
    assert statements >= 9 * len(devices)  # locks, reads, the report, location and device writes
    assert waits <= 3 * len(devices) + 4  # + its BEGIN, COMMIT and the end of its pipeline (a Sync, maybe a Flush)
