"""Clients the collector was not written against: other stacks, long-lived or misbehaving ones.

Each test states the behaviour wanted first (bounded resources, a clear status code, nothing lost,
an audit trail) and checks it against a real collector over real mTLS.
"""
from __future__ import annotations

import datetime as dt
import threading
import time

import grpc
import pytest
from cryptography import x509

import certfactory
from conftest import make_report
from farmwatch.agent import identity, transport
from farmwatch.collector import enrollment, pki
from farmwatch.v1 import collector_pb2, collector_pb2_grpc, query_pb2, query_pb2_grpc

# on both engines: SQLite and a real PostgreSQL server (conftest `engine`)
pytestmark = pytest.mark.usefixtures("engine")


def recorded_certificate(collector, subject: str, role: str, lasts: dt.timedelta):
    """A certificate of ours, recorded as issued, that expires `lasts` from now."""
    now = pki.utcnow()
    creds = certfactory.signed_by_our_ca(collector, subject, now - dt.timedelta(minutes=1), now + lasts, role=role)
    cert = x509.load_pem_x509_certificate(creds.cert_pem)
    with collector.store.transaction() as conn:
        conn.execute("INSERT INTO certificates (serial, subject, role, issued_at, not_after) VALUES (?, ?, ?, ?, ?)",
                     (pki.serial_hex(cert), subject, role, now.isoformat(), (now + lasts).isoformat()))
    return creds, cert


def until_expired(cert: x509.Certificate) -> None:
    time.sleep(max(0.0, (cert.not_valid_after_utc - pki.utcnow()).total_seconds()) + 1.1)


# -- certificates that expire while the connection stays open ---------------------------------------

def test_certificate_expiring_on_an_open_connection_is_refused_from_the_next_call(collector):
    """TLS checks validity at the handshake only. An agent (or a stolen certificate) keeping one
    connection open must not outlive its certificate: the next call is UNAUTHENTICATED."""
    creds, cert = recorded_certificate(collector, "SN-SHORT", pki.ROLE_AGENT, dt.timedelta(seconds=3))
    channel = collector.channel(creds)
    stub = collector_pb2_grpc.CollectorStub(channel)
    stub.Report(make_report("SN-SHORT", 1), timeout=5)
    until_expired(cert)
    for call in (lambda: stub.Report(make_report("SN-SHORT", 2), timeout=5),
                 lambda: stub.Renew(collector_pb2.RenewRequest(csr_pem=identity.build_csr(pki.new_key(), "SN-SHORT")),
                                    timeout=5)):
        with pytest.raises(grpc.RpcError) as info:
            call()
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "expired" in info.value.details()
    channel.close()
    assert collector.stored_reports() == 1
    assert collector.store.count("certificates") == 1  # no renewal was signed


def test_revoked_analyst_following_flags_is_cut_off(collector):
    """Revocation is checked on every call; a flag stream is one call that lasts for days, so it is
    checked again at every poll: revoking the analyst ends the stream (UNAUTHENTICATED), audited."""
    stub = query_pb2_grpc.QueryStub(collector.channel(collector.analyst("analyst-mallory")))
    stream = stub.FollowFlags(query_pb2.FollowFlagsRequest(poll_seconds=1))
    ended = {}

    def read():
        try:
            for _ in stream:
                pass
            ended["code"] = grpc.StatusCode.OK
        except grpc.RpcError as exc:
            ended["code"], ended["details"] = exc.code(), exc.details()

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(1.5)
    assert enrollment.revoke_subject(collector.store, "analyst-mallory", "left the company") == 1
    reader.join(10)
    if reader.is_alive():
        stream.cancel()
        pytest.fail("the revoked analyst's flag stream was still open 10 s after revocation")
    assert ended["code"] == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in ended["details"]
    [entry] = collector.store.rows("SELECT who, action, outcome FROM audit")
    assert entry["who"] == "analyst-mallory" and entry["action"] == "follow-flags"
    assert "revoked" in entry["outcome"]


