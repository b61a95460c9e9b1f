"""One identity per serial and per grant, over real mTLS: case twins, analyst certificates that
would renew past their lifetime, and the enrollment limiter under parallel guesses."""
from __future__ import annotations

import datetime as dt
import threading
import time

import grpc
import pytest
from cryptography import x509

from conftest import AgentCredentials, make_report
from farmwatch.agent import identity, transport
from farmwatch.agent.run.enrollment import EnrollParams, enroll
from farmwatch.agent.state import StateDir
from farmwatch.collector import enrollment, pki
from farmwatch.collector.roster import normalise_serial
from farmwatch.common.device_id import canonical_device_id
from farmwatch.v1 import collector_pb2, collector_pb2_grpc, query_pb2, query_pb2_grpc

# on both engines: SQLite and a real PostgreSQL server (conftest `engine`)
pytestmark = pytest.mark.usefixtures("engine")

RATE_LIMIT = enrollment.RateLimiter().limit


def enroll_call(collector, token: str, device_id: str):
    """Enroll through the public bootstrap identity; (certificate, response device id) or the status."""
    key = pki.new_key()
    request = collector_pb2.EnrollRequest(token=token, csr_pem=identity.build_csr(key, device_id), device_id=device_id)
    with transport.enrollment_channel(collector.address, ca_pem=collector.ca_pem) as channel:
        try:
            response = collector_pb2_grpc.CollectorStub(channel).Enroll(request, timeout=10)
        except grpc.RpcError as error:
            return error.code()
    creds = AgentCredentials(response.device_id, pki.key_pem(key), response.certificate_pem, collector.ca_pem)
    return x509.load_pem_x509_certificate(response.certificate_pem), creds


def enrolled_before_spellings_were_canonical(collector, device_id: str) -> AgentCredentials:
    """A live certificate for a lower-case id, as an older collector issued and recorded it."""
    ca = pki.CertificateAuthority.load(collector.home / "pki")
    key, cert = ca.issue_client(device_id, pki.ROLE_AGENT, dt.timedelta(days=30))
    with collector.store.enrollment_records() as records:
        records.add_certificate(pki.serial_hex(cert), device_id, pki.ROLE_AGENT,
                                cert.not_valid_after_utc.isoformat(), None, "127.0.0.1")
    return AgentCredentials(device_id, key, pki.cert_pem(cert), collector.ca_pem)


def live_subjects(collector) -> list[str]:
    return [row["subject"] for row in collector.store.rows(
        "SELECT subject FROM certificates WHERE revoked_at IS NULL ORDER BY issued_at")]


# -- case twins ------------------------------------------------------------------------------------

def test_enrollment_certifies_the_canonical_spelling_and_reports_land_on_it(collector):
    cert, creds = enroll_call(collector, collector.token(), "c02-abc")
    assert pki.identity_of(cert).subject == creds.device_id == "C02-ABC"
    with collector.client(creds) as client:
        client.report(make_report("c02-abc"))  # the agent's own spelling is the same serial
        client.report(make_report("C02-ABC", sequence=2))
    assert [row["device_id"] for row in collector.store.rows("SELECT device_id FROM devices")] == ["C02-ABC"]


@pytest.mark.parametrize("first, twin", [("RT-T-X", "rt-t-x"), ("RT-T-X", "Rt-T-x")])
def test_a_case_twin_of_a_live_certificate_is_refused_and_keeps_its_token(collector, first, twin):
    enroll_call(collector, collector.token(), first)
    token = collector.token()
    assert enroll_call(collector, token, twin) == grpc.StatusCode.PERMISSION_DENIED
    assert live_subjects(collector) == ["RT-T-X"]
    assert collector.store.rows("SELECT uses FROM tokens WHERE uses = 0") == [{"uses": 0}]
    refusal = collector.store.rows("SELECT detail FROM enrollments WHERE outcome = 'refused'")[0]["detail"]
    assert "RT-T-X" in refusal and "--allow-reenroll" in refusal


def test_a_lower_case_id_enrolled_earlier_keeps_its_spelling_and_refuses_its_twin(collector):
    """Data from before: `rt-t-y` holds a live certificate. `RT-T-Y` is its twin (refused); a
    re-enrollment certifies the spelling on record and supersedes the old certificate, so the
    device keeps one row and one live certificate."""
    legacy = enrolled_before_spellings_were_canonical(collector, "rt-t-y")
    with collector.client(legacy) as client:
        client.report(make_report("rt-t-y"))
    assert enroll_call(collector, collector.token(), "RT-T-Y") == grpc.StatusCode.PERMISSION_DENIED

    cert, creds = enroll_call(collector, collector.token(allow_reenroll=True), "RT-T-Y")
    assert pki.identity_of(cert).subject == creds.device_id == "rt-t-y"
    assert live_subjects(collector) == ["rt-t-y"] and collector.store.count("certificates") == 2
    with collector.client(creds) as client:
        client.report(make_report("RT-T-Y", sequence=2))
    assert [row["device_id"] for row in collector.store.rows("SELECT device_id FROM devices")] == ["rt-t-y"]


