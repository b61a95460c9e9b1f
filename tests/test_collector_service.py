"""The Collector service over real mTLS: who gets in, what is stored, what is refused."""
from __future__ import annotations

import datetime as dt

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

import certfactory
from conftest import AgentCredentials, make_report
from farmwatch.agent import identity, transport
from farmwatch.collector import enrollment, pki
from farmwatch.v1 import report_pb2


def refused(call) -> transport.CollectorError:
    with pytest.raises(transport.CollectorError) as info:
        call()
    return info.value


# -- reports ----------------------------------------------------------------------------------

def test_enrolled_agent_report_is_stored_once(collector):
    creds = collector.enroll("SN-1001")
    report = make_report("SN-1001")
    with collector.client(creds) as client:
        first = client.report(report)
        again = client.report(report)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert collector.stored_reports() == 1
    device = collector.store.rows("SELECT device_id, reports, last_sequence FROM devices")
    assert device == [{"device_id": "SN-1001", "reports": 1, "last_sequence": 1}]


@pytest.mark.parametrize("spelling", [str.upper, lambda u: "{" + u + "}", lambda u: u.replace("-", ""),
                                      lambda u: "urn:uuid:" + u])
def test_one_report_id_in_another_spelling_is_a_duplicate(collector, spelling):
    """Idempotency is on the UUID, not on how a client's library happens to print it."""
    creds = collector.enroll("SN-1003")
    report = make_report("SN-1003")
    resent = report_pb2.AgentReport()
    resent.CopyFrom(report)
    resent.report_id = spelling(report.report_id)
    with collector.client(creds) as client:
        first, again = client.report(report), client.report(resent)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.report_id == resent.report_id  # the ack names the id as the client sent it
    assert collector.store.rows("SELECT report_id FROM reports") == [{"report_id": report.report_id}]


def test_envelope_keeps_what_the_collector_observed(collector):
    creds = collector.enroll("SN-1002")
    report = make_report("SN-1002")
    with collector.client(creds) as client:
        client.report(report)
    envelope = collector.store.envelope(report.report_id)
    assert envelope["peer_ip"] == "127.0.0.1"
    assert envelope["received_at"].endswith("Z")
    assert envelope["report"]["device_id"] == "SN-1002"
    assert [p["name"] for p in envelope["report"]["processes"]] == ["proc1", "proc2", "proc3"]


def test_device_id_mismatch_is_refused_and_nothing_stored(collector):
    creds_a = collector.enroll("SN-A")
    collector.enroll("SN-B")
    with collector.client(creds_a) as client:
        error = refused(lambda: client.report(make_report("SN-B")))
    assert error.code == grpc.StatusCode.PERMISSION_DENIED
    assert "SN-A" in error.details
    assert collector.stored_reports() == 0


def test_revoked_certificate_is_refused_from_the_next_call(collector):
    creds = collector.enroll("SN-REV")
    with collector.client(creds) as client:
        client.report(make_report("SN-REV", 1))
        assert enrollment.revoke_subject(collector.store, "SN-REV", "laptop reported stolen") == 1
        error = refused(lambda: client.report(make_report("SN-REV", 2)))
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in error.details
    assert collector.stored_reports() == 1


def test_bootstrap_identity_can_only_enroll(collector):
    channel = transport.enrollment_channel(collector.address, ca_pem=collector.ca_pem)
    with transport.CollectorClient(channel) as client:
        error = refused(lambda: client.report(make_report("SN-BOOT")))
        assert error.code == grpc.StatusCode.PERMISSION_DENIED
        error = refused(lambda: client.renew(b"csr"))
        assert error.code == grpc.StatusCode.PERMISSION_DENIED
    assert collector.stored_reports() == 0


def _handshake_refused(collector, key_pem: bytes | None, cert_pem: bytes | None):
    credentials = grpc.ssl_channel_credentials(collector.ca_pem, key_pem, cert_pem)
    channel = grpc.secure_channel(collector.address, credentials)
    with transport.CollectorClient(channel, timeout=5) as client:
        error = refused(lambda: client.report(make_report("SN-X")))
    assert error.code == grpc.StatusCode.UNAVAILABLE  # the TLS handshake itself fails
    assert collector.stored_reports() == 0


