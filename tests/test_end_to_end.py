"""The README's path with the real commands: pki init → token → serve → enroll → run → rows in SQLite."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from collector_process import Collector, cli
from conftest import make_report


@pytest.fixture
def setup(tmp_path):
    home, state = tmp_path / "collector", tmp_path / "agent"
    cli("farmwatch-collector", "--home", home, "pki", "init")
    token = cli("farmwatch-collector", "--home", home, "token", "create").stdout.strip().splitlines()[-1]
    server = Collector(home)
    server.start()
    yield server, state, token
    if server.running():
        server.stop()


def enroll(server: Collector, state: Path, token: str, device_id: str = "E2E-LAPTOP-01"):
    return cli("farmwatch-agent", "--state-dir", state, "enroll", "--collector", server.address,
               "--token", token, "--ca-cert", server.home / "pki" / "ca.crt", "--device-id", device_id)


def status(state: Path) -> dict:
    return json.loads(cli("farmwatch-agent", "--state-dir", state, "status", "--json").stdout)


def test_enroll_report_and_rows_in_sqlite(setup):
    server, state, token = setup
    enroll(server, state, token)
    cli("farmwatch-agent", "--state-dir", state, "run", "--once")
    assert server.sql("SELECT device_id, reports FROM devices") == [("E2E-LAPTOP-01", 1)]
    assert server.sql("SELECT count(*) FROM reports WHERE peer_ip = '127.0.0.1'") == [(1,)]
    assert server.sql("SELECT count(*) FROM processes")[0][0] > 0
    assert server.stop() == 0
    assert "event=stopped" in server.log


def test_key_and_state_are_owner_only(setup):
    server, state, token = setup
    enroll(server, state, token)
    assert (state / "agent.key").stat().st_mode & 0o777 == 0o600
    assert state.stat().st_mode & 0o777 == 0o700


def test_collector_down_then_back_every_report_arrives_once(setup):
    server, state, token = setup
    enroll(server, state, token)
    assert server.stop() == 0
    for _ in range(3):
        cli("farmwatch-agent", "--state-dir", state, "run", "--once")  # exit 0: safely spooled
    assert status(state)["spool_depth"] == 3
    server.start()
    cli("farmwatch-agent", "--state-dir", state, "run", "--once")
    assert status(state)["spool_depth"] == 0
    rows = server.sql("SELECT sequence FROM reports ORDER BY sequence")
    assert rows == [(1,), (2,), (3,), (4,)]


def test_sigterm_lets_in_flight_reports_finish(setup, tmp_path):
    from farmwatch.agent import identity, transport

    server, _, token = setup
    key = identity.load_or_create_key(tmp_path / "k.pem")
    request = transport.collector_pb2.EnrollRequest(
        token=token, csr_pem=identity.build_csr(key, "E2E-SIGTERM"), device_id="E2E-SIGTERM")
    ca = (server.home / "pki" / "ca.crt").read_bytes()
    with transport.CollectorClient(transport.enrollment_channel(server.address, ca_pem=ca)) as client:
        cert = client.enroll(request).certificate_pem
    acked, stop = [], threading.Event()

    def send(worker: int):
        channel = transport.mtls_channel(server.address, ca_pem=ca, key_pem=(tmp_path / "k.pem").read_bytes(),
                                         cert_pem=cert)
        with transport.CollectorClient(channel, timeout=10) as client:
            seq = worker * 100_000
            while not stop.is_set():
                seq += 1
                report = make_report("E2E-SIGTERM", seq, processes=100)
                try:
                    client.report(report)
                except transport.CollectorError:
                    return
                acked.append(report.report_id)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    while len(acked) < 20:
        threading.Event().wait(0.01)
    assert server.stop() == 0
    stop.set()
    for t in threads:
        t.join()
    stored = {row[0] for row in server.sql("SELECT report_id FROM reports")}
    assert set(acked) <= stored
