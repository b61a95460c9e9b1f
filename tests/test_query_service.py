"""The Query service over real mTLS: analysts in, agents out, every question audited."""
from __future__ import annotations

import json
import threading
import time

import grpc
import pytest

from conftest import make_report, scenario_report
from farmwatch.agent import transport
from farmwatch.collector import enrollment
from farmwatch.v1 import query_pb2, query_pb2_grpc

# on both engines: SQLite and a real PostgreSQL server (conftest `engine`)
pytestmark = pytest.mark.usefixtures("engine")


@pytest.fixture
def fleet(collector):
    """Three devices reported over gRPC: a relay, a suspicious one and a clean one."""
    for device_id, scenario in (("SN-RELAY", "relay/win_jetkvm"), ("SN-SUSP", "suspicious/win_anydesk_idle"),
                                ("SN-CLEAN", "clean/linux_office_plain")):
        with collector.client(collector.enroll(device_id)) as client:
            client.report(scenario_report(scenario, device_id))
    return collector


@pytest.fixture
def analyst(fleet):
    channel = fleet.channel(fleet.analyst("analyst-alice"))
    yield query_pb2_grpc.QueryStub(channel)
    channel.close()


def audit_rows(collector) -> list[dict]:
    return collector.store.rows("SELECT who, via, action, detail, rows, outcome, cert_serial, peer FROM audit "
                                "ORDER BY id")


def rows_of(answer: query_pb2.Rows) -> list[dict]:
    return [json.loads(r) for r in answer.rows]


def test_analyst_lists_devices_and_the_call_is_audited(fleet, analyst):
    answer = analyst.Devices(query_pb2.DevicesRequest(), timeout=10)
    devices = {d["device_id"]: d for d in rows_of(answer)}
    assert {d: devices[d]["verdict"] for d in devices} == {
        "SN-RELAY": "relay", "SN-SUSP": "suspicious", "SN-CLEAN": "clean"}
    assert isinstance(devices["SN-RELAY"]["score"], int)
    assert list(answer.columns)[:4] == ["device_id", "hostname", "os", "verdict"]
    [entry] = audit_rows(fleet)
    assert entry | {"cert_serial": None} == {"who": "analyst-alice", "via": "grpc", "action": "devices",
                                             "detail": "all", "rows": 3, "outcome": "ok",
                                             "cert_serial": None, "peer": "127.0.0.1"}
    assert entry["cert_serial"]


def test_devices_filter_by_verdict(analyst):
    answer = analyst.Devices(query_pb2.DevicesRequest(verdict="relay"), timeout=10)
    assert [d["device_id"] for d in rows_of(answer)] == ["SN-RELAY"]


def test_device_detail_and_unknown_device(fleet, analyst):
    info = json.loads(analyst.Device(query_pb2.DeviceRequest(device_id="SN-RELAY"), timeout=10).json)
    assert info["verdict"] == "relay"
    assert {"display-kvm-edid", "usb-ip-kvm"} <= {f["rule"] for f in info["findings"]}
    assert len(info["reports"]) == 1
    with pytest.raises(grpc.RpcError) as error:
        analyst.Device(query_pb2.DeviceRequest(device_id="SN-NOPE"), timeout=10)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert audit_rows(fleet)[-1]["outcome"].startswith("error: ")


def test_clusters_and_an_unknown_cluster_are_audited(fleet, analyst):
    answer = analyst.Clusters(query_pb2.ClustersRequest(include_inactive=True, min_score=5), timeout=10)
    assert rows_of(answer) == [] and list(answer.columns)[:3] == ["cluster_id", "kind", "value"]
    with pytest.raises(grpc.RpcError) as error:
        analyst.Cluster(query_pb2.ClusterRequest(cluster_id="ip-nope"), timeout=10)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND and "Clusters lists them" in error.value.details()
    assert [(e["action"], e["detail"], e["outcome"][:6]) for e in audit_rows(fleet)] == [
        ("clusters", "min_score=5 all=True", "ok"), ("cluster", "ip-nope", "error:")]


def test_flags_are_findings_of_flagged_devices_only(analyst):
    flags = rows_of(analyst.Flags(query_pb2.FlagsRequest(), timeout=10))
    assert {f["device_id"] for f in flags} == {"SN-RELAY", "SN-SUSP"}
    assert all(isinstance(f["evidence"], dict) for f in flags)


