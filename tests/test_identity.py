"""The agent's key, CSR and certificate reading; the state dir and its config files."""
from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from farmwatch.agent import identity
from farmwatch.agent.state import (
    AgentConfig, Bootstrap, ConfigError, SpoolBounds, StateDir, default_state_dir,
)
from farmwatch.collector import pki
from farmwatch.common.clock import utcnow
from farmwatch.common.device_id import valid_device_id


@pytest.fixture
def ca(tmp_path) -> pki.CertificateAuthority:
    return pki.CertificateAuthority.create(tmp_path / "pki")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_is_p256_pkcs8_and_owner_only_from_the_start(tmp_path):
    path = tmp_path / "agent.key"
    old_umask = os.umask(0)  # a permissive umask must not matter: the file is made 0600
    try:
        key = identity.load_or_create_key(path)
    finally:
        os.umask(old_umask)
    assert mode(path) == 0o600
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8, unencrypted
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    loaded = serialization.load_pem_private_key(pem, None)
    assert loaded.private_numbers() == key.private_numbers()


def test_existing_key_is_reused_not_replaced(tmp_path):
    path = tmp_path / "agent.key"
    first = identity.load_or_create_key(path)
    again = identity.load_or_create_key(path)
    assert again.private_numbers() == first.private_numbers()


def test_garbage_key_file_is_a_clear_error(tmp_path):
    path = tmp_path / "agent.key"
    path.write_bytes(b"not a key")
    path.chmod(0o600)
    with pytest.raises(identity.IdentityError, match="enroll again"):
        identity.load_key(path)


def test_csr_names_the_device_and_carries_our_key(tmp_path):
    key = identity.load_or_create_key(tmp_path / "agent.key")
    csr = x509.load_pem_x509_csr(identity.build_csr(key, "C02XK1ZJJG5H"))
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "C02XK1ZJJG5H"
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()
    assert pki.csr_public_key(identity.build_csr(key, "X1")) is not None  # what the collector accepts


@pytest.mark.parametrize("device_id, ok", [
    ("C02XK1ZJJG5H", True), ("PF-3ABC12", True), ("VMware-56 4d", False), ("", False),
    ("-leading-dash", False), ("A" * 64, True), ("A" * 65, False), ("serial/with:odd.chars", True),
])
def test_device_id_rule(device_id, ok):
    assert valid_device_id(device_id) is ok  # one rule (farmwatch.common) for agent and collector


def issued(ca, tmp_path, device_id="SN-1", lifetime=dt.timedelta(days=30)):
    key = identity.load_or_create_key(tmp_path / f"{device_id}.key")
    cert = ca.sign_csr(identity.build_csr(key, device_id), subject=device_id, role=pki.ROLE_AGENT,
                       lifetime=lifetime)
    return key, pki.cert_pem(cert)


def test_certificate_info_reads_device_id_and_validity(ca, tmp_path):
    _, pem = issued(ca, tmp_path, "SN-7")
    info = identity.certificate_info(identity.parse_certificate(pem))
    assert info.device_id == "SN-7"
    assert info.not_after - info.not_before >= dt.timedelta(days=30)
    assert 29.9 < info.days_left(utcnow()) <= 30


def test_renew_is_due_when_a_third_of_the_lifetime_is_left():
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    info = identity.CertificateInfo("SN-1", "01", start, start + dt.timedelta(days=30))
    assert not info.renew_due(start + dt.timedelta(days=19, hours=23))  # 10 days 1 hour left
    assert info.renew_due(start + dt.timedelta(days=20))                 # exactly 10 days left
    assert info.renew_due(start + dt.timedelta(days=29))
    assert not info.expired(start + dt.timedelta(days=29, hours=23))
    assert info.expired(start + dt.timedelta(days=30))


def test_issued_certificate_is_checked_against_key_ca_and_device(ca, tmp_path):
    key, pem = issued(ca, tmp_path, "SN-1")
    other_key = identity.load_or_create_key(tmp_path / "other.key")
    other_ca = pki.CertificateAuthority.create(tmp_path / "other-pki")
    assert identity.check_issued_certificate(pem, key=key, ca_pem=ca.cert_pem, device_id="SN-1").device_id == "SN-1"
    with pytest.raises(identity.IdentityError, match="different key"):
        identity.check_issued_certificate(pem, key=other_key, ca_pem=ca.cert_pem, device_id="SN-1")
    with pytest.raises(identity.IdentityError, match="pinned CA"):
        identity.check_issued_certificate(pem, key=key, ca_pem=other_ca.cert_pem, device_id="SN-1")
    with pytest.raises(identity.IdentityError, match="SN-2"):
        identity.check_issued_certificate(pem, key=key, ca_pem=ca.cert_pem, device_id="SN-2")


# -- state dir ----------------------------------------------------------------------------------

def test_state_dir_is_created_owner_only_and_tightened(tmp_path):
    state = StateDir(tmp_path / "deep" / "state")
    state.ensure()
    assert mode(state.root) == 0o700
    state.root.chmod(0o755)
    state.ensure()
    assert mode(state.root) == 0o700


def test_default_state_dir_prefers_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FARMWATCH_STATE_DIR", str(tmp_path / "from-env"))
    assert default_state_dir() == tmp_path / "from-env"
    monkeypatch.delenv("FARMWATCH_STATE_DIR")
    expected = "/var/lib/farmwatch" if os.geteuid() == 0 else "farmwatch"
    assert str(default_state_dir()).endswith(expected)


def test_config_round_trips_through_toml(tmp_path):
    state = StateDir(tmp_path)
    config = AgentConfig(collector="[::1]:8443", device_id='odd "id" \\ ünï', server_name="collector",
                         report_interval_seconds=120, enrolled_at="2026-01-01T00:00:00+00:00",
                         spool=SpoolBounds(max_reports=10, max_age_days=1.5, max_bytes=4096))
    state.save_config(config)
    assert mode(state.config_file) == 0o600
    assert state.load_config() == config


def test_config_with_unknown_keys_names_the_file(tmp_path):
    state = StateDir(tmp_path)
    state.config_file.write_text('collector = "a:1"\ndevice_id = "X"\ncolour = "blue"\n')
    with pytest.raises(ConfigError, match="agent.toml"):
        state.load_config()


@pytest.mark.parametrize("text, missing", [("", "collector and device_id"), ('collector = "a:1"\n', "device_id")])
def test_an_emptied_config_says_to_enroll_again(tmp_path, text, missing):
    state = StateDir(tmp_path)
    state.config_file.write_text(text)
    with pytest.raises(ConfigError, match=f"lacks {missing}: .*enroll again"):
        state.load_config()


def test_the_interval_a_collector_asks_for_has_a_floor():
    from farmwatch.agent import run as runner

    assert [runner.collector_interval(s) for s in (1, 59, 60, 300)] == [60, 60, 60, 300]


def test_bootstrap_file_resolves_ca_next_to_it(tmp_path):
    state = StateDir(tmp_path)
    assert state.load_bootstrap() is None
    state.bootstrap_file.write_text('collector = "c.example:8443"\nca_cert = "ca.pem"\ntoken = "t"\n')
    assert state.load_bootstrap() == Bootstrap(collector="c.example:8443", ca_cert=tmp_path / "ca.pem", token="t")
    state.bootstrap_file.write_text('collector = "c.example:8443"\n')
    with pytest.raises(ConfigError, match="ca_cert, token"):
        state.load_bootstrap()