def test_analyst_certificate_expiring_during_a_flag_stream_ends_it(collector):
    creds, cert = recorded_certificate(collector, "analyst-temp", pki.ROLE_ANALYST, dt.timedelta(seconds=3))
    stream = query_pb2_grpc.QueryStub(collector.channel(creds)).FollowFlags(
        query_pb2.FollowFlagsRequest(poll_seconds=1), timeout=15)
    with pytest.raises(grpc.RpcError) as info:
        for _ in stream:
            pass
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "expired" in info.value.details()


def test_a_huge_poll_interval_does_not_outlast_revocation(collector, monkeypatch):
    """poll_seconds is the client's to choose (uint32: up to 136 years); the collector still looks
    at least every MAX_FOLLOW_POLL_SECONDS, so a revoked analyst cannot hold a stream and its slot."""
    from farmwatch.collector import query_service

    monkeypatch.setattr(query_service, "MAX_FOLLOW_POLL_SECONDS", 1)
    stream = query_pb2_grpc.QueryStub(collector.channel(collector.analyst("analyst-slow"))).FollowFlags(
        query_pb2.FollowFlagsRequest(poll_seconds=2**32 - 1), timeout=15)
    threading.Timer(1.5, enrollment.revoke_subject, (collector.store, "analyst-slow")).start()
    with pytest.raises(grpc.RpcError) as info:
        for _ in stream:
            pass
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


# -- transport: what one client may hold ----------------------------------------------------------

@pytest.fixture
def strict_collector(collector_home, monkeypatch):
    """A collector whose transport limits are seconds instead of minutes, to see them act."""
    from conftest import RunningCollector
    from farmwatch.collector import server

    limits = dict(server.TRANSPORT_LIMITS)
    limits.update({"grpc.server_handshake_timeout_ms": 1000, "grpc.max_connection_idle_ms": 1000})
    monkeypatch.setattr(server, "TRANSPORT_LIMITS", list(limits.items()))
    running = RunningCollector(collector_home)
    yield running
    running.stop()


@pytest.mark.one_engine
def test_transport_limits_are_set():
    from farmwatch.collector import server

    limits = dict(server.TRANSPORT_LIMITS)
    assert limits["grpc.max_concurrent_streams"] <= 100
    assert limits["grpc.server_handshake_timeout_ms"] <= 30_000
    assert limits["grpc.max_connection_idle_ms"] and limits["grpc.max_connection_age_ms"]


@pytest.mark.one_engine
def test_a_connection_that_never_starts_tls_is_closed(strict_collector):
    """Slowloris: a TCP connection that sends nothing held a descriptor for 120 s (gRPC's default)."""
    import socket

    host, port = strict_collector.address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(10)
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the collector, not by our timeout
    assert time.monotonic() - started < 8


@pytest.mark.one_engine
def test_an_idle_connection_is_closed_and_the_agent_reconnects(strict_collector):
    creds = strict_collector.enroll("SN-IDLE")
    with strict_collector.client(creds) as client:
        client.report(make_report("SN-IDLE", 1))
        time.sleep(3)  # the collector sends GOAWAY after 1 s without a call
        client.report(make_report("SN-IDLE", 2))  # a new connection, transparently
    assert strict_collector.stored_reports() == 2