def test_sql_answers_a_select_and_refuses_a_write(fleet, analyst):
    answer = analyst.Sql(query_pb2.SqlRequest(sql="SELECT device_id, score FROM devices ORDER BY device_id"),
                         timeout=10)
    assert list(answer.columns) == ["device_id", "score"]
    assert [r["device_id"] for r in rows_of(answer)] == ["SN-CLEAN", "SN-RELAY", "SN-SUSP"]
    with pytest.raises(grpc.RpcError) as error:
        analyst.Sql(query_pb2.SqlRequest(sql="DELETE FROM devices"), timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fleet.store.count("devices") == 3
    sql_audit = [e for e in audit_rows(fleet) if e["action"] == "sql"]
    assert [(e["detail"], e["rows"], e["outcome"][:5]) for e in sql_audit] == [
        ("SELECT device_id, score FROM devices ORDER BY device_id", 3, "ok"),
        ("DELETE FROM devices", 0, "error")]


def test_sql_row_limit_is_reported_as_truncated(analyst):
    answer = analyst.Sql(query_pb2.SqlRequest(sql="SELECT * FROM devices", max_rows=2), timeout=10)
    assert len(answer.rows) == 2 and answer.truncated


def test_agent_certificate_is_refused_on_query_and_the_attempt_audited(fleet):
    creds = fleet.enroll("SN-NOSY")
    with fleet.channel(creds) as channel:
        stub = query_pb2_grpc.QueryStub(channel)
        for call, request in ((stub.Devices, query_pb2.DevicesRequest()),
                              (stub.Sql, query_pb2.SqlRequest(sql="SELECT 1"))):
            with pytest.raises(grpc.RpcError) as error:
                call(request, timeout=10)
            assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.RpcError) as error:
            next(stub.FollowFlags(query_pb2.FollowFlagsRequest(), timeout=10))
        assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    refused = audit_rows(fleet)
    assert [(e["who"], e["action"], e["detail"]) for e in refused] == [
        ("SN-NOSY", "devices", "all"), ("SN-NOSY", "sql", "SELECT 1"),
        ("SN-NOSY", "follow-flags", "skip_current=False")]
    assert all(e["outcome"].startswith("refused: agent certificates") for e in refused)


