"""Ad-hoc SQL: the database refuses writes, other files and extensions; runaway queries stop."""
from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import make_report
from farmwatch.collector import ingest
from farmwatch.collector.storage import analyst_sql as sql
from farmwatch.collector.audit import local_user
from farmwatch.collector.ingest import Store


@pytest.fixture
def database(tmp_path):
    store = Store(tmp_path / "farmwatch.sqlite")
    store.ingest([ingest.prepare(make_report(f"SN-{n}"), peer_ip="203.0.113.7") for n in range(3)])
    yield store.path
    store.close()  # the writer stays open during each test, as a serving collector's would


def test_select_returns_columns_and_rows(database):
    result = sql.run(database, "SELECT device_id, reports FROM devices WHERE device_id != ? ORDER BY device_id",
                     ("SN-1",))
    assert result.columns == ["device_id", "reports"]
    assert result.rows == [("SN-0", 1), ("SN-2", 1)]
    assert result.dicts()[0] == {"device_id": "SN-0", "reports": 1}
    assert not result.truncated


@pytest.mark.parametrize("statement", [
    "INSERT INTO devices (device_id) VALUES ('SN-EVIL')",
    "UPDATE devices SET verdict = 'clean'",
    "DELETE FROM devices",
    "REPLACE INTO devices (device_id) VALUES ('SN-0')",
    "DROP TABLE devices",
    "CREATE TABLE loot (x)",
    "CREATE TEMP TABLE loot (x)",
    "ALTER TABLE devices ADD COLUMN x",
    "PRAGMA query_only = 0",
    "PRAGMA user_version = 99",
    "BEGIN IMMEDIATE",
    "VACUUM",
])
def test_writes_are_refused_and_change_nothing(database, statement):
    before = sql.run(database, "SELECT device_id, verdict FROM devices ORDER BY device_id").rows
    with pytest.raises(sql.SqlError):
        sql.run(database, statement)
    assert sql.run(database, "SELECT device_id, verdict FROM devices ORDER BY device_id").rows == before
    assert sql.run(database, "PRAGMA user_version").rows != [(99,)]


def test_the_file_itself_is_read_only_even_without_the_authorizer(database):
    """The authorizer is one layer; read-only mode and query_only stand without it."""
    conn = sql.open_readonly(database)
    conn.set_authorizer(None)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM devices")
    assert conn.execute("PRAGMA query_only").fetchone() == (1,)
    conn.close()


def test_attach_of_another_database_is_refused(database, tmp_path):
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE secrets (x)").connection.close()
    with pytest.raises(sql.SqlError, match="not authorized"):
        sql.run(database, f"ATTACH DATABASE '{other}' AS other")
    with pytest.raises(sql.SqlError):
        sql.run(database, "DETACH DATABASE main")


def test_load_extension_is_refused(database, tmp_path):
    library = tmp_path / "evil.so"
    library.write_bytes(b"\x7fELF")
    with pytest.raises(sql.SqlError, match="load_extension"):
        sql.run(database, "SELECT load_extension(?)", (str(library),))


def test_only_one_statement_at_a_time(database):
    with pytest.raises(sql.SqlError, match="one statement"):
        sql.run(database, "SELECT 1; DELETE FROM devices")
    assert sql.run(database, "SELECT count(*) FROM devices").rows == [(3,)]


def test_schema_introspection_is_allowed(database):
    columns = [row[1] for row in sql.run(database, "PRAGMA table_info(devices)").rows]
    assert "device_id" in columns and "verdict" in columns
    assert sql.run(database, "SELECT name FROM sqlite_master WHERE name = 'reports'").rows == [("reports",)]


def test_runaway_query_is_stopped_by_the_time_budget(database):
    endless = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
    with pytest.raises(sql.SqlError, match="longer than 0.5s"):
        sql.run(database, endless, timeout=0.5)


# Each runs for tens of seconds inside one SQLite function call, where no progress handler or
# sqlite3_interrupt() reaches (printf: ~25 s on SQLite 3.40 even with values bounded; trim is quadratic).
ONE_LONG_CALL = {"printf": "SELECT length(printf('%.*c', 2147483647, 'a'))",
                 "trim": "SELECT length(trim(hex(zeroblob(100000)), replace(hex(zeroblob(50000)), '0', 'b') || '0'))"}


@pytest.mark.parametrize("name", sorted(ONE_LONG_CALL))
def test_one_long_function_call_is_stopped_by_the_time_budget(database, name):
    with pytest.raises(sql.SqlError, match="longer than 1s"):
        sql.run(database, ONE_LONG_CALL[name], timeout=1)
    assert sql.run(database, "SELECT count(*) FROM devices").rows == [(3,)]


def test_a_caller_that_goes_away_stops_its_statement_at_once(database):
    """`stop_on` hands out the stop; gRPC calls it when the call is cancelled or its deadline passes.
    The timeout is long: a statement that only stopped at its time budget says so instead."""
    stops = []
    threading.Timer(0.5, lambda: stops[0]()).start()
    with pytest.raises(sql.SqlError, match="stopped: the caller cancelled it"):
        sql.run(database, ONE_LONG_CALL["printf"], timeout=120, stop_on=stops.append)


def test_a_caller_gone_before_the_statement_starts_stops_it(database):
    with pytest.raises(sql.SqlError, match="stopped: the caller cancelled it"):
        sql.run(database, ONE_LONG_CALL["printf"], timeout=120, stop_on=lambda stop: False)