@pytest.mark.one_engine
def test_calls_that_never_send_their_request_do_not_starve_reports(collector):
    """The bootstrap certificate is public. A client that opens more calls than the collector has
    worker threads and never sends their request body (HTTP/2 headers, then nothing) must not hold
    the workers: an enrolled agent's report still gets through within a few seconds."""
    from farmwatch.common import bootstrap  # noqa: F401  (the enrollment channel presents it)

    creds = collector.enroll("SN-HONEST")
    stalled = transport.enrollment_channel(collector.address, ca_pem=collector.ca_pem)
    never = threading.Event()

    def silence():
        never.wait()  # the request body never comes
        return
        yield

    calls = []
    for method in ("/farmwatch.v1.Collector/Report", "/farmwatch.v1.Collector/Enroll",
                   "/farmwatch.v1.Query/Sql"):
        # Seen from the server these are unary calls whose one request message never arrives.
        open_call = stalled.stream_unary(method, request_serializer=lambda m: m,
                                         response_deserializer=lambda b: b)
        calls += [open_call.future(silence(), timeout=60) for _ in range(collector.config.workers + 4)]
    try:
        time.sleep(1.0)  # the stalled calls have reached the collector
        assert not any(call.done() for call in calls)
        stub = collector_pb2_grpc.CollectorStub(collector.channel(creds))
        started = time.monotonic()
        ack = stub.Report(make_report("SN-HONEST"), timeout=5)
        assert not ack.duplicate
        assert time.monotonic() - started < 5
    finally:
        never.set()
        for call in calls:
            call.cancel()
        stalled.close()
    assert collector.stored_reports() == 1


# -- certificate chains -------------------------------------------------------------------------------