def test_no_client_certificate_fails_the_handshake(collector):
    _handshake_refused(collector, None, None)


def test_certificate_from_another_ca_fails_the_handshake(collector, tmp_path):
    creds = certfactory.from_another_ca(collector, tmp_path / "other-ca", "SN-X")
    _handshake_refused(collector, creds.key_pem, creds.cert_pem)


def test_expired_certificate_fails_the_handshake(collector):
    creds = certfactory.valid_for(collector, "SN-X", starts_in=-dt.timedelta(days=10), lasts=dt.timedelta(days=9))
    _handshake_refused(collector, creds.key_pem, creds.cert_pem)


def test_not_yet_valid_certificate_fails_the_handshake(collector):
    creds = certfactory.valid_for(collector, "SN-X", starts_in=dt.timedelta(days=1), lasts=dt.timedelta(days=9))
    _handshake_refused(collector, creds.key_pem, creds.cert_pem)


def test_our_ca_but_unrecorded_certificate_is_refused(collector):
    creds = certfactory.valid_for(collector, "SN-X", starts_in=-dt.timedelta(hours=1), lasts=dt.timedelta(days=1))
    with collector.client(creds) as client:
        error = refused(lambda: client.report(make_report("SN-X")))
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert collector.stored_reports() == 0


def test_oversized_report_is_refused_and_the_server_stays_up(collector):
    creds = collector.enroll("SN-BIG")
    huge = make_report("SN-BIG")
    huge.processes.add(name="x" * (collector.config.max_message_bytes + 1))
    with collector.client(creds) as client:
        error = refused(lambda: client.report(huge))
        assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert client.report(make_report("SN-BIG")).duplicate is False
    assert collector.stored_reports() == 1


def test_report_without_device_id_is_invalid_argument(collector):
    """A malformed report, not an identity problem: PERMISSION_DENIED would tell the agent to keep
    it spooled and re-enroll, for a report that can never be taken."""
    creds = collector.enroll("SN-EMPTY")
    with collector.client(creds) as client:
        error = refused(lambda: client.report(make_report("")))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details.startswith("device_id") and "SN-EMPTY" in error.details
    assert collector.stored_reports() == 0


def test_a_report_the_store_fails_on_is_internal_and_can_be_sent_again(collector):
    """A fault of the collector's own is INTERNAL with advice, not UNKNOWN with a Python traceback
    line; nothing is stored, and the same report is taken once the fault is gone."""
    creds = collector.enroll("SN-FAULT")
    collector.store.conn.execute("CREATE TRIGGER fault BEFORE INSERT ON reports BEGIN SELECT RAISE(ABORT, 'fault'); END")
    report = make_report("SN-FAULT")
    with collector.client(creds) as client:
        error = refused(lambda: client.report(report))
        assert error.code == grpc.StatusCode.INTERNAL and "keep it spooled" in error.details
        assert collector.stored_reports() == 0
        collector.store.conn.execute("DROP TRIGGER fault")
        assert client.report(report).duplicate is False
    assert collector.stored_reports() == 1


def test_enroll_and_renew_the_store_fails_on_are_internal_and_lose_nothing(collector):
    """Enroll and Renew, like Report: the collector's own fault is INTERNAL with what to do, the
    token is not spent, and the call works again once the fault is gone."""
    creds = collector.enroll("SN-EFAULT")
    token = collector.token(uses=1)
    collector.store.conn.execute("CREATE TRIGGER fault BEFORE INSERT ON certificates "
                                 "BEGIN SELECT RAISE(ABORT, 'fault'); END")
    error = refused(lambda: collector.enroll("SN-EFAULT2", token=token))
    assert error.code == grpc.StatusCode.INTERNAL and "token was not spent" in error.details
    key = identity.load_key(collector.home / "agent-SN-EFAULT.key")
    with collector.client(creds) as client:
        error = refused(lambda: client.renew(identity.build_csr(key, "SN-EFAULT")))
        assert error.code == grpc.StatusCode.INTERNAL and "still works" in error.details
        collector.store.conn.execute("DROP TRIGGER fault")
        assert client.renew(identity.build_csr(key, "SN-EFAULT")).certificate_pem
    collector.enroll("SN-EFAULT2", token=token)

