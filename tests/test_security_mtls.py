"""Who may call what: every refused identity on Report, Renew and each Query call, over real mTLS.

A client without an acceptable certificate (none, self-signed, another CA, expired, not yet
valid) fails the TLS handshake, so it never reaches the service: the client sees UNAVAILABLE.
Certificates that pass TLS but are revoked or were never issued by this collector get
UNAUTHENTICATED; the wrong role or the wrong device gets PERMISSION_DENIED. Every refused call
leaves every table as it was (the audit log, which records refused questions, aside).
"""
from __future__ import annotations

import datetime as dt

import grpc
import pytest
from cryptography import x509

import certfactory
import figures
from conftest import ENGINES, RunningCollector, make_report, new_database
from db_snapshot import table_counts
from farmwatch.agent import identity, transport
from farmwatch.collector import enrollment, pki
from farmwatch.v1 import collector_pb2, collector_pb2_grpc, query_pb2, query_pb2_grpc

SECTION = "security: refused calls per class"
HANDSHAKE = grpc.StatusCode.UNAVAILABLE  # the TLS handshake fails; no call reaches the service
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED


@pytest.fixture(scope="module", params=ENGINES)
def collector(request, tmp_path_factory):
    """On both engines: SQLite, and a real PostgreSQL server with a database of its own. (A module-scoped
    collector does not see the function-scoped `engine` fixture: it is made once, on the engine it names.)"""
    folder = tmp_path_factory.mktemp("mtls")
    home = folder / "collector"
    pki.CertificateAuthority.create(home / "pki").issue_server(["localhost", "127.0.0.1"])
    database = {} if request.param == "sqlite" else {"database_url": new_database(request, request.param, folder)}
    running = RunningCollector(home, **database)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def identities(collector, tmp_path_factory):
    """Every identity of the matrix, by class name: AgentCredentials, or None for no certificate."""
    revoked = collector.enroll("SN-REVOKED")
    enrollment.revoke_subject(collector.store, "SN-REVOKED", "laptop reported stolen")
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    return {
        "no-certificate": None,
        "self-signed": certfactory.self_signed(collector, "SN-A"),
        "other-ca": certfactory.from_another_ca(collector, tmp_path_factory.mktemp("other-ca"), "SN-A"),
        "expired": certfactory.valid_for(collector, "SN-A", starts_in=-10 * day, lasts=9 * day),
        "not-yet-valid": certfactory.valid_for(collector, "SN-A", starts_in=day, lasts=9 * day),
        "revoked": revoked,
        "unrecorded": certfactory.valid_for(collector, "SN-A", starts_in=-hour, lasts=day),
        "bootstrap": "bootstrap",
        "agent": collector.enroll("SN-A"),
        "agent-b": collector.enroll("SN-B"),
        "analyst": collector.analyst("analyst-alice"),
    }


def open_channel(collector, creds) -> grpc.Channel:
    if creds is None:
        return grpc.secure_channel(collector.address, grpc.ssl_channel_credentials(collector.ca_pem))
    if creds == "bootstrap":
        return transport.enrollment_channel(collector.address, ca_pem=collector.ca_pem)
    return collector.channel(creds)


def _report(channel, device_id="SN-A"):
    collector_pb2_grpc.CollectorStub(channel).Report(make_report(device_id), timeout=5)


def _renew(channel):
    csr = identity.build_csr(pki.new_key(), "SN-A")
    collector_pb2_grpc.CollectorStub(channel).Renew(collector_pb2.RenewRequest(csr_pem=csr), timeout=5)


def _query(method: str, request):
    def call(channel):
        answer = getattr(query_pb2_grpc.QueryStub(channel), method)(request, timeout=5)
        if method == "FollowFlags":  # a stream: its status comes with the first message
            next(iter(answer))
    return call


CALLS = {
    "Report": _report,
    "Renew": _renew,
    "Query.Devices": _query("Devices", query_pb2.DevicesRequest()),
    "Query.Device": _query("Device", query_pb2.DeviceRequest(device_id="SN-A")),
    "Query.Flags": _query("Flags", query_pb2.FlagsRequest()),
    "Query.Sql": _query("Sql", query_pb2.SqlRequest(sql="SELECT count(*) FROM reports")),
    "Query.FollowFlags": _query("FollowFlags", query_pb2.FollowFlagsRequest(poll_seconds=1)),
}
QUERY_CALLS = [name for name in CALLS if name.startswith("Query.")]