def _intermediate_chain(collector, victim_serial: int, subject: str):
    """A leaf for `subject` carrying `victim_serial`, signed by an intermediate our CA key signed."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    ca = pki.CertificateAuthority.load(collector.home / "pki")
    now = pki.utcnow()
    inter_key = pki.new_key()
    inter_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "an intermediate this CA never signs")])
    inter = (x509.CertificateBuilder().subject_name(inter_name).issuer_name(ca.cert.subject)
             .public_key(inter_key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
             .sign(ca.key, hashes.SHA256()))
    creds = certfactory.client_certificate(inter_key, inter_name, subject=subject, role=pki.ROLE_AGENT,
                                           not_before=now - dt.timedelta(hours=1), not_after=now + dt.timedelta(days=1),
                                           ca_pem=collector.ca_pem)
    leaf = x509.load_pem_x509_certificate(creds.cert_pem)
    leaf = (x509.CertificateBuilder().subject_name(leaf.subject).issuer_name(inter_name)
            .public_key(leaf.public_key()).serial_number(victim_serial)
            .not_valid_before(leaf.not_valid_before_utc).not_valid_after(leaf.not_valid_after_utc)
            .sign(inter_key, hashes.SHA256()))
    creds.cert_pem = pki.cert_pem(leaf) + pki.cert_pem(inter)
    return creds


def test_a_chain_through_an_intermediate_cannot_borrow_an_issued_serial(collector):
    """Certificates are looked up by serial. TLS accepts leaf + intermediate chained to our CA (the
    CA's pathlen:0 is not enforced on a trust anchor), so such a leaf with the serial of a device's
    real certificate spoke for that device. Our CA never signs intermediates: only a leaf it signed
    itself is accepted."""
    victim = collector.enroll("SN-VICTIM")
    serial = x509.load_pem_x509_certificate(victim.cert_pem).serial_number
    creds = _intermediate_chain(collector, serial, "SN-VICTIM")
    stub = collector_pb2_grpc.CollectorStub(collector.channel(creds))
    with pytest.raises(grpc.RpcError) as info:
        stub.Report(make_report("SN-VICTIM"), timeout=5)
    assert info.value.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNAVAILABLE)
    assert collector.stored_reports() == 0


def test_a_client_sending_its_leaf_with_the_ca_certificate_is_accepted(collector):
    """Some stacks send the whole chain they were given (leaf + CA): that is still our leaf."""
    creds = collector.enroll("SN-CHAIN")
    creds.cert_pem = creds.cert_pem + collector.ca_pem
    with collector.client(creds) as client:
        assert not client.report(make_report("SN-CHAIN")).duplicate


# -- clients of other stacks and versions ----------------------------------------------------------------

def test_unknown_fields_are_dropped_before_storage(collector):
    """Fields this collector does not know are dropped before the raw report is stored (issue 13: a
    megabyte of unknown-field padding was stored verbatim). The report itself is taken: a newer
    agent's extra fields cost it nothing, and the collector that knows them reads them from the
    reports that agent sends after the upgrade."""
    from farmwatch.collector.storage import blobs
    from farmwatch.v1 import report_pb2

    creds = collector.enroll("SN-NEWER")
    known = make_report("SN-NEWER")
    padding = b"\xa2\x38\x80\x80\x40" + bytes(1024 * 1024)  # field 900, 1 MiB
    newer = report_pb2.AgentReport.FromString(known.SerializeToString() + padding)
    newer.host.MergeFromString(b"\xa0\x38\x2a")  # host field 900, varint 42
    call = collector.channel(creds).unary_unary("/farmwatch.v1.Collector/Report")
    call(newer.SerializeToString(), timeout=5)
    [row] = collector.store.rows("SELECT raw, size_bytes FROM reports")
    assert blobs.unpack(row["raw"]) == known.SerializeToString()
    assert row["size_bytes"] == known.ByteSize()


def test_an_old_agent_with_only_the_required_fields_is_stored(collector):
    import uuid

    from farmwatch.v1 import report_pb2

    creds = collector.enroll("SN-OLD")
    with collector.client(creds) as client:
        client.report(report_pb2.AgentReport(report_id=str(uuid.uuid4()), device_id="SN-OLD"))
    assert collector.stored_reports() == 1


@pytest.mark.parametrize("compression", [grpc.Compression.Gzip, grpc.Compression.Deflate])
def test_a_compressed_report_is_stored(collector, compression):
    creds = collector.enroll("SN-GZIP")
    stub = collector_pb2_grpc.CollectorStub(collector.channel(creds))
    assert not stub.Report(make_report("SN-GZIP", processes=500), timeout=5, compression=compression).duplicate
    assert collector.stored_reports() == 1


@pytest.mark.one_engine
def test_a_compressed_bomb_is_refused_without_inflating_it(collector):
    """200 MB of zeros gzip to 200 kB; the limit applies to the inflated size."""
    creds = collector.enroll("SN-BOMB")
    wire = make_report("SN-BOMB").SerializeToString() + b"\xa2\x38\x80\x80\x80\x64" + bytes(200 * 1024 * 1024)
    call = collector.channel(creds).unary_unary("/farmwatch.v1.Collector/Report")
    with pytest.raises(grpc.RpcError) as info:
        call(wire, timeout=30, compression=grpc.Compression.Gzip)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert collector.stored_reports() == 0


def test_a_report_cancelled_or_timed_out_before_its_ack_is_stored_once_when_resent(collector):
    creds = collector.enroll("SN-CANCEL")
    stub = collector_pb2_grpc.CollectorStub(collector.channel(creds))
    reports = [make_report("SN-CANCEL", n, processes=500) for n in range(1, 11)]
    for n, report in enumerate(reports):
        if n % 2:
            stub.Report.future(report).cancel()
        else:
            try:
                stub.Report(report, timeout=0.0005)  # usually DEADLINE_EXCEEDED, stored or not
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        stub.Report(report, timeout=10)  # the agent's retry from its outbox
    stored = collector.store.rows("SELECT report_id, count(*) AS n FROM reports GROUP BY report_id")
    assert sorted(r["report_id"] for r in stored) == sorted(r.report_id for r in reports)
    assert {r["n"] for r in stored} == {1}


@pytest.mark.one_engine
def test_metadata_beyond_the_limit_is_refused(collector):
    creds = collector.enroll("SN-META")
    stub = collector_pb2_grpc.CollectorStub(collector.channel(creds))
    with pytest.raises(grpc.RpcError) as info:
        stub.Report(make_report("SN-META"), metadata=[("x-padding", "a" * 100_000)], timeout=5)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert collector.stored_reports() == 0