def test_malformed_report_id_is_invalid_argument(collector):
    creds = collector.enroll("SN-BAD")
    report = make_report("SN-BAD")
    report.report_id = "not-a-uuid"
    with collector.client(creds) as client:
        error = refused(lambda: client.report(report))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert collector.stored_reports() == 0


@pytest.mark.parametrize("place, part, value", [
    ("collected_at", "seconds", 300_000_000_000),  # after the year 9999
    ("host.boot_time", "seconds", 300_000_000_000),
    ("processes[1].create_time", "seconds", 300_000_000_000),
    ("processes[1].create_time", "nanos", 1_000_000_000),
    ("processes[1].create_time", "nanos", -1),
    ("sessions[0].started_at", "seconds", 300_000_000_000),
    ("sessions[0].started_at", "seconds", -62_135_596_801),  # before the year 1
])
def test_a_time_no_calendar_has_is_invalid_argument_naming_where(collector, place, part, value):
    creds = collector.enroll("SN-TIME")
    report = make_report("SN-TIME")
    for _ in range(2):
        report.processes.add(name="bash").create_time.FromSeconds(1_764_000_000)
    report.sessions.add(user="dev").started_at.FromSeconds(1_764_000_000)
    target = report
    for step in place.split(".")[:-1]:
        name, _, index = step.partition("[")
        target = getattr(target, name)[int(index[:-1])] if index else getattr(target, name)
    setattr(getattr(target, place.split(".")[-1]), part, value)
    with collector.client(creds) as client:
        error = refused(lambda: client.report(report))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details.startswith(f"{place} is not a valid time")
    assert collector.stored_reports() == 0


# -- enrollment -------------------------------------------------------------------------------

def test_enrollment_signs_only_the_public_key(collector):
    key = pki.new_key()
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SN-CHOSEN-BY-AGENT")]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName("collector.example.com")]), critical=False)
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
           .sign(key, hashes.SHA256()))
    request = transport.collector_pb2.EnrollRequest(
        token=collector.token(), csr_pem=csr.public_bytes(pki.serialization.Encoding.PEM), device_id="SN-REAL")
    with transport.CollectorClient(transport.enrollment_channel(collector.address, ca_pem=collector.ca_pem)) as c:
        cert = x509.load_pem_x509_certificate(c.enroll(request).certificate_pem)
    assert pki.identity_of(cert).subject == "SN-REAL"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert pki.issued_by(cert, pki.CertificateAuthority.load(collector.home / "pki").cert)


@pytest.mark.parametrize("make_token, expected", [
    (lambda c: "fwt_unknown_token", "unknown enrollment token"),
    (lambda c: c.token(expires=dt.timedelta(seconds=-1)), "expired"),
])
def test_bad_tokens_are_refused_with_a_reason(collector, make_token, expected):
    error = refused(lambda: collector.enroll("SN-T", token=make_token(collector)))
    assert error.code == grpc.StatusCode.PERMISSION_DENIED
    assert expected in error.details
    assert collector.store.count("certificates") == 0


def test_token_is_used_up(collector):
    token = collector.token(uses=1)
    collector.enroll("SN-U1", token=token)
    error = refused(lambda: collector.enroll("SN-U2", token=token))
    assert "used up" in error.details


def test_reenrollment_needs_a_reenroll_token(collector):
    collector.enroll("SN-RE")
    error = refused(lambda: collector.enroll("SN-RE"))
    assert "--allow-reenroll" in error.details
    collector.enroll("SN-RE", token=collector.token(allow_reenroll=True))
    outcomes = [r["outcome"] for r in collector.store.rows("SELECT outcome FROM enrollments ORDER BY rowid")]
    assert outcomes == ["enrolled", "refused", "enrolled"]


