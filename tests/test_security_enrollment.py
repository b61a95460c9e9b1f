"""Enrollment under attack: bad tokens, CSRs that try to choose what is signed, token guessing.

The basics (unknown, expired and used-up tokens, a CSR asking for SANs and CA rights, 12 guesses
from one address) are in test_collector_service; these extend them to revoked tokens, a CSR that
names another role, a forged or foreign-key CSR, hostile device ids, and a rate limit that holds
whatever address a client claims and stays per address behind a trusted proxy.
"""
from __future__ import annotations

import base64
import ipaddress

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import figures
from conftest import RunningCollector, make_report
from db_snapshot import table_counts
from farmwatch.agent import identity, transport
from farmwatch.collector import enrollment, pki
from farmwatch.common.device_id import MAX_DEVICE_ID_LENGTH
from farmwatch.v1 import collector_pb2, collector_pb2_grpc

# on both engines: SQLite and a real PostgreSQL server (conftest `engine`)
pytestmark = pytest.mark.usefixtures("engine")

SECTION = "security: refused enrollments per class"
RATE_LIMIT = enrollment.RateLimiter().limit


def enroll_call(collector, token: str, csr_pem: bytes, device_id: str, forwarded_for: str | None = None):
    """Enroll through the public bootstrap identity; returns the certificate or the status code."""
    request = collector_pb2.EnrollRequest(token=token, csr_pem=csr_pem, device_id=device_id)
    metadata = [("x-forwarded-for", forwarded_for)] if forwarded_for else None
    with transport.enrollment_channel(collector.address, ca_pem=collector.ca_pem) as channel:
        try:
            response = collector_pb2_grpc.CollectorStub(channel).Enroll(request, metadata=metadata, timeout=5)
        except grpc.RpcError as error:
            return error.code()
    return x509.load_pem_x509_certificate(response.certificate_pem)


def good_csr(device_id: str = "SN-E") -> bytes:
    return identity.build_csr(pki.new_key(), device_id)


def assert_refused(collector, expected, *, token, csr_pem, device_id, name: str) -> None:
    before = table_counts(collector.store, ignore=frozenset({"audit", "enrollments"}))  # refusals are logged
    assert enroll_call(collector, token, csr_pem, device_id) == expected
    assert table_counts(collector.store, ignore=frozenset({"audit", "enrollments"})) == before
    figures.count(SECTION, name)


def test_revoked_token_is_refused(collector):
    token = enrollment.create_token(collector.store)
    assert enrollment.revoke_token(collector.store, token.token_id)
    assert_refused(collector, grpc.StatusCode.PERMISSION_DENIED, token=token.secret, csr_pem=good_csr(),
                   device_id="SN-E", name="revoked token")
    assert collector.store.rows("SELECT outcome, detail FROM enrollments")[0]["outcome"] == "refused"


def _csr_with(subject: x509.Name, extensions, key=None) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(key or pki.new_key(), hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_csr_cannot_choose_role_device_id_names_or_key_usage(collector):
    """The CSR claims the analyst role, another device's id (in the subject and as SANs), server
    and code-signing usage and CA rights; the certificate carries only what the collector decides."""
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, pki.ORGANISATION),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, pki.ROLE_ANALYST),
                         x509.NameAttribute(NameOID.COMMON_NAME, "SN-SOMEONE-ELSE")])
    csr = _csr_with(subject, [
        (x509.SubjectAlternativeName([x509.DNSName("SN-SOMEONE-ELSE"), x509.UniformResourceIdentifier(
            "urn:farmwatch:device:SN-SOMEONE-ELSE"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CODE_SIGNING]), False),
        (x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                       encipher_only=False, decipher_only=False), True),
        (x509.BasicConstraints(ca=True, path_length=None), True),
    ])
    cert = enroll_call(collector, collector.token(), csr, "SN-MINE")
    who = pki.identity_of(cert)
    assert (who.subject, who.role) == ("SN-MINE", pki.ROLE_AGENT)
    assert {type(e.value) for e in cert.extensions} == {x509.BasicConstraints, x509.ExtendedKeyUsage,
                                                        x509.AuthorityKeyIdentifier}
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]
    assert collector.store.rows("SELECT subject, role FROM certificates") == [
        {"subject": "SN-MINE", "role": pki.ROLE_AGENT}]


