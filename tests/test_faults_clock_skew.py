"""An agent whose clock is hours off: its reports are accepted with the skew recorded, and
certificates hold within the documented tolerance (pki.CLOCK_SKEW_TOLERANCE) and not beyond."""
from __future__ import annotations

import datetime as dt
import ipaddress
import sqlite3

import pytest
from cryptography import x509
from cryptography.x509 import verification

import figures
from agent_fleet import provision, scanner_for
from conftest import make_report
from farmwatch.agent import run as runner
from farmwatch.agent.identity import read_certificate_info
from farmwatch.collector import pki
from farmwatch.collector.ingest import Store

HOURS_OFF = 5
MINUTE = dt.timedelta(minutes=1)


def skewed_scanner(device_id: str, offset: dt.timedelta):
    """The agent's clock runs `offset` from true time: its reports say so in collected_at."""
    scan = scanner_for(device_id)

    def scanner(sysroot=None):
        report = scan(sysroot)
        report.collected_at.FromDatetime(pki.utcnow() + offset)
        return report
    return scanner


@pytest.mark.parametrize("offset_hours", [-HOURS_OFF, HOURS_OFF])
def test_report_from_a_skewed_clock_is_accepted_with_the_skew_recorded(collector, tmp_path, offset_hours):
    device_id = f"SN-SKEW{offset_hours:+d}"
    [state] = provision(collector.home, collector.address, tmp_path / "agents", [device_id])
    offset = dt.timedelta(hours=offset_hours)
    agent = runner.Agent(state, skewed_scanner(device_id, offset), timeout=5)
    try:
        result = runner.run_once(agent)
    finally:
        agent.close()
    assert result.delivered
    [row] = collector.store.rows("SELECT r.clock_skew_seconds AS report_skew, r.replay, "
                                 "d.clock_skew_seconds AS device_skew FROM reports r "
                                 "JOIN devices d USING (device_id) WHERE r.report_id = ?", (result.report_id,))
    assert row["replay"] == 0
    assert row["report_skew"] == row["device_skew"]
    assert row["report_skew"] == pytest.approx(-offset.total_seconds(), abs=60)
    figures.note("faults: clock skew", f"recorded skew seconds, agent clock {offset_hours:+d} h",
                 round(row["report_skew"]))


def test_report_without_collected_at_has_no_skew(collector):
    creds = collector.enroll("SN-NO-TIME")
    report = make_report("SN-NO-TIME")
    report.ClearField("collected_at")
    with collector.client(creds) as client:
        client.report(report)
    assert collector.store.rows("SELECT clock_skew_seconds FROM reports") == [{"clock_skew_seconds": None}]


def test_existing_database_gains_the_skew_column(tmp_path):
    path = tmp_path / "old.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as conn:  # as schema 3 left it
        for table in ("reports", "devices"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN clock_skew_seconds")
        conn.execute("PRAGMA user_version=3")
    store = Store(path)
    try:
        for table in ("reports", "devices"):
            assert "clock_skew_seconds" in store.db[table].columns_dict
    finally:
        store.close()


def valid_at(cert: x509.Certificate, ca: x509.Certificate, at: dt.datetime, server_ip: str | None = None) -> bool:
    """Chain, signature and validity window checked at `at`, as a peer whose clock reads `at` would.
    Our client certificates carry no subject alternative name, which the web-PKI default demands."""
    builder = verification.PolicyBuilder().store(verification.Store([ca])).time(at)
    if server_ip:
        verifier = builder.build_server_verifier(verification.IPAddress(ipaddress.ip_address(server_ip)))
    else:
        verifier = builder.extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                                              ee_policy=verification.ExtensionPolicy.permit_all()
                                              ).build_client_verifier()
    try:
        verifier.verify(cert, [])
    except verification.VerificationError:
        return False
    return True


def test_fresh_certificate_validates_for_a_clock_behind_by_up_to_the_tolerance(collector, tmp_path):
    """A certificate issued now is already valid on a laptop whose clock runs behind by less than
    the tolerance (its start is backdated), and not on one further behind."""
    [state] = provision(collector.home, collector.address, tmp_path / "agents", ["SN-SKEW-CERT"])
    cert = x509.load_pem_x509_certificate(state.certificate.read_bytes())
    ca = x509.load_pem_x509_certificate(collector.ca_pem)
    now, tolerance = pki.utcnow(), pki.CLOCK_SKEW_TOLERANCE
    assert valid_at(cert, ca, now)
    assert valid_at(cert, ca, now - tolerance + MINUTE)
    assert not valid_at(cert, ca, now - tolerance - MINUTE)
    info = read_certificate_info(state.certificate)
    assert not info.expired(now + dt.timedelta(hours=HOURS_OFF))  # a clock hours ahead: still in date
    assert not info.renew_due(now + dt.timedelta(hours=HOURS_OFF))
    figures.note("faults: clock skew", "certificate backdating tolerance seconds", int(tolerance.total_seconds()))


def test_server_certificate_validates_for_a_clock_behind_by_up_to_the_tolerance(collector):
    server = x509.load_pem_x509_certificate((collector.home / "pki" / "server.crt").read_bytes())
    ca = x509.load_pem_x509_certificate(collector.ca_pem)
    now = pki.utcnow()
    assert valid_at(server, ca, now - pki.CLOCK_SKEW_TOLERANCE + MINUTE, server_ip="127.0.0.1")
    assert not valid_at(server, ca, now - pki.CLOCK_SKEW_TOLERANCE - MINUTE, server_ip="127.0.0.1")