def test_reenrollment_revokes_the_certificate_it_replaces(collector):
    """A re-imaged laptop gets a new identity; the old certificate (on the old disk, or copied to
    another machine) can no longer speak for the device."""
    old = collector.enroll("SN-RE2")
    new = collector.enroll("SN-RE2", token=collector.token(allow_reenroll=True))
    with collector.client(old) as client:
        error = refused(lambda: client.report(make_report("SN-RE2")))
    assert error.code == grpc.StatusCode.UNAUTHENTICATED and "superseded: the device re-enrolled" in error.details
    with collector.client(new) as client:
        assert client.report(make_report("SN-RE2")).duplicate is False
    assert collector.stored_reports() == 1

def test_token_guessing_is_rate_limited(collector):
    codes = [refused(lambda: collector.enroll("SN-G", token=f"fwt_guess_{i}")).code for i in range(12)]  # noqa: B023
    assert codes[:10] == [grpc.StatusCode.PERMISSION_DENIED] * 10
    assert codes[10:] == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 2


def test_renew_gives_a_fresh_certificate_for_the_same_device(collector):
    creds = collector.enroll("SN-REN")
    key = identity.load_key(collector.home / "agent-SN-REN.key")
    with collector.client(creds) as client:
        response = client.renew(identity.build_csr(key, "SOMEONE-ELSE"))
    renewed = x509.load_pem_x509_certificate(response.certificate_pem)
    old = x509.load_pem_x509_certificate(creds.cert_pem)
    assert pki.identity_of(renewed).subject == "SN-REN"
    assert renewed.serial_number != old.serial_number
    fresh = AgentCredentials("SN-REN", creds.key_pem, response.certificate_pem, creds.ca_pem)
    with collector.client(fresh) as client:
        assert client.report(make_report("SN-REN")).duplicate is False


def test_renewing_keeps_the_callers_certificate_and_revokes_older_ones(collector):
    """The agent may not have stored its new certificate when the answer is lost, so the one it
    called with stays valid; the one before that is revoked at the next renewal."""
    first = collector.enroll("SN-REN2")
    key = identity.load_key(collector.home / "agent-SN-REN2.key")
    chain = [first]
    for _ in range(2):
        with collector.client(chain[-1]) as client:
            pem = client.renew(identity.build_csr(key, "SN-REN2")).certificate_pem
        chain.append(AgentCredentials("SN-REN2", first.key_pem, pem, first.ca_pem))
    with collector.client(chain[0]) as client:
        error = refused(lambda: client.report(make_report("SN-REN2")))
    assert error.code == grpc.StatusCode.UNAUTHENTICATED and "superseded: the device renewed" in error.details
    for creds in chain[1:]:
        with collector.client(creds) as client:
            assert client.report(make_report("SN-REN2")).duplicate is False


# -- health and rotation ----------------------------------------------------------------------