def _forged_signature(csr_pem: bytes) -> bytes:
    der = bytearray(x509.load_pem_x509_csr(csr_pem).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the signature: the CSR no longer proves possession of its key
    body = base64.encodebytes(bytes(der)).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n".encode()


def _rsa_csr() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _csr_with(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SN-E")]), [], key=key)


@pytest.mark.parametrize("name, make_csr", [
    ("forged CSR signature", lambda: _forged_signature(good_csr())),
    ("RSA key in CSR", _rsa_csr),
    ("not a CSR", lambda: b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"),
])
def test_unusable_csr_is_refused_and_keeps_the_token(collector, name, make_csr):
    token = collector.token(uses=1)
    assert_refused(collector, grpc.StatusCode.INVALID_ARGUMENT, token=token, csr_pem=make_csr(),
                   device_id="SN-E", name=name)
    assert isinstance(enroll_call(collector, token, good_csr(), "SN-E"), x509.Certificate)  # use not spent


@pytest.mark.parametrize("device_id", ["", "../../etc/passwd", "SN 1", "-SN", "SN-1\n", "x" * 129, "SN-Ｒ",
                                       "x" * 65, "x" * 128])
def test_hostile_device_id_is_refused(collector, device_id):
    """Including ids longer than a certificate's common name may be (64), which once crashed the
    call with UNKNOWN; the message names the field."""
    assert_refused(collector, grpc.StatusCode.INVALID_ARGUMENT, token=collector.token(), csr_pem=good_csr(),
                   device_id=device_id, name="hostile device id")


def test_longest_certificate_subject_enrolls(collector):
    cert = enroll_call(collector, collector.token(), good_csr(), "X" * MAX_DEVICE_ID_LENGTH)
    assert pki.identity_of(cert).subject == "X" * MAX_DEVICE_ID_LENGTH


def test_renew_with_an_unusable_csr_records_no_certificate(collector):
    creds = collector.enroll("SN-RENEW")
    before = collector.store.count("certificates")
    with collector.client(creds) as client:
        with pytest.raises(transport.CollectorError) as refused:
            client.renew(_rsa_csr())
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert collector.store.count("certificates") == before
    figures.count(SECTION, "renew with RSA CSR")


def test_a_right_token_after_the_limit_is_still_refused(collector):
    """Guessing until the limit, then the real token: a brute force that hits cannot use its hit."""
    real = collector.token()
    for guess in range(RATE_LIMIT):
        assert enroll_call(collector, f"fwt_guess_{guess}", good_csr(), "SN-E") == grpc.StatusCode.PERMISSION_DENIED
    assert enroll_call(collector, real, good_csr(), "SN-E") == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert collector.store.count("certificates") == 0
    assert collector.store.rows("SELECT uses FROM tokens") == [{"uses": 0}]
    figures.count(SECTION, "rate limited (right token after guesses)")


def test_claiming_other_addresses_does_not_escape_the_limit(collector):
    """X-Forwarded-For from a client that is no trusted proxy is ignored: every claimed address
    still counts against the real one."""
    codes = [enroll_call(collector, f"fwt_guess_{i}", good_csr(), "SN-E", forwarded_for=f"198.51.100.{i}")
             for i in range(RATE_LIMIT + 3)]
    assert codes[RATE_LIMIT:] == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 3
    figures.count(SECTION, "rate limited (spoofed X-Forwarded-For)", 3)


@pytest.fixture
def behind_proxy(tmp_path):
    home = tmp_path / "collector"
    pki.CertificateAuthority.create(home / "pki").issue_server(["localhost", "127.0.0.1"])
    running = RunningCollector(home, trusted_proxies=["127.0.0.1/32"])
    yield running
    running.stop()


def test_behind_a_trusted_proxy_the_limit_is_per_client_address(behind_proxy):
    guesser, colleague = "203.0.113.9", "203.0.113.10"
    codes = [enroll_call(behind_proxy, f"fwt_guess_{i}", good_csr(), "SN-E", forwarded_for=guesser)
             for i in range(RATE_LIMIT + 1)]
    assert codes[-1] == grpc.StatusCode.RESOURCE_EXHAUSTED
    cert = enroll_call(behind_proxy, behind_proxy.token(), good_csr("SN-COLLEAGUE"), "SN-COLLEAGUE",
                       forwarded_for=colleague)
    assert isinstance(cert, x509.Certificate)
    assert behind_proxy.store.rows("SELECT peer_ip FROM certificates") == [{"peer_ip": colleague}]
    figures.count(SECTION, "rate limited (one address behind a proxy)")


@pytest.mark.parametrize("forwarded, recorded", [
    ("203.0.113.7", "203.0.113.7"),
    ("203.0.113.7:51234", "203.0.113.7"),
    ("[2001:db8::7]:443", "2001:db8::7"),
    ("2001:db8::7", "2001:db8::7"),
    ("198.51.100.1, 203.0.113.7, 127.0.0.1", "203.0.113.7"),
    ("unknown", "127.0.0.1"),
    ("203.0.113.7, not-an-address", "127.0.0.1"),
    ("<script>", "127.0.0.1"),
])
def test_forwarded_address_is_recorded_only_when_it_is_an_address(behind_proxy, forwarded, recorded):
    cert = enroll_call(behind_proxy, behind_proxy.token(), good_csr(), "SN-FWD", forwarded_for=forwarded)
    assert isinstance(cert, x509.Certificate)
    assert behind_proxy.store.rows("SELECT peer_ip FROM certificates") == [{"peer_ip": recorded}]


def test_garbage_forwarded_addresses_do_not_escape_the_limit(behind_proxy):
    """Each guess claims a different non-address; none of them may become a fresh rate-limit key."""
    codes = [enroll_call(behind_proxy, f"fwt_guess_{i}", good_csr(), "SN-E", forwarded_for=f"host-{i}")
             for i in range(RATE_LIMIT + 1)]
    assert codes[-1] == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_device_id_cannot_forge_log_lines(collector, caplog):
    """The bootstrap identity is public, so whatever an anonymous caller puts in device_id is
    logged quoted: a newline in it cannot start a fake `event=enrolled` line."""
    forged = "SN-1\n2026-11-27 00:00:00,000 INFO farmwatch.collector.server event=enrolled device_id=SN-FAKE"
    with caplog.at_level("INFO", logger="farmwatch.collector.server"):
        assert enroll_call(collector, collector.token(), good_csr(), forged) == grpc.StatusCode.INVALID_ARGUMENT
    messages = [r.getMessage() for r in caplog.records if r.name == "farmwatch.collector.server"]
    assert any("enroll_refused" in m for m in messages)
    assert not any("\n" in m for m in messages)


def test_a_report_cannot_forge_log_lines(collector, caplog):
    creds = collector.enroll("SN-LOG")
    with caplog.at_level("WARNING", logger="farmwatch.collector.server"), collector.client(creds) as client:
        with pytest.raises(transport.CollectorError):
            client.report(make_report("SN-OTHER\n... event=enrolled device_id=SN-FAKE"))
    messages = [r.getMessage() for r in caplog.records if r.name == "farmwatch.collector.server"]
    assert any("report_refused" in m for m in messages) and not any("\n" in m for m in messages)


def test_malformed_requests_do_not_use_up_the_rate_limit(collector):
    """Only token refusals count: an agent retrying with an unusable CSR (checked before the token,
    so it learns nothing about tokens) does not lock every laptop behind its NAT address out."""
    codes = {enroll_call(collector, collector.token(), _rsa_csr(), "SN-E") for _ in range(RATE_LIMIT + 2)}
    assert codes == {grpc.StatusCode.INVALID_ARGUMENT}
    assert isinstance(enroll_call(collector, collector.token(), good_csr(), "SN-E"), x509.Certificate)


def _ed25519_csr() -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SN-E")]))
    return builder.sign(ed25519.Ed25519PrivateKey.generate(), None).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("make_csr, says", [
    (_rsa_csr, "carries an RSA-2048 key"),
    (_ed25519_csr, "carries an Ed25519 key"),
    (lambda: b"", "is not a PEM-encoded certificate request"),
])
def test_unusable_csr_message_names_the_field_and_the_key_wanted(collector, make_csr, says):
    request = collector_pb2.EnrollRequest(token=collector.token(), csr_pem=make_csr(), device_id="SN-E")
    with transport.enrollment_channel(collector.address, ca_pem=collector.ca_pem) as channel:
        with pytest.raises(grpc.RpcError) as error:
            collector_pb2_grpc.CollectorStub(channel).Enroll(request, timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith("csr_pem") and says in error.value.details()
    assert "P-256" in error.value.details() or "BEGIN CERTIFICATE REQUEST" in error.value.details()


def test_csr_with_crlf_line_ends_and_surrounding_blank_lines_is_accepted(collector):
    """What a Windows client or a copy-paste produces."""
    csr = b"\r\n  \r\n" + good_csr().replace(b"\n", b"\r\n") + b"\r\n\r\n"
    assert isinstance(enroll_call(collector, collector.token(), csr, "SN-CRLF"), x509.Certificate)


def test_token_with_surrounding_whitespace_enrolls(collector):
    """A token read from a file keeps its newline; tokens never contain whitespace."""
    assert isinstance(enroll_call(collector, f" {collector.token()}\r\n", good_csr(), "SN-TOK"), x509.Certificate)


def test_empty_token_is_invalid_argument_naming_the_field(collector):
    request = collector_pb2.EnrollRequest(token="  ", csr_pem=good_csr(), device_id="SN-E")
    with transport.enrollment_channel(collector.address, ca_pem=collector.ca_pem) as channel:
        with pytest.raises(grpc.RpcError) as error:
            collector_pb2_grpc.CollectorStub(channel).Enroll(request, timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith("token is empty")
