"""The collector's server certificate over its life: reissued under the same CA (new names, or
renewed before it ends) while agents keep working, warned about ahead of its end, and explained
to an agent that reaches the collector by a name it lacks — and the agent refusing a server
certificate given to it as the CA before it spends its token."""
from __future__ import annotations

import logging
import time

import pytest
from cryptography import x509

from collector_process import cli
from conftest import RunningCollector, make_report
from farmwatch.agent import transport
from farmwatch.agent.identity import IdentityError
from farmwatch.agent.run.enrollment import EnrollParams, enroll
from farmwatch.agent.state import StateDir
from farmwatch.collector import pki


def server_certificate(home) -> x509.Certificate:
    return x509.load_pem_x509_certificate((home / "pki" / "server.crt").read_bytes())


def unused_tokens(collector) -> int:
    return len(collector.store.rows("SELECT 1 FROM tokens WHERE uses = 0"))


def test_issue_server_adds_a_name_under_the_same_ca_and_a_running_collector_uses_it(collector):
    agent = collector.enroll("SN-SAN")
    ca_before = (collector.home / "pki" / "ca.crt").read_bytes()
    result = cli("farmwatch-collector", "--home", collector.home, "pki", "issue-server",
                 "--san", "localhost", "--san", "127.0.0.1", "--san", "fw.example.test")
    assert "fw.example.test" in result.stdout
    assert (collector.home / "pki" / "ca.crt").read_bytes() == ca_before
    assert pki.names_of(server_certificate(collector.home)) == ["localhost", "127.0.0.1", "fw.example.test"]
    channel = transport.mtls_channel(collector.address, ca_pem=agent.ca_pem, key_pem=agent.key_pem,
                                     cert_pem=agent.cert_pem, server_name="fw.example.test")
    with transport.CollectorClient(channel) as client:
        assert client.report(make_report("SN-SAN")).report_id  # the enrolled agent, the new name, no restart


def test_issue_server_without_names_renews_with_the_names_it_has(tmp_path):
    home = tmp_path / "collector"
    cli("farmwatch-collector", "--home", home, "pki", "init", "--san", "fw.example.test", "--san", "10.0.0.5")
    before = server_certificate(home)
    cli("farmwatch-collector", "--home", home, "pki", "issue-server")
    after = server_certificate(home)
    assert pki.names_of(after) == pki.names_of(before) == ["fw.example.test", "10.0.0.5"]
    assert after.serial_number != before.serial_number and after.not_valid_after_utc >= before.not_valid_after_utc


def test_serve_warns_ahead_of_the_server_certificates_end_naming_the_fix(collector_home, caplog):
    ca = pki.CertificateAuthority.load(collector_home / "pki")
    ca.issue_server(["localhost", "127.0.0.1"], lifetime=pki.SERVER_RENEW_BEFORE / 3)
    caplog.set_level(logging.WARNING, logger="farmwatch.collector.server")
    running = RunningCollector(collector_home)
    try:
        for _ in range(100):  # the check runs on a thread of its own as serve starts
            warnings = [r.getMessage() for r in caplog.records if "server_cert_expiring" in r.getMessage()]
            if warnings:
                break
            time.sleep(0.1)
    finally:
        running.stop()
    assert warnings and "days_left=9" in warnings[0] and "pki issue-server" in warnings[0]


def test_an_agent_reaching_the_collector_by_a_name_it_lacks_is_told_the_names_and_the_fix(collector, tmp_path):
    params = EnrollParams(collector=collector.address, token=collector.token(), ca_pem=collector.ca_pem,
                          device_id="SN-NAME", server_name="collector.example.com")
    with pytest.raises(transport.CollectorError) as refused:
        enroll(StateDir(tmp_path / "agent"), params)
    said = str(refused.value)
    assert "not valid for collector.example.com" in said and "it names localhost, 127.0.0.1" in said
    assert "pki issue-server --san collector.example.com --san localhost --san 127.0.0.1" in said
    assert unused_tokens(collector) == 1


def test_a_server_certificate_given_as_the_ca_is_refused_before_the_token_is_sent(collector, tmp_path):
    token = collector.token()
    server_crt = (collector.home / "pki" / "server.crt").read_bytes()
    with pytest.raises(IdentityError, match="server.crt.*the token is still unused"):
        enroll(StateDir(tmp_path / "agent"), EnrollParams(collector=collector.address, token=token,
                                                         ca_pem=server_crt, device_id="SN-CA"))
    result = cli("farmwatch-agent", "--state-dir", tmp_path / "cli", "enroll", "--collector", collector.address,
                 "--token", token, "--ca-cert", collector.home / "pki" / "server.crt", "--device-id", "SN-CA",
                 check=False)
    assert result.returncode == 1 and "HOME/pki/ca.crt" in result.stderr
    assert unused_tokens(collector) == 1 and collector.store.count("enrollments") == 0
