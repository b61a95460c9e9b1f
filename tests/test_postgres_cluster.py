"""Several collectors on one PostgreSQL database (docs/scale.md): enrollment, revocation, replay
and periodic jobs shared across them; credentials kept out of logs; the database going away.

Two real collectors (gRPC over mTLS on 127.0.0.1, the same CA, as every collector host of a
cluster has it) share one database of the real server the test setup started.
"""
from __future__ import annotations

import logging
import shutil
import threading

import grpc
import pytest

from farmwatch.agent.transport import CollectorError

from conftest import RunningCollector, make_report
from farmwatch.collector import enrollment, pki
from farmwatch.collector.storage import describe, open_storage


@pytest.fixture
def pair(tmp_path, postgres_url, monkeypatch):
    monkeypatch.setenv("FARMWATCH_DATABASE_URL", postgres_url)
    first = tmp_path / "a"
    pki.CertificateAuthority.create(first / "pki").issue_server(["localhost", "127.0.0.1"])
    shutil.copytree(first / "pki", tmp_path / "b" / "pki")
    a = RunningCollector(first)
    b = RunningCollector(tmp_path / "b")
    yield a, b
    a.stop()
    b.stop()


def _enroll_outcome(collector, device_id, token):
    try:
        collector.enroll(device_id, token)
        return "enrolled"
    except CollectorError as exc:
        return f"{exc.code.name}: {exc.details}"


def _enroll_at_once(pair, token, attempt) -> list[str]:
    outcomes, start = {}, threading.Barrier(2)

    def enroll(collector, device_id):
        start.wait()
        outcomes[device_id] = _enroll_outcome(collector, device_id, token)

    threads = [threading.Thread(target=enroll, args=(c, f"SN-{attempt}-{n}")) for n, c in enumerate(pair)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return sorted(outcomes.values())


def test_one_token_enrolls_once_across_two_collectors_even_at_the_same_moment(pair):
    a, b = pair
    for attempt in range(3):
        outcomes = _enroll_at_once(pair, a.token(), attempt)  # a token of one use
        assert outcomes[1] == "enrolled" and "token is used up" in outcomes[0], outcomes
    assert b.store.count("certificates") == 3


def test_a_revocation_on_one_collector_is_refused_on_the_other_at_the_next_call(pair):
    a, b = pair
    creds = a.enroll("SN-REVOKED")
    with b.client(creds) as client:
        assert not client.report(make_report("SN-REVOKED", 1)).duplicate
        assert enrollment.revoke_subject(a.store, "SN-REVOKED", "laptop lost") == 1
        with pytest.raises(CollectorError) as refused:
            client.report(make_report("SN-REVOKED", 2))
    assert refused.value.code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)
    assert b.stored_reports() == 1


def test_the_same_report_sent_to_both_at_once_is_stored_once(pair):
    a, b = pair
    creds = a.enroll("SN-TWICE")
    report = make_report("SN-TWICE", 1)
    acks, start = [], threading.Barrier(2)

    def send(collector):
        with collector.client(creds) as client:
            start.wait()
            acks.append(client.report(report).duplicate)

    threads = [threading.Thread(target=send, args=(c,)) for c in pair]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(acks) == [False, True]
    assert a.stored_reports() == 1 and a.store.rows("SELECT reports FROM devices") == [{"reports": 1}]


def test_a_periodic_job_runs_once_per_interval_across_the_cluster(pair):
    a, b = pair
    claims = [a.store.claim_job("correlation", 600, "a"), b.store.claim_job("correlation", 600, "b"),
              a.store.claim_job("correlation", 600, "a")]
    # each collector's own correlation loop already claimed this interval when it started
    assert claims.count(True) <= 1 and a.store.rows("SELECT job FROM job_runs") == [{"job": "correlation"}]


def test_the_database_password_is_never_logged(tmp_path, postgres_url, monkeypatch, caplog):
    with_password = postgres_url.replace("postgres@", "postgres:s3cret-pw@")  # trust auth ignores it
    monkeypatch.setenv("FARMWATCH_DATABASE_URL", with_password)
    home = tmp_path / "c"
    pki.CertificateAuthority.create(home / "pki").issue_server(["localhost", "127.0.0.1"])
    with caplog.at_level(logging.DEBUG):
        collector = RunningCollector(home)
        collector.stop()
    assert "database=postgresql://postgres@127.0.0.1" in caplog.text and "s3cret-pw" not in caplog.text
    assert "s3cret-pw" not in describe(with_password)
    with pytest.raises(Exception) as unreachable:
        open_storage("postgresql://postgres:s3cret-pw@127.0.0.1:1/none")
    assert "cannot be reached" in str(unreachable.value) and "s3cret-pw" not in str(unreachable.value)


def test_database_down_the_collector_answers_unavailable_and_nothing_is_lost(tmp_path, monkeypatch):
    """A server of its own, stopped as a crash would stop it, then started again. (The answer is
    UNAVAILABLE when ingest meets the outage, UNKNOWN when the certificate check meets it first.)"""
    from pg_server import URL_VARIABLE, Server

    if __import__("os").environ.get(URL_VARIABLE):
        pytest.fail(f"this test stops its own server; run it without {URL_VARIABLE}")  # never skipped
    server = Server()
    try:
        monkeypatch.setenv("FARMWATCH_DATABASE_URL", server.new_database())
        home = tmp_path / "d"
        pki.CertificateAuthority.create(home / "pki").issue_server(["localhost", "127.0.0.1"])
        collector = RunningCollector(home)
        try:
            creds = collector.enroll("SN-DOWN")
            reports = [make_report("SN-DOWN", n) for n in (1, 2)]
            with collector.client(creds) as client:
                client.report(reports[0])
                server.halt()
                with pytest.raises(CollectorError):  # not acknowledged: the agent keeps it spooled
                    client.report(reports[1])
                server.resume()
                assert not _resend(client, reports[1]).duplicate  # the agent's spool sends it again
            assert collector.stored_reports() == 2
        finally:
            collector.stop()
    finally:
        server.stop()


def _resend(client, report, tries: int = 3):
    """As the agent's spool does: send again until acknowledged (a connection the outage broke is
    found broken by the first call after it, which answers UNAVAILABLE)."""
    for _ in range(tries - 1):
        try:
            return client.report(report)
        except CollectorError as exc:
            assert exc.code == grpc.StatusCode.UNAVAILABLE
    return client.report(report)