MATRIX = (
    [(cls, call, HANDSHAKE) for cls in ("no-certificate", "self-signed", "other-ca", "expired", "not-yet-valid")
     for call in CALLS]
    + [(cls, call, UNAUTHENTICATED) for cls in ("revoked", "unrecorded") for call in CALLS]
    + [("bootstrap", call, DENIED) for call in CALLS]
    + [("agent", call, DENIED) for call in QUERY_CALLS]
    + [("analyst", "Report", DENIED), ("analyst", "Renew", DENIED)]  # analysts never renew (enrollment.renew)
)


def status_of(call, channel) -> grpc.StatusCode:
    try:
        call(channel)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def assert_refused_and_nothing_stored(collector, creds, call, expected, name) -> None:
    before = table_counts(collector.store)
    with open_channel(collector, creds) as channel:
        assert status_of(call, channel) == expected
    assert table_counts(collector.store) == before
    figures.count(SECTION, name)


@pytest.mark.parametrize("identity_class, call_name, expected", MATRIX,
                         ids=[f"{cls}-{call}-{code.name}" for cls, call, code in MATRIX])
def test_refused_identity_stores_nothing(collector, identities, identity_class, call_name, expected):
    assert_refused_and_nothing_stored(collector, identities[identity_class], CALLS[call_name], expected,
                                      identity_class)


def test_agent_on_query_is_audited_as_refused(collector, identities):
    serial = pki.identity_of(x509.load_pem_x509_certificate(identities["agent"].cert_pem)).serial
    with open_channel(collector, identities["agent"]) as channel:
        assert status_of(CALLS["Query.Sql"], channel) == DENIED
    refusals = collector.store.rows("SELECT who, outcome FROM audit WHERE cert_serial = ? AND action = 'sql'",
                                    (serial,))
    assert refusals and all(r["who"] == "SN-A" and r["outcome"].startswith("refused:") for r in refusals)


def test_device_id_mismatch_stores_nothing(collector, identities):
    assert_refused_and_nothing_stored(collector, identities["agent"], lambda ch: _report(ch, "SN-B"), DENIED,
                                      "device-mismatch")


def test_device_a_replaying_device_b_report_is_refused(collector, identities):
    """A holds a copy of B's report (same bytes, same report_id): resending it as A is refused."""
    stolen = make_report("SN-B")
    with open_channel(collector, identities["agent-b"]) as channel:
        collector_pb2_grpc.CollectorStub(channel).Report(stolen, timeout=5)
    stored = collector.store.rows("SELECT device_id, cert_serial FROM reports WHERE report_id = ?",
                                  (stolen.report_id,))
    replay = lambda channel: collector_pb2_grpc.CollectorStub(channel).Report(stolen, timeout=5)  # noqa: E731
    assert_refused_and_nothing_stored(collector, identities["agent"], replay, DENIED, "device-replays-other")
    assert collector.store.rows("SELECT device_id, cert_serial FROM reports WHERE report_id = ?",
                                (stolen.report_id,)) == stored


def test_reusing_another_device_report_id_cannot_overwrite_it(collector, identities):
    """A's report carrying B's report_id is taken as a duplicate: B's stored report stays B's."""
    theirs = make_report("SN-B")
    with open_channel(collector, identities["agent-b"]) as channel:
        collector_pb2_grpc.CollectorStub(channel).Report(theirs, timeout=5)
    before = table_counts(collector.store)
    mine = make_report("SN-A")
    mine.report_id = theirs.report_id
    with open_channel(collector, identities["agent"]) as channel:
        ack = collector_pb2_grpc.CollectorStub(channel).Report(mine, timeout=5)
    assert ack.duplicate is True
    assert table_counts(collector.store) == before
    assert collector.store.rows("SELECT device_id FROM reports WHERE report_id = ?",
                                (theirs.report_id,)) == [{"device_id": "SN-B"}]