def test_the_agent_enrolls_a_lower_case_serial_in_the_canonical_spelling(collector, tmp_path):
    state = StateDir(tmp_path / "agent")
    config = enroll(state, EnrollParams(collector=collector.address, token=collector.token(),
                                        ca_pem=collector.ca_pem, device_id="vm-serial-7"))
    assert config.device_id == "VM-SERIAL-7" == identity.read_certificate_info(state.certificate).device_id


def test_the_agent_keeps_the_spelling_a_collector_has_on_record(collector, tmp_path):
    enrolled_before_spellings_were_canonical(collector, "vm-serial-8")
    state = StateDir(tmp_path / "agent")
    config = enroll(state, EnrollParams(collector=collector.address, token=collector.token(allow_reenroll=True),
                                        ca_pem=collector.ca_pem, device_id="VM-SERIAL-8"))
    assert config.device_id == "vm-serial-8"


def test_revoking_a_serial_revokes_it_in_every_spelling(collector):
    enrolled_before_spellings_were_canonical(collector, "rt-t-z")
    enroll_call(collector, collector.token(), "RT-T-W")
    assert enrollment.revoke_subject(collector.store, "RT-T-Z", "stolen") == 1
    assert enrollment.revoke_subject(collector.store, "rt-t-w", "stolen") == 1
    assert live_subjects(collector) == []


def test_the_roster_keys_serials_by_the_canonical_spelling():
    assert normalise_serial(" c02-abc ") == canonical_device_id("c02-abc") == "C02-ABC"
    # upper-casing must not turn a character no serial has into one it has: 'ﬀ'.upper() == 'FF'
    assert normalise_serial("\ufb0001") is None and canonical_device_id("\ufb0001") == "\ufb0001"


# -- analyst certificates ----------------------------------------------------------------------------

def test_an_analyst_certificate_is_not_renewed_past_the_days_it_was_issued_for(collector):
    """A one-day analyst certificate once renewed itself to 30 days, again and again, and the old
    one stayed valid. Access granted for N days ends after N days: Renew is refused, nothing is
    signed, and the certificate keeps working until it ends."""
    ca = pki.CertificateAuthority.load(collector.home / "pki")
    key, cert = enrollment.Enrollment(collector.store, ca, cert_lifetime=pki.DEFAULT_CLIENT_LIFETIME).issue_analyst(
        "analyst-one-day", dt.timedelta(days=1))
    creds = AgentCredentials("analyst-one-day", key, cert, collector.ca_pem)
    channel = collector.channel(creds)
    with pytest.raises(grpc.RpcError) as refused:
        collector_pb2_grpc.CollectorStub(channel).Renew(
            collector_pb2.RenewRequest(csr_pem=identity.build_csr(pki.new_key(), "analyst-one-day")), timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "pki issue-analyst" in refused.value.details()
    assert collector.store.count("certificates") == 1
    query_pb2_grpc.QueryStub(channel).Devices(query_pb2.DevicesRequest(), timeout=10)
    channel.close()


# -- the enrollment limiter --------------------------------------------------------------------------

def test_parallel_wrong_guesses_pass_the_check_at_most_the_limit(collector):
    """64 guesses at once from one address, each on a connection made beforehand, while the
    database is busy (so every guess that passes the check waits there): the check and the count
    are one step, so no more than the limit are tried against the tokens (once 15 of 64 were)."""
    channels = [transport.enrollment_channel(collector.address, ca_pem=collector.ca_pem) for _ in range(64)]
    for channel in channels:
        grpc.channel_ready_future(channel).result(timeout=30)
    start, codes = threading.Barrier(65), []

    def guess(number: int) -> None:
        request = collector_pb2.EnrollRequest(token=f"fwt_guess_{number}", device_id="SN-GUESS",
                                              csr_pem=identity.build_csr(pki.new_key(), "SN-GUESS"))
        start.wait()
        try:
            collector_pb2_grpc.CollectorStub(channels[number]).Enroll(request, timeout=30)
        except grpc.RpcError as error:
            codes.append(error.code())

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(64)]
    with collector.store.transaction():
        for thread in threads:
            thread.start()
        start.wait()
        time.sleep(1)  # lets the calls reach the collector; the outcome does not depend on it
    for thread in threads:
        thread.join()
    for channel in channels:
        channel.close()
    tried = codes.count(grpc.StatusCode.PERMISSION_DENIED)
    assert tried <= RATE_LIMIT and tried + codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 64
    assert len(collector.store.rows("SELECT 1 FROM enrollments WHERE outcome = 'refused'")) == tried


def test_the_limiters_table_is_empty_after_the_window():
    now = [1000.0]
    limiter = enrollment.RateLimiter(limit=3, window=60, clock=lambda: now[0])
    for address in range(500):
        for _ in range(4):
            limiter.admit(f"198.51.100.{address}")
    assert limiter.tracked() == 500 and limiter.admit("198.51.100.1") is None
    now[0] += 61
    assert limiter.tracked() == 0
    ticket = limiter.admit("203.0.113.1")  # an attempt that did not fail leaves nothing behind
    limiter.forgive("203.0.113.1", ticket)
    assert limiter.tracked() == 0