def test_a_statement_cannot_take_unbounded_memory(database):
    """One row of 100 values of 4 MB each: each value is allowed, the row is not."""
    wide = "SELECT " + ", ".join(f"randomblob(4000000) AS b{n}" for n in range(100))
    with pytest.raises(sql.SqlError, match="memory"):
        sql.run(database, wide, max_bytes=4_000_000)
    assert sql.run(database, "SELECT count(*) FROM devices").rows == [(3,)]


def test_a_statement_longer_than_the_audit_keeps_is_refused_unrun(database):
    padded = "/*" + "x" * sql.MAX_STATEMENT_BYTES + "*/ SELECT 1"
    with pytest.raises(sql.SqlError, match=f"at most {sql.MAX_STATEMENT_BYTES}"):
        sql.run(database, padded)


def test_endless_result_is_cut_at_the_row_limit(database):
    endless = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n"
    result = sql.run(database, endless, max_rows=100)
    assert len(result.rows) == 100 and result.truncated
    assert result.rows[-1] == (100,)


def test_blobs_come_back_as_base64_and_repeated_columns_are_kept(database):
    result = sql.run(database, "SELECT x'00ff' AS raw, 1 AS n, 2 AS n")
    assert result.columns == ["raw", "n", "n:2"]
    assert result.rows == [({"$base64": True, "encoded": "AP8="}, 1, 2)]


def test_missing_database_is_an_error_not_a_new_file(tmp_path):
    with pytest.raises(sql.SqlError, match="no database"):
        sql.run(tmp_path / "absent.sqlite", "SELECT 1")
    assert not (tmp_path / "absent.sqlite").exists()


# -- `farmwatch-collector query` ---------------------------------------------------------------

def run_cli(home, *args):
    return subprocess.run([str(Path(sys.executable).parent / "farmwatch-collector"), "--home", str(home), *args],
                          capture_output=True, text=True, timeout=60)


def test_cli_query_prints_json_and_csv_and_is_audited(database):
    home = database.parent
    as_json = run_cli(home, "query", "SELECT device_id, reports FROM devices ORDER BY device_id", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [{"device_id": f"SN-{n}", "reports": 1} for n in range(3)]
    as_csv = run_cli(home, "query", "SELECT device_id FROM devices ORDER BY device_id LIMIT 2", "--csv")
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [["device_id"], ["SN-0"], ["SN-1"]]
    table = run_cli(home, "query", "SELECT count(*) AS n FROM devices")
    assert table.stdout.split() == ["N", "3"]
    audit = sql.run(database, "SELECT who, via, action, detail, rows, outcome FROM audit ORDER BY id").dicts()
    assert [(a["who"], a["via"], a["action"], a["rows"], a["outcome"]) for a in audit] == [
        (local_user(), "cli", "sql", 3, "ok"), (local_user(), "cli", "sql", 2, "ok"),
        (local_user(), "cli", "sql", 1, "ok")]
    assert audit[0]["detail"] == "SELECT device_id, reports FROM devices ORDER BY device_id"


def test_cli_query_refuses_a_write_and_audits_the_attempt(database):
    result = run_cli(database.parent, "query", "DELETE FROM devices")
    assert result.returncode == 1
    assert "not authorized" in result.stderr and "Traceback" not in result.stderr
    assert sql.run(database, "SELECT count(*) FROM devices").rows == [(3,)]
    [entry] = sql.run(database, "SELECT action, detail, outcome FROM audit").dicts()
    assert entry["detail"] == "DELETE FROM devices" and entry["outcome"].startswith("error: not authorized")


def test_cli_query_says_when_it_stopped_at_the_row_limit(database):
    result = run_cli(database.parent, "query", "SELECT device_id FROM devices", "--max-rows", "1", "--json")
    assert len(json.loads(result.stdout)) == 1
    assert "stopped at 1 rows" in result.stderr


def test_cli_listings_are_audited_as_the_local_user(database):
    for args in (["devices", "--json"], ["device", "SN-1", "--json"], ["flags", "--json"]):
        assert run_cli(database.parent, *args).returncode == 0
    audit = sql.run(database, "SELECT action, detail, rows FROM audit ORDER BY id").rows
    assert audit == [("devices", "all", 3), ("device", "SN-1", 1), ("flags", "", 0)]


def test_max_bytes_bounds_values_and_rows_fetched(database):
    with pytest.raises(sql.SqlError, match="too big"):
        sql.run(database, "SELECT zeroblob(2000000)", max_bytes=1_000_000)
    many = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 1000) SELECT randomblob(100000) FROM n"
    result = sql.run(database, many, max_bytes=1_000_000)
    assert result.truncated and 1 <= len(result.rows) <= 10
    assert len(sql.run(database, many, max_bytes=200_000_000).rows) == 1000


def test_cli_query_keeps_the_byte_bound_of_a_grpc_answer(database):
    """`query --timeout 1 "SELECT randomblob(50000000)"` took 48 s and 695 MB in the table printer."""
    huge = run_cli(database.parent, "query", "--timeout", "1", "SELECT randomblob(50000000)")
    assert huge.returncode == 1 and "too big" in huge.stderr and "Traceback" not in huge.stderr
    many = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
            "SELECT x, hex(randomblob(1000000)) AS h FROM n")
    cut = run_cli(database.parent, "query", "--json", many)
    assert cut.returncode == 0, cut.stderr
    assert 1 <= len(json.loads(cut.stdout)) <= 4 and "as much as one answer may carry" in cut.stderr
    long_call = run_cli(database.parent, "query", "--timeout", "1", ONE_LONG_CALL["printf"])
    assert long_call.returncode == 1 and "longer than 1s" in long_call.stderr
    assert run_cli(database.parent, "query", "SELECT count(*) AS n FROM devices").stdout.split() == ["N", "3"]

