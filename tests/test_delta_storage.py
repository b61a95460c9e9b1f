"""Delta reports in the database, on both engines: read back in full (reclassify, envelopes), kept whole by the
raw-report retention, refreshed by a full report daily, and refused where they mean nothing."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from benchlib.reports import LaptopReports, base_report  # noqa: E402
from farmwatch.collector import ingest, report_limits  # noqa: E402
from farmwatch.common import delta  # noqa: E402
from farmwatch.v1 import collector_pb2, report_pb2  # noqa: E402


@pytest.fixture
def store(database):
    opened = ingest.Store(database)
    yield opened
    opened.close()


def _at(start: dt.datetime, minutes: float) -> str:
    when = start + dt.timedelta(minutes=minutes)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def send(store, laptop: LaptopReports, received_at: str) -> ingest.Incoming:
    """One report as the agent sends it; a delta refused goes again in full, as the agent does."""
    message = report_pb2.AgentReport()
    message.CopyFrom(laptop.message())
    item = ingest.prepare(message, peer_ip="198.18.0.1", received_at=received_at, states=store.states)
    if item.send_full:
        laptop.sent_full = True
        item = ingest.prepare(laptop.full(), peer_ip="198.18.0.1", received_at=received_at, states=store.states)
    laptop.acked(store.ingest([item])[0])
    return item


def day_of_reports(store, count: int, start: dt.datetime, seed: int = 1):
    laptop, made = LaptopReports(base_report(60), "SN-DAY-1", 1, seed=seed), {}
    for n in range(count):
        send(store, laptop, _at(start, 5 * n))
        made[laptop.report.report_id] = delta.canonical(laptop.report)
    return laptop, made


def test_every_stored_report_reads_back_in_full(store):
    _, made = day_of_reports(store, 30, dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3))
    assert store.count("reports") == 30
    assert store.rows("SELECT count(*) AS n FROM reports WHERE base_report_id IS NOT NULL")[0]["n"] >= 25
    read = {report_id: delta.canonical(report) for report_id, _, report in store.stored_reports(batch=7)}
    assert read == made  # what reclassify sees: each report's full state
    middle = list(made)[15]
    from google.protobuf import json_format

    shown = json_format.ParseDict(store.envelope(middle)["report"], report_pb2.AgentReport())
    assert delta.canonical(shown) == made[middle]


def test_a_device_whose_last_full_report_is_a_day_old_is_asked_for_one(store):
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    laptop = LaptopReports(base_report(60), "SN-DAY-2", 2)
    send(store, laptop, _at(start, 0))
    send(store, laptop, _at(start, 5))
    late = report_pb2.AgentReport()
    late.CopyFrom(laptop.message())
    assert late.HasField("delta")
    item = ingest.prepare(late, peer_ip="198.18.0.1", received_at=_at(start, 25 * 60), states=store.states)
    assert item.send_full == collector_pb2.FULL_REPORT_DAILY_REFRESH
    assert store.ingest([item]) == [False] and store.count("reports") == 2  # not taken: nothing stored


def test_retention_keeps_every_report_a_kept_delta_is_built_on(store, monkeypatch):
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)
    monkeypatch.setattr(LaptopReports, "FULL_EVERY", 10**9)  # fulls only where the test puts them
    laptop, made = day_of_reports(store, 6, start)
    laptop.acked(False)  # the next goes in full: a new chain, 40 days old too
    for n in range(6, 12):
        send(store, laptop, _at(start, 5 * n))
        made[laptop.report.report_id] = delta.canonical(laptop.report)
    laptop.acked(False)
    for n in range(4):  # today's chain
        send(store, laptop, _at(start + dt.timedelta(days=40), n))
        made[laptop.report.report_id] = delta.canonical(laptop.report)
    # the first chain is past retention and followed by a full report: it goes; the second has
    # the device's latest full report after it only today, so it stays, and today's too
    assert store.prune_raw(older_than_days=30) == 6
    read = {report_id: delta.canonical(report) for report_id, _, report in store.stored_reports()}
    assert read == dict(list(made.items())[6:])


def test_a_delta_report_from_a_file_is_refused_naming_the_fix(store):
    laptop = LaptopReports(base_report(60), "SN-FILE-1", 3)
    send(store, laptop, _at(dt.datetime.now(dt.timezone.utc), 0))
    change = laptop.message()
    with pytest.raises(ingest.InvalidReport, match="full report"):
        ingest.prepare(change, peer_ip="")


def test_a_delta_that_grows_a_section_past_its_limit_is_refused(store, monkeypatch):
    laptop = LaptopReports(base_report(60), "SN-BIG-1", 4)
    send(store, laptop, _at(dt.datetime.now(dt.timezone.utc), 0))
    monkeypatch.setitem(report_limits.ITEMS, "processes", 50)  # lowered under what the full report held
    with pytest.raises(ingest.InvalidReport, match="processes has .* once rebuilt"):
        ingest.prepare(laptop.message(), peer_ip="", states=store.states)
    assert store.count("reports") == 1