def test_health_service_reports_serving(collector):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    creds = collector.enroll("SN-H")
    channel = transport.mtls_channel(collector.address, ca_pem=creds.ca_pem, key_pem=creds.key_pem,
                                     cert_pem=creds.cert_pem)
    response = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service="farmwatch.v1.Collector"), timeout=5)
    channel.close()
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_health_watchers_do_not_take_the_workers_reports_need(collector):
    """More Health/Watch streams than the server has worker threads (anyone can open them with the
    public bootstrap certificate): every watcher is answered and a report still goes through."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    creds = collector.enroll("SN-W")
    with transport.enrollment_channel(collector.address, ca_pem=collector.ca_pem) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        watches = [health.Watch(health_pb2.HealthCheckRequest(), timeout=10)
                   for _ in range(collector.config.workers + 4)]
        assert {next(watch).status for watch in watches} == {health_pb2.HealthCheckResponse.SERVING}
        with collector.client(creds) as client:
            client.timeout = 5
            assert client.report(make_report("SN-W")).duplicate is False
        for watch in watches:
            watch.cancel()


def test_server_certificate_rotates_without_restart(collector):
    ca = pki.CertificateAuthority.load(collector.home / "pki")
    before = ca.server_credentials_pem()[1]
    ca.issue_server(["localhost", "127.0.0.1"])
    assert ca.server_credentials_pem()[1] != before
    creds = collector.enroll("SN-ROT")  # a new connection: the handshake uses the new certificate
    with collector.client(creds) as client:
        assert client.report(make_report("SN-ROT")).duplicate is False


def test_report_proto_has_every_contract_field():
    contract = {
        "AgentReport": "report_id device_id sequence collected_at host processes applications usb_devices "
                       "displays network sessions probe_errors",
        "Host": "hostname os os_version arch agent_version serial_number hardware_model boot_time timezone "
                "utc_offset_minutes locale keyboard_layouts",
        "Process": "pid ppid name exe cmdline username create_time signer",
        "Application": "name version path bundle_id publisher signer source",
        "UsbDevice": "vendor_id product_id manufacturer product serial device_class bcd_device speed_mbps "
                     "bus_path interfaces",
        "UsbInterface": "interface_class interface_subclass interface_protocol driver",
        "Display": "connector manufacturer_id product_code serial_number monitor_name width_mm height_mm "
                   "built_in edid",
        "Network": "interfaces default_gateway wifi dns_servers ip_forwarding connections listeners",
        "NetworkInterface": "name mac addresses is_up kind",
        "Gateway": "ip mac interface",
        "Wifi": "ssid bssid",
        "Connection": "local_ip local_port remote_ip remote_port status pid process_name",
        "Listener": "ip port protocol pid process_name",
        "Session": "user terminal remote_host started_at",
    }
    for message, names in contract.items():
        fields = set(getattr(report_pb2, message).DESCRIPTOR.fields_by_name)
        assert set(names.split()) <= fields, message


def test_concurrent_enrollments_all_succeed(collector):
    from concurrent.futures import ThreadPoolExecutor

    token = collector.token(uses=16)
    with ThreadPoolExecutor(8) as pool:
        enrolled = list(pool.map(lambda i: collector.enroll(f"SN-PAR-{i}", token=token).device_id, range(16)))
    assert sorted(enrolled) == sorted(f"SN-PAR-{i}" for i in range(16))
    assert collector.store.count("certificates") == 16


def test_successful_enrollments_do_not_count_against_the_rate_limit(collector):
    token = collector.token(uses=15)
    for i in range(15):  # more than the 10 failures an address may have per minute
        collector.enroll(f"SN-NAT-{i}", token=token)
    assert collector.store.count("certificates") == 15


# -- allow-list groups come from the MDM roster ---------------------------------------------

def test_allow_list_groups_follow_the_roster_department(collector_home, tmp_path):
    from conftest import RunningCollector, scenario_report
    from farmwatch.collector import roster

    helpdesk_only = [{"tool": "teamviewer", "path": "C:\\Program Files\\TeamViewer\\*", "groups": ["Help Desk"]}]
    running = RunningCollector(collector_home, allow=helpdesk_only)
    try:
        csv = tmp_path / "roster.csv"
        csv.write_text("serial,email,department\nHD0001A,ann@example.com,Help Desk\nSA0001A,bo@example.com,Sales\n")
        roster.import_roster(running.store, roster.parse(csv, "csv"))
        verdicts = {}
        for serial in ("HD0001A", "SA0001A", "NR0001A"):  # help desk, sales, not on the roster
            with running.client(running.enroll(serial)) as client:
                client.report(scenario_report("allowlisted/win_teamviewer_helpdesk", serial))
            verdicts[serial] = running.store.rows(
                "SELECT verdict FROM devices WHERE device_id = ?", [serial])[0]["verdict"]
    finally:
        running.stop()
    assert verdicts["HD0001A"] == "clean"
    assert verdicts["SA0001A"] != "clean" and verdicts["NR0001A"] != "clean"