def test_bootstrap_identity_is_refused_on_query(fleet):
    with transport.enrollment_channel(fleet.address, ca_pem=fleet.ca_pem) as channel:
        with pytest.raises(grpc.RpcError) as error:
            query_pb2_grpc.QueryStub(channel).Flags(query_pb2.FlagsRequest(), timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_analyst_certificate_is_refused_on_report(fleet):
    creds = fleet.analyst("analyst-bob")
    with fleet.client(creds) as client:
        with pytest.raises(transport.CollectorError) as error:
            client.report(make_report("analyst-bob"))
    assert error.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert fleet.store.count("reports") == 3


def test_revoked_analyst_is_refused(fleet, analyst):
    analyst.Flags(query_pb2.FlagsRequest(), timeout=10)
    enrollment.revoke_subject(fleet.store, "analyst-alice", "left the company")
    with pytest.raises(grpc.RpcError) as error:
        analyst.Flags(query_pb2.FlagsRequest(), timeout=10)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as error:
        analyst.Sql(query_pb2.SqlRequest(sql="SELECT * FROM roster"), timeout=10)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    refused = [(e["who"], e["action"], e["detail"]) for e in audit_rows(fleet) if e["outcome"].startswith("refused")]
    assert refused == [("analyst-alice", "flags", ""), ("analyst-alice", "sql", "SELECT * FROM roster")]
    assert "revoked" in audit_rows(fleet)[-1]["outcome"]


def test_query_is_refused_when_it_cannot_be_audited(fleet, analyst):
    fleet.store.conn.execute("DROP TABLE audit")
    with pytest.raises(grpc.RpcError) as error:
        analyst.Sql(query_pb2.SqlRequest(sql="SELECT * FROM devices"), timeout=10)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "audit" in error.value.details()


def test_follow_flags_streams_current_flags_then_changes(fleet, analyst):
    stream = analyst.FollowFlags(query_pb2.FollowFlagsRequest(poll_seconds=1), timeout=30)
    events = []
    first = {(e.device_id, e.rule) for e in _take(stream, 5, events)}
    assert {d for d, _ in first} == {"SN-RELAY", "SN-SUSP"} and {e.event for e in events} == {"new"}

    # the suspicious laptop now has a live inbound AnyDesk session: relay
    with fleet.client(fleet.enroll("SN-SUSP", fleet.token(allow_reenroll=True))) as client:
        client.report(scenario_report("relay/win_anydesk_inbound_session", "SN-SUSP", sequence=2))
    later = _take(stream, 3, [])
    stream.cancel()
    assert {(e.event, e.rule) for e in later} >= {("new", "remote-session-inbound"),
                                                  ("changed", "remote-control-running")}
    changed = json.loads(next(e.json for e in later if e.event == "changed"))
    assert changed["verdict"] == "relay" and changed["previous"]["verdict"] == "suspicious"


def _take(stream, count: int, into: list) -> list:
    """Read `count` events from the stream (the test fails on its timeout if they never come)."""
    got = []
    for event in stream:
        got.append(event)
        into.append(event)
        if len(got) == count:
            break
    return got


def test_follow_flags_ends_when_the_caller_cancels_and_is_audited(fleet, analyst):
    stream = analyst.FollowFlags(query_pb2.FollowFlagsRequest(skip_current=True, poll_seconds=1), timeout=30)
    cancelled = threading.Timer(1.5, stream.cancel)
    cancelled.start()
    with pytest.raises(grpc.RpcError) as error:
        list(stream)
    assert error.value.code() == grpc.StatusCode.CANCELLED
    entry = audit_rows(fleet)[-1]
    assert (entry["action"], entry["detail"]) == ("follow-flags", "skip_current=True")


def test_cancelled_flag_streams_give_their_slots_back_at_once(fleet, analyst):
    """A stream cancelled while its poll waits (poll_seconds up to a minute) ends then, not at the
    next poll: its follower slot and its worker thread are free for the next analyst."""
    import time

    from farmwatch.collector.query_service import MAX_FOLLOWERS

    streams = [analyst.FollowFlags(query_pb2.FollowFlagsRequest(poll_seconds=60), timeout=120)
               for _ in range(MAX_FOLLOWERS)]
    for stream in streams:
        next(stream)  # open on the collector, now waiting for its next poll
    for stream in streams:
        stream.cancel()
    deadline = time.monotonic() + 5
    while True:
        again = analyst.FollowFlags(query_pb2.FollowFlagsRequest(poll_seconds=1), timeout=10)
        try:
            assert next(again).device_id
            break
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert time.monotonic() < deadline, "cancelled flag streams still held their slots after 5 s"
            time.sleep(0.2)
        finally:
            again.cancel()


def test_devices_filter_by_roster_user(fleet, analyst):
    from farmwatch.collector import roster

    csv_file = fleet.home / "roster.csv"
    csv_file.write_text("serial,user_name,email\nSN-SUSP,Dana Lee,dana@example.com\n")
    roster.import_roster(fleet.store, roster.parse(csv_file, "csv"))
    answer = analyst.Devices(query_pb2.DevicesRequest(user="DANA@example.com"), timeout=10)
    assert [d["device_id"] for d in rows_of(answer)] == ["SN-SUSP"]
    assert audit_rows(fleet)[-1]["detail"] == "user=DANA@example.com"


def test_flag_streams_are_limited_so_they_cannot_take_every_worker(fleet, analyst):
    from farmwatch.collector.query_service import MAX_FOLLOWERS

    streams = [analyst.FollowFlags(query_pb2.FollowFlagsRequest(poll_seconds=1), timeout=30)
               for _ in range(MAX_FOLLOWERS)]
    try:
        for stream in streams:
            next(stream)  # each one is open on the collector
        with pytest.raises(grpc.RpcError) as error:
            next(analyst.FollowFlags(query_pb2.FollowFlagsRequest(), timeout=10))
        assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert audit_rows(fleet)[-1]["outcome"].startswith(f"refused: {MAX_FOLLOWERS} flag streams")
        assert analyst.Flags(query_pb2.FlagsRequest(), timeout=10).rows  # plain calls still answered
    finally:
        for stream in streams:
            stream.cancel()


def _finished_audit_entry(collector, action: str, wait: float = 15.0) -> dict:
    import time

    give_up = time.monotonic() + wait
    while time.monotonic() < give_up:
        rows = collector.store.rows("SELECT outcome, duration_ms FROM audit WHERE action = ? AND finished_at "
                                    "IS NOT NULL ORDER BY id DESC LIMIT 1", (action,))
        if rows:
            return rows[0]
        time.sleep(0.1)
    raise AssertionError(f"the {action} call never finished")


ENDLESS = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"


STOPPED = "error: the query was stopped: the caller cancelled it or its deadline passed"
ONE_LONG_CALL = "SELECT length(printf('%.*c', 2147483647, 'a'))"  # ~25 s inside one SQLite function call


def test_sql_stops_when_the_caller_deadline_passes(fleet, analyst):
    """A query that would run for the whole server budget stops when its caller gives up, so
    a client with short deadlines cannot keep the collector's workers busy for nobody."""
    with pytest.raises(grpc.RpcError) as error:
        analyst.Sql(query_pb2.SqlRequest(sql=ENDLESS), timeout=0.5)
    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert _finished_audit_entry(fleet, "sql")["outcome"] == STOPPED


@pytest.mark.sqlite_dialect
def test_cancelled_calls_inside_one_long_function_give_their_sql_slots_back(fleet, analyst):
    """Four such calls held every SQL slot for ~25 s each after their callers had gone: the
    statement now stops when the call ends, and the next analyst's query is answered."""
    from farmwatch.collector.query_service import MAX_SQL_RUNNING

    for _ in range(MAX_SQL_RUNNING):
        with pytest.raises(grpc.RpcError) as error:
            analyst.Sql(query_pb2.SqlRequest(sql=ONE_LONG_CALL), timeout=0.5)
        assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    give_up = time.monotonic() + 60  # not a performance bound: the old code took ~25 s per call here
    finished_sql = "SELECT outcome FROM audit WHERE finished_at IS NOT NULL"
    while len(finished := fleet.store.rows(finished_sql)) < MAX_SQL_RUNNING:
        assert time.monotonic() < give_up, "the cancelled calls never finished"
        time.sleep(0.1)
    assert [e["outcome"] for e in finished] == [STOPPED] * MAX_SQL_RUNNING
    answer = analyst.Sql(query_pb2.SqlRequest(sql="SELECT count(*) AS n FROM devices"), timeout=10)
    assert rows_of(answer) == [{"n": 3}]


def test_sql_behind_a_long_comment_is_audited_whole(fleet, analyst):
    padded = "/*" + "x" * 20_000 + "*/ SELECT device_id FROM devices"
    assert len(analyst.Sql(query_pb2.SqlRequest(sql=padded), timeout=10).rows) == 3
    assert audit_rows(fleet)[-1]["detail"] == padded


def test_sql_longer_than_the_audit_keeps_is_refused_and_identified(fleet, analyst):
    import hashlib

    from farmwatch.collector.audit import MAX_DETAIL_BYTES

    padded = "/*" + "x" * MAX_DETAIL_BYTES + "*/ SELECT device_id FROM devices"
    with pytest.raises(grpc.RpcError) as error:
        analyst.Sql(query_pb2.SqlRequest(sql=padded), timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "shorten it" in error.value.details()
    [entry] = fleet.store.rows("SELECT detail, detail_sha256, detail_bytes, rows, outcome FROM audit")
    assert entry == {"detail": "", "detail_sha256": hashlib.sha256(padded.encode()).hexdigest(),
                     "detail_bytes": len(padded), "rows": 0, "outcome": entry["outcome"]}
    assert entry["outcome"].startswith("error: the statement is")


def _strict(text: str):
    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.sqlite_dialect
def test_sql_rows_are_strict_json_even_for_infinite_numbers(analyst):
    answer = analyst.Sql(query_pb2.SqlRequest(sql="SELECT 1e999 AS up, -1e999 AS down, 1.5 AS plain"), timeout=10)
    assert [_strict(r) for r in answer.rows] == [{"up": "Infinity", "down": "-Infinity", "plain": 1.5}]


@pytest.mark.sqlite_dialect
def test_sql_text_that_is_not_utf8_comes_back_as_bytes(analyst):
    """One bad value does not fail the whole query: it travels base64-encoded, as BLOBs do."""
    answer = analyst.Sql(query_pb2.SqlRequest(sql="SELECT 'é' AS good, CAST(x'fffe41' AS TEXT) AS bad"), timeout=10)
    assert rows_of(answer) == [{"good": "é", "bad": {"$base64": True, "encoded": "//5B"}}]


@pytest.mark.sqlite_dialect
def test_sql_answer_larger_than_a_message_is_truncated(fleet, analyst):
    """Ten 2 MB rows: the client gets the rows that fit in one response and `truncated`, not
    RESOURCE_EXHAUSTED from the transport; the audit counts the rows actually returned."""
    ten_big = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 10) "
               "SELECT x, hex(zeroblob(1000000)) AS big FROM n")
    answer = analyst.Sql(query_pb2.SqlRequest(sql=ten_big), timeout=30)
    assert answer.truncated and [r["x"] for r in rows_of(answer)] == [1, 2]
    assert answer.ByteSize() <= fleet.config.max_message_bytes
    assert audit_rows(fleet)[-1]["rows"] == 2


