"""The agent against a real collector over mTLS on 127.0.0.1: enrollment, delivery, refusals,
renewal; plus the backoff and error-sorting rules."""
from __future__ import annotations

import datetime as dt
import json
import random
import stat
import threading
import time

import grpc
import pytest
from conftest import RunningCollector, make_report
from sysroot_builder import SysrootBuilder

from farmwatch.agent import cli, run as runner
from farmwatch.agent.identity import read_certificate_info
from farmwatch.agent.state import StateDir
from farmwatch.agent.transport import (
    MAX_CHOKED_ATTEMPTS, CollectorError, Disposition, check_address, classify,
)
from farmwatch.collector import enrollment, pki
from farmwatch.common.backoff import Backoff

DEVICE = "SN-AGENT-1"


def scanner(processes: int = 3):
    return lambda sysroot: make_report(DEVICE, processes=processes)


def enroll(state: StateDir, collector: RunningCollector, device_id: str = DEVICE) -> StateDir:
    runner.enroll(state, runner.EnrollParams(collector.address, collector.token(), collector.ca_pem, device_id))
    return state


@pytest.fixture
def agent(tmp_path, collector):
    made = runner.Agent(enroll(StateDir(tmp_path / "state"), collector), scanner=scanner())
    yield made
    made.close()


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- rules --------------------------------------------------------------------------------------

def test_backoff_grows_exponentially_within_full_jitter_and_cap():
    backoff = Backoff(base=1.0, factor=2.0, cap=30.0, rng=random.Random(7))
    ceilings, delays = [], []
    for _ in range(10):
        ceilings.append(backoff.ceiling())
        delays.append(backoff.next_delay())
    assert ceilings == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30]
    assert all(0 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings))
    backoff.reset()
    assert backoff.ceiling() == 1


def test_backoff_survives_a_collector_down_for_days():
    backoff = Backoff(cap=120.0, rng=random.Random(5))
    delays = [backoff.next_delay() for _ in range(5000)]  # ~3 days of failures at 60 s on average
    assert backoff.ceiling() == 120.0 and max(delays) <= 120.0


def test_backoff_jitter_spreads_over_the_whole_window():
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(1))
    backoff.failures = 10
    delays = [backoff.next_delay() for _ in range(500)]
    assert max(delays) <= 8.0
    assert min(delays) < 1.0 and max(delays) > 7.0  # full jitter, not ±20 % around the ceiling


def test_report_interval_jitter_stays_within_ten_percent():
    rng = random.Random(3)
    waits = [runner.jittered(300.0, rng) for _ in range(1000)]
    assert 270.0 <= min(waits) < 275.0 and 325.0 < max(waits) <= 330.0


@pytest.mark.parametrize("code, disposition", [
    (grpc.StatusCode.UNAVAILABLE, Disposition.RETRY),
    (grpc.StatusCode.DEADLINE_EXCEEDED, Disposition.RETRY),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, Disposition.RETRY),
    (grpc.StatusCode.INTERNAL, Disposition.RETRY),
    (grpc.StatusCode.UNKNOWN, Disposition.RETRY),
    (grpc.StatusCode.INVALID_ARGUMENT, Disposition.REJECT),
    (grpc.StatusCode.FAILED_PRECONDITION, Disposition.REJECT),
    (grpc.StatusCode.PERMISSION_DENIED, Disposition.IDENTITY),
    (grpc.StatusCode.UNAUTHENTICATED, Disposition.IDENTITY),
])
def test_status_codes_are_sorted_by_what_to_do(code, disposition):
    assert classify(code) is disposition


def test_only_answers_count_against_a_report():
    assert not CollectorError(grpc.StatusCode.UNAVAILABLE, "connection refused").collector_answered
    assert CollectorError(grpc.StatusCode.RESOURCE_EXHAUSTED, "too big").collector_answered


@pytest.mark.parametrize("address", ["collector.example.com:8443", "127.0.0.1:1", "[::1]:7443"])
def test_addresses_accepted(address):
    assert check_address(address) == address


