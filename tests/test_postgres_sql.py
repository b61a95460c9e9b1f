"""Analyst SQL on PostgreSQL: the refusals and bounds of the SQLite path (tests/test_sql.py), kept
by a real server: a read-only transaction, the farmwatch_analyst role, statement_timeout."""
from __future__ import annotations

import pytest

from conftest import make_report
from farmwatch.collector import ingest
from farmwatch.collector.ingest import Store
from farmwatch.collector.storage import analyst_sql as sql


@pytest.fixture
def database(postgres_url):
    store = Store(postgres_url)
    store.ingest([ingest.prepare(make_report(f"SN-{n}"), peer_ip="203.0.113.7") for n in range(3)])
    yield postgres_url
    store.close()


def test_select_with_placeholders_returns_columns_and_rows(database):
    result = sql.run(database, "SELECT device_id, reports FROM devices WHERE device_id != ? ORDER BY device_id",
                     ("SN-1",))
    assert result.columns == ["device_id", "reports"]
    assert result.rows == [("SN-0", 1), ("SN-2", 1)]


@pytest.mark.parametrize("statement", [
    "INSERT INTO devices (device_id) VALUES ('SN-EVIL')",
    "UPDATE devices SET verdict = 'clean'",
    "DELETE FROM devices",
    "DROP TABLE devices",
    "CREATE TABLE loot (x int)",
    "CREATE TEMP TABLE loot (x int)",
    "SET TRANSACTION READ WRITE",
    "SELECT set_config('transaction_read_only', 'off', true)",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
    "SELECT nextval('devices_rowid_seq')",
])
def test_writes_and_server_functions_are_refused_and_change_nothing(database, statement):
    before = sql.run(database, "SELECT device_id, verdict FROM devices ORDER BY device_id").rows
    with pytest.raises(sql.SqlError):
        sql.run(database, statement)
    assert sql.run(database, "SELECT device_id, verdict FROM devices ORDER BY device_id").rows == before


def test_a_write_is_refused_as_not_authorized(database):
    with pytest.raises(sql.SqlError, match="not authorized"):
        sql.run(database, "DELETE FROM devices")


def test_only_one_statement_at_a_time(database):
    with pytest.raises(sql.SqlError, match="one statement"):
        sql.run(database, "SELECT 1; SELECT 2")


def test_runaway_query_is_stopped_by_the_time_budget(database):
    with pytest.raises(sql.SqlError, match="longer than 0.5s"):
        sql.run(database, "SELECT pg_sleep(30)", timeout=0.5)


def test_a_caller_gone_before_the_statement_starts_stops_it(database):
    with pytest.raises(sql.SqlError, match="stopped: the caller cancelled it"):
        sql.run(database, "SELECT pg_sleep(30)", stop_on=lambda stop: False)


def test_endless_result_is_cut_at_the_row_limit(database):
    result = sql.run(database, "SELECT generate_series(1, 100000000)", max_rows=5)
    assert result.rows == [(n,) for n in range(1, 6)] and result.truncated


def test_max_bytes_bounds_values_and_rows_fetched(database):
    with pytest.raises(sql.SqlError, match="too big"):
        sql.run(database, "SELECT repeat('a', 100000)", max_bytes=1000)
    cut = sql.run(database, "SELECT repeat('a', 400) FROM generate_series(1, 100)", max_bytes=1000)
    assert 1 <= len(cut) <= 3 and cut.truncated


def test_a_statement_that_returns_no_rows_is_refused(database):
    with pytest.raises(sql.SqlError, match="returns no rows"):
        sql.run(database, "SET TRANSACTION READ WRITE")


def test_an_unreachable_server_is_a_clear_error(database):
    with pytest.raises(sql.SqlError, match="cannot be reached"):
        sql.run("postgresql://nobody@127.0.0.1:1/none", "SELECT 1")