@pytest.mark.sqlite_dialect
def test_sql_row_larger_than_a_message_is_invalid_argument(analyst):
    with pytest.raises(grpc.RpcError) as error:
        analyst.Sql(query_pb2.SqlRequest(sql="SELECT hex(zeroblob(3000000)) AS big"), timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "select fewer or smaller columns" in error.value.details()


@pytest.mark.parametrize("call, request_, field", [
    ("Devices", query_pb2.DevicesRequest(verdict="RELAY"), "verdict"),
    ("Devices", query_pb2.DevicesRequest(verdict="bad"), "verdict"),
    ("Device", query_pb2.DeviceRequest(device_id=""), "device_id"),
    ("Cluster", query_pb2.ClusterRequest(cluster_id=""), "cluster_id"),
    ("Sql", query_pb2.SqlRequest(sql=" \n"), "sql is empty"),
])
def test_a_meaningless_request_is_invalid_argument_naming_the_field(fleet, analyst, call, request_, field):
    """Not an empty answer (which reads as "no relays") and not NOT_FOUND for a device never named."""
    with pytest.raises(grpc.RpcError) as error:
        getattr(analyst, call)(request_, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith(field)
    assert audit_rows(fleet)[-1]["outcome"].startswith("error")


def test_slow_sql_cannot_take_every_worker(fleet, analyst):
    """As many slow statements as the server has workers: the ones over the limit are refused
    RESOURCE_EXHAUSTED at once, and an agent's report still gets a thread."""
    import time

    from farmwatch.collector.query_service import MAX_SQL_RUNNING

    agent = fleet.enroll("SN-BUSY")
    slow = [analyst.Sql.future(query_pb2.SqlRequest(sql=ENDLESS), timeout=4) for _ in range(fleet.config.workers)]
    time.sleep(1)
    with fleet.client(agent) as client:
        client.timeout = 2
        assert client.report(make_report("SN-BUSY")).duplicate is False
    codes = [call.exception().code() for call in slow]
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == fleet.config.workers - MAX_SQL_RUNNING


@pytest.mark.sqlite_dialect
def test_a_query_the_collector_fails_on_is_internal_and_audited(fleet, analyst):
    fleet.store.conn.execute("ALTER TABLE devices RENAME TO devices_gone")
    with pytest.raises(grpc.RpcError) as error:
        analyst.Devices(query_pb2.DevicesRequest(), timeout=10)
    assert error.value.code() == grpc.StatusCode.INTERNAL
    assert "Exception calling application" not in error.value.details()
    assert "OperationalError" not in error.value.details()
    assert audit_rows(fleet)[-1]["outcome"] == "error: database error: no such table: devices"


@pytest.mark.sqlite_dialect
@pytest.mark.parametrize("statement", ["SELECT zeroblob(900000000)", "SELECT length(randomblob(900000000))",
                                       "SELECT length(group_concat(hex(zeroblob(100000)))) FROM "
                                       "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 500) "
                                       "SELECT x FROM n)"])
def test_sql_cannot_make_a_value_of_gigabytes(analyst, statement):
    """One value bigger than a response is refused as SQLite makes it, not after the collector
    has held it (and its base64 and JSON copies) in memory: `zeroblob(500000000)` peaked at 2 GB.
    "too big" is SQLite's refusal as it makes the value (a value made whole would be refused as
    more than a response may carry)."""
    with pytest.raises(grpc.RpcError) as error:
        analyst.Sql(query_pb2.SqlRequest(sql=statement), timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "too big" in error.value.details()


@pytest.mark.sqlite_dialect
def test_sql_stops_fetching_rows_once_they_outgrow_a_response(fleet, analyst):
    """10,000 rows of 3 MB each would be fetched whole (30 GB) before any was sent. A statement runs
    in a process whose memory is bounded far below that: fetching past the byte budget ends the
    call in an error (out of memory, or out of time), never in this truncated answer."""
    many_big = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 10000) "
                "SELECT x, zeroblob(3000000) AS b FROM n")
    answer = analyst.Sql(query_pb2.SqlRequest(sql=many_big), timeout=30)
    assert answer.truncated and len(answer.rows) <= 1
    assert audit_rows(fleet)[-1]["outcome"] == "ok"