@pytest.mark.parametrize("address", ["collector", "host:", "host:0", "host:70000", "http://h:1", "::1:80", ""])
def test_addresses_refused(address):
    with pytest.raises(ValueError, match="HOST:PORT"):
        check_address(address)


# -- enrollment ---------------------------------------------------------------------------------

def test_enroll_stores_an_owner_only_identity(tmp_path, collector):
    state = enroll(StateDir(tmp_path / "state"), collector)
    assert state.is_enrolled()
    assert stat.S_IMODE(state.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(state.key.stat().st_mode) == 0o600
    assert read_certificate_info(state.certificate).device_id == DEVICE
    assert state.ca_certificate.read_bytes() == collector.ca_pem
    config = state.load_config()
    assert (config.collector, config.device_id) == (collector.address, DEVICE)
    assert config.report_interval_seconds == collector.config.report_interval_seconds


def test_enroll_trusts_only_the_pinned_ca(tmp_path, collector):
    stranger = pki.CertificateAuthority.create(tmp_path / "stranger")
    state = StateDir(tmp_path / "state")
    params = runner.EnrollParams(collector.address, collector.token(), stranger.cert_pem, DEVICE)
    with pytest.raises(CollectorError) as refused:
        runner.enroll(state, params, timeout=5)
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    assert not state.is_enrolled()


def test_enroll_with_an_unknown_token_is_refused(tmp_path, collector):
    state = StateDir(tmp_path / "state")
    with pytest.raises(CollectorError) as refused:
        runner.enroll(state, runner.EnrollParams(collector.address, "made-up", collector.ca_pem, DEVICE))
    assert refused.value.disposition is Disposition.IDENTITY
    assert not state.is_enrolled()


def cli_enroll(capsys, state_dir, collector, token, *extra):
    ca_file = state_dir.parent / "ca.crt"
    ca_file.write_bytes(collector.ca_pem)
    code = cli.main(["-q", "--state-dir", str(state_dir), "enroll", "--collector", collector.address,
                     "--token", token, "--ca-cert", str(ca_file), "--device-id", DEVICE, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_enroll_then_refuses_to_enroll_twice(tmp_path, capsys, collector):
    code, out, _ = cli_enroll(capsys, tmp_path / "state", collector, collector.token())
    assert code == 0 and out.startswith(f"enrolled {DEVICE} with {collector.address}")
    code, _, err = cli_enroll(capsys, tmp_path / "state", collector, collector.token())
    assert code == cli.EXIT_FAILURE and "already enrolled" in err and "--force" in err


def test_cli_enroll_bad_token_says_what_to_do_in_one_line(tmp_path, capsys, collector):
    code, out, err = cli_enroll(capsys, tmp_path / "state", collector, "not-a-real-token")
    assert code == cli.EXIT_FAILURE and out == ""
    [complaint] = [line for line in err.splitlines() if line.startswith("farmwatch-agent: error")]
    assert complaint == ("farmwatch-agent: error: the collector refused the enrollment token: unknown enrollment "
                         "token; ask IT for a current one (`farmwatch-collector token create`)")  # advice once


def test_cli_enroll_unreachable_collector(tmp_path, capsys, collector):
    collector.address = f"127.0.0.1:{closed_port()}"
    code, _, err = cli_enroll(capsys, tmp_path / "state", collector, "token")
    assert code == cli.EXIT_UNREACHABLE and "cannot reach the collector" in err


def test_bootstrap_file_enrolls_without_an_operator(tmp_path, collector):
    state = StateDir(tmp_path / "state")
    write_bootstrap(state, collector, device_id=DEVICE)
    config = runner.enroll_from_bootstrap(state)
    assert config.device_id == DEVICE and state.is_enrolled()


def laptop_sysroot(tmp_path, serial: str) -> str:
    builder = SysrootBuilder(tmp_path / "sysroot")
    builder.host(hostname="laptop", pretty_name="Ubuntu 24.04 LTS", serial=serial, vendor="LENOVO",
                 product="21HD", timezone="Europe/Berlin", locale="de_DE.UTF-8", xkb_layout="de")
    return str(builder.root)


def write_bootstrap(state: StateDir, collector: RunningCollector, device_id: str = "") -> None:
    state.ensure()
    (state.root / "collector-ca.pem").write_bytes(collector.ca_pem)
    state.bootstrap_file.write_text(
        f'collector = "{collector.address}"\nca_cert = "collector-ca.pem"\ntoken = "{collector.token()}"\n'
        + (f'device_id = "{device_id}"\n' if device_id else "")
    )


def test_cli_run_once_enrolls_from_bootstrap_with_the_hardware_serial(tmp_path, capsys, collector):
    state = StateDir(tmp_path / "state")
    write_bootstrap(state, collector)
    sysroot = laptop_sysroot(tmp_path, "PF-4BK2X9")
    code = cli.main(["-q", "--state-dir", str(state.root), "run", "--once", "--sysroot", sysroot])
    out, _ = capsys.readouterr()
    assert code == cli.EXIT_OK and json.loads(out)["delivered"] is True
    assert state.load_config().device_id == "PF-4BK2X9"
    assert collector.stored_reports() == 1


def test_bootstrap_without_serial_or_device_id_says_what_to_add(tmp_path, collector):
    state = StateDir(tmp_path / "state")
    write_bootstrap(state, collector)
    with pytest.raises(ValueError, match="device_id in .*bootstrap.toml"):
        runner.enroll_from_bootstrap(state, sysroot=laptop_sysroot(tmp_path, ""))


# -- delivery -----------------------------------------------------------------------------------

def test_run_once_delivers_over_mtls(agent, collector):
    first = runner.run_once(agent)
    second = runner.run_once(agent)
    assert (first.delivered, first.sequence, second.sequence) == (True, 1, 2)
    assert second.pending == 0 and second.error == ""
    assert collector.stored_reports() == 2
    assert agent.spool.stats().last_delivery_at is not None


def test_cli_run_once_exit_codes_follow_the_collector(tmp_path, capsys, collector):
    assert cli_enroll(capsys, tmp_path / "state", collector, collector.token())[0] == cli.EXIT_OK
    run = ["-q", "--state-dir", str(tmp_path / "state"), "run", "--once",
           "--sysroot", laptop_sysroot(tmp_path, "PF-IGNORED")]
    assert cli.main(run) == cli.EXIT_OK
    enrollment.revoke_subject(collector.store, DEVICE)
    assert cli.main(run) == cli.EXIT_IDENTITY_REFUSED
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["delivered"], r["spooled"]) for r in results] == [(True, False), (False, True)]
    assert collector.stored_reports() == 1


def test_report_the_collector_rejects_is_dropped_and_counted(agent, collector):
    malformed = make_report(DEVICE)
    malformed.report_id = "not-a-uuid"  # the collector answers INVALID_ARGUMENT
    agent.spool.put(malformed)
    result = runner.run_once(agent)
    assert result.delivered and result.sent == 1 and result.pending == 0
    assert agent.spool.dropped_since_last_delivery() == 1
    assert agent.spool.stats().dropped_total == 1
    assert runner.collect(agent).agent_stats.spool_dropped == 1  # the next report tells


def test_revoked_certificate_keeps_reports_spooled(agent, collector):
    enrollment.revoke_subject(collector.store, DEVICE, "laptop reported stolen")
    result = runner.run_once(agent)
    assert result.identity_refused and result.spooled and not result.delivered
    assert result.pending == 1 and collector.stored_reports() == 0


@pytest.fixture
def choking_collector(collector_home):
    """A real collector whose message limit is below a 2000-process report."""
    running = RunningCollector(collector_home, max_message_bytes=32 * 1024)
    yield running
    running.stop()


@pytest.fixture
def choking_agent(tmp_path, choking_collector):
    made = runner.Agent(enroll(StateDir(tmp_path / "state"), choking_collector), scanner=scanner(processes=2000))
    yield made
    made.close()


def test_a_report_the_collector_chokes_on_stops_blocking_the_queue(choking_agent, choking_collector):
    agent = choking_agent
    runner.collect(agent)
    outcome = runner.drain(agent)  # alone in the outbox: nothing to compare with, nobody blamed
    assert outcome.error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert agent.spool.pending(1)[0].attempts == 0
    agent.scanner = scanner()
    for cycle in range(1, MAX_CHOKED_ATTEMPTS + 1):
        assert runner.run_once(agent).delivered  # the small report behind the big one goes through
        if cycle < MAX_CHOKED_ATTEMPTS:
            assert agent.spool.pending(1)[0].attempts == cycle
    assert agent.spool.depth() == 0 and agent.spool.stats().dropped_total == 1
    assert choking_collector.stored_reports() == MAX_CHOKED_ATTEMPTS


def test_a_collector_that_chokes_on_everything_costs_no_report(choking_agent):
    for _ in range(2):
        runner.collect(choking_agent)
    for _ in range(MAX_CHOKED_ATTEMPTS + 1):
        assert runner.drain(choking_agent).error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert [entry.attempts for entry in choking_agent.spool.pending(10)] == [0, 0]


@pytest.mark.parametrize("code, details, about_load", [
    (grpc.StatusCode.RESOURCE_EXHAUSTED, "the collector is busy; retry with backoff", True),
    (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded", True),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max (40000 vs. 32768)", False),
    (grpc.StatusCode.INTERNAL, "the collector failed to store this report", False),
])
def test_load_answers_never_count_against_the_report_that_met_them(code, details, about_load):
    """A busy collector may take the next report a moment later; that must not be read as this
    report choking it (5 such cycles drop a report)."""
    assert CollectorError(code, details).about_load is about_load


def test_unreachable_collector_does_not_count_against_reports(agent):
    agent.config.collector = f"127.0.0.1:{closed_port()}"
    agent.reconnect()
    for _ in range(3):
        result = runner.run_once(agent)
        assert result.spooled and not result.identity_refused
    assert [entry.attempts for entry in agent.spool.pending(10)] == [0, 0, 0]
    assert agent.spool.stats().last_error.startswith("UNAVAILABLE")


def test_renewal_swaps_the_certificate_atomically(agent, collector):
    before = read_certificate_info(agent.state.certificate)
    assert not runner.renew_if_due(agent)  # fresh: not due
    assert runner.renew_if_due(agent, now=before.not_after - dt.timedelta(hours=1))
    after = read_certificate_info(agent.state.certificate)
    assert after.serial != before.serial and after.device_id == DEVICE
    assert after.not_after >= before.not_after
    assert stat.S_IMODE(agent.state.certificate.stat().st_mode) == 0o600
    assert not list(agent.state.root.glob("*.tmp"))
    assert runner.run_once(agent).delivered  # the new certificate works


def test_expired_certificate_is_not_even_presented(tmp_path, collector_home):
    short = RunningCollector(collector_home, client_cert_days=0)
    agent = runner.Agent(enroll(StateDir(tmp_path / "state"), short), scanner=scanner())
    try:
        result = runner.run_once(agent)
    finally:
        agent.close()
        short.stop()
    assert result.identity_refused and result.spooled and "expired" in result.error


def test_run_forever_reports_and_stops_when_told(tmp_path, collector):
    state = enroll(StateDir(tmp_path / "state"), collector)
    stop = threading.Event()
    worker = threading.Thread(target=runner.run_forever, args=(state, stop),
                              kwargs={"interval": 1.0, "scanner": scanner()})
    worker.start()
    deadline = time.monotonic() + 20
    while collector.stored_reports() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert collector.stored_reports() >= 2


def test_run_forever_waits_for_the_bootstrap_file_then_reports(tmp_path, collector):
    state = StateDir(tmp_path / "state")
    stop = threading.Event()
    worker = threading.Thread(target=runner.run_forever, args=(state, stop),
                              kwargs={"interval": 1.0, "scanner": scanner(), "bootstrap_poll": 0.2})
    worker.start()
    try:
        time.sleep(0.5)
        assert not state.is_enrolled() and collector.stored_reports() == 0
        write_bootstrap(state, collector, device_id=DEVICE)  # the MDM delivers it
        deadline = time.monotonic() + 20
        while collector.stored_reports() < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert state.is_enrolled() and collector.stored_reports() >= 1
