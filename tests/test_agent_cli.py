"""`farmwatch-agent` as a person or a script uses it: help, usage errors, exit codes, status,
and `run` with no collector to talk to (the report must be spooled, not lost)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from farmwatch.agent import cli, identity
from farmwatch.agent.state import AgentConfig, StateDir
from farmwatch.collector import pki

DEVICE = "SN-CLI-1"


def closed_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def enrolled_state(tmp_path, collector: str) -> StateDir:
    """An enrollment made offline with a CA of our own, pointing at `collector`."""
    ca = pki.CertificateAuthority.create(tmp_path / "pki")
    state = StateDir(tmp_path / "state")
    state.ensure()
    key = identity.load_or_create_key(state.key)
    cert = ca.sign_csr(identity.build_csr(key, DEVICE), subject=DEVICE, role=pki.ROLE_AGENT)
    state.certificate.write_bytes(pki.cert_pem(cert))
    state.ca_certificate.write_bytes(ca.cert_pem)
    state.save_config(AgentConfig(collector=collector, device_id=DEVICE))
    return state


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(["-q", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main(list(argv))
    assert exited.value.code == cli.EXIT_USAGE
    return capsys.readouterr().err


def test_help_teaches_with_examples_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for needle in ("examples:", "run --once", "enroll --collector", "bootstrap.toml", "exit codes:",
                   "not enrolled", "--state-dir"):
        assert needle in text
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    assert "--interval" in capsys.readouterr().out


@pytest.mark.parametrize("argv, complaint", [
    ([], "COMMAND"),
    (["launch"], "invalid choice"),
    (["run", "--interval", "0"], "seconds >= 1"),
    (["run", "--interval", "soon"], "seconds >= 1"),
    (["enroll", "--collector", "c:1", "--ca-cert", "ca.crt"], "--token"),
    (["enroll", "--collector", "c:1", "--ca-cert", "ca.crt", "--token", "t", "--token-file", "f"],
     "not allowed with"),
    (["enroll", "--collector", "no-port", "--token", "t", "--ca-cert", "ca.crt"], "HOST:PORT"),
    (["scan", "--sysroot", "/no/such/tree"], "is not a folder"),
    (["run", "--once", "--sysroot", "/no/such/tree"], "is not a folder"),
])
def test_usage_errors_exit_2_and_say_why(capsys, argv, complaint):
    assert complaint in usage_error(capsys, *argv)


def test_status_on_an_empty_state_dir_creates_nothing(tmp_path, capsys):
    state_dir = tmp_path / "never-made"
    code, out, _ = run_cli(capsys, "--state-dir", str(state_dir), "status", "--json")
    assert code == cli.EXIT_NOT_ENROLLED
    status = json.loads(out)
    assert status["enrolled"] is False and status["spool_depth"] == 0 and status["last_delivery_at"] is None
    assert not state_dir.exists()


def test_run_once_without_enrollment_exits_3_and_says_how(tmp_path, capsys):
    code, out, err = run_cli(capsys, "--state-dir", str(tmp_path), "run", "--once")
    assert code == cli.EXIT_NOT_ENROLLED and out == ""
    assert "farmwatch-agent enroll" in err and "bootstrap.toml" in err


def test_run_once_spools_when_the_collector_is_unreachable(tmp_path, capsys):
    state = enrolled_state(tmp_path, closed_address())
    for sequence in (1, 2):
        code, out, _ = run_cli(capsys, "--state-dir", str(state.root), "run", "--once")
        result = json.loads(out)
        assert code == cli.EXIT_OK
        assert (result["spooled"], result["delivered"], result["sequence"]) == (True, False, sequence)
    code, out, _ = run_cli(capsys, "--state-dir", str(state.root), "status", "--json")
    status = json.loads(out)
    assert code == cli.EXIT_OK
    assert status["spool_depth"] == 2 and status["next_sequence"] == 3
    assert status["last_error"].startswith("UNAVAILABLE") and status["last_delivery_at"] is None
    assert status["device_id"] == DEVICE and status["certificate_renew_due"] is False
    assert 29 < status["certificate_days_left"] <= 30


def test_spool_bounds_in_agent_toml_are_honoured(tmp_path, capsys):
    state = enrolled_state(tmp_path, closed_address())
    config = state.load_config()
    config.spool.max_reports = 2
    state.save_config(config)
    for _ in range(3):
        assert run_cli(capsys, "--state-dir", str(state.root), "run", "--once")[0] == cli.EXIT_OK
    code, out, _ = run_cli(capsys, "--state-dir", str(state.root), "status", "--json")
    status = json.loads(out)
    assert (status["spool_depth"], status["spool_dropped"], status["next_sequence"]) == (2, 1, 4)


def test_status_for_people_is_one_fact_per_line(tmp_path, capsys):
    state = enrolled_state(tmp_path, "collector.example.com:8443")
    code, out, _ = run_cli(capsys, "--state-dir", str(state.root), "status")
    assert code == cli.EXIT_OK
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["device_id"] == DEVICE and lines["collector"] == "collector.example.com:8443"
    assert lines["enrolled"] == "yes" and lines["last_delivery_at"] == "-"


def test_bootstrap_with_unreachable_collector_is_explained(tmp_path, capsys):
    ca = pki.CertificateAuthority.create(tmp_path / "pki")
    state = StateDir(tmp_path / "state")
    state.ensure()
    state.bootstrap_file.write_text(
        f'collector = "{closed_address()}"\nca_cert = "{tmp_path / "pki" / ca.CA_CERT}"\n'
        f'token = "t"\ndevice_id = "{DEVICE}"\n'
    )
    code, _, err = run_cli(capsys, "--state-dir", str(state.root), "run", "--once")
    assert code == cli.EXIT_UNREACHABLE and "cannot reach the collector" in err
    assert not state.is_enrolled()


def test_scan_prints_the_report_without_sending(capsys):
    code, out, _ = run_cli(capsys, "scan", "--compact")
    assert code == cli.EXIT_OK and out.count("\n") == 1
    report = json.loads(out)
    assert report["report_id"] and report["host"]["os"] == "linux"
    assert "sequence" not in report  # numbering belongs to the outbox, not to a scan


def test_run_stops_cleanly_on_sigterm(tmp_path):
    state = enrolled_state(tmp_path, closed_address())
    agent = subprocess.Popen(
        [sys.executable, "-m", "farmwatch.agent.cli", "--state-dir", str(state.root), "run", "--interval", "1"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "GRPC_VERBOSITY": "ERROR"},
    )
    try:
        deadline = time.monotonic() + 30
        while not state.spool_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # into the second cycle
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=20)
    finally:
        agent.kill()
    assert agent.returncode == 0, err
    assert "report spooled" in err and "stopped" in err


def test_an_already_enrolled_device_is_told_it_needs_a_reenrollment_token():
    import grpc

    from farmwatch.agent.transport import CollectorError

    refusal = CollectorError(grpc.StatusCode.PERMISSION_DENIED, "device SN-1 is already enrolled with a live "
                             "certificate; re-enrolling needs a token made with `token create --allow-reenroll`")
    code, advice = cli._enrollment_advice(refusal, "collector:7443")
    assert (code, advice) == (cli.EXIT_FAILURE, f"the collector will not enroll this device: {refusal.details}")


def test_enrollment_advice_is_the_collectors_when_it_gives_some_and_ours_when_it_gives_none():
    import grpc

    from farmwatch.agent.transport import CollectorError

    bare = CollectorError(grpc.StatusCode.PERMISSION_DENIED, "")
    assert cli._enrollment_advice(bare, "collector:7443")[1] == (
        "the collector refused the enrollment token; ask for a new token (tokens expire and can be used a "
        "limited number of times)")


@pytest.mark.parametrize("command", ["scan", "enroll", "run", "status"])
def test_every_command_says_what_it_does_with_an_example(capsys, command):
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "\nexample:\n  farmwatch-agent" in text and "--state-dir DIR" in text
    assert text.split("\n\n")[1].strip()  # a description under the usage line


def test_state_dir_and_quiet_work_after_the_command_name_too(tmp_path, capsys):
    state = enrolled_state(tmp_path, "collector.example.com:8443")
    code = cli.main(["status", "--json", "--state-dir", str(state.root), "-q"])
    status = json.loads(capsys.readouterr().out)
    assert code == cli.EXIT_OK and status["device_id"] == DEVICE
    assert status["state_dir"] == str(state.root.absolute())


def test_a_ca_cert_that_is_not_a_certificate_is_named_before_anything_is_sent(tmp_path, capsys):
    not_a_cert = tmp_path / "ca.crt"
    not_a_cert.write_text("collector.example.com\n")
    code, _, err = run_cli(capsys, "--state-dir", str(tmp_path / "state"), "enroll", "--collector",
                           closed_address(), "--token", "t", "--ca-cert", str(not_a_cert), "--device-id", DEVICE)
    assert code == cli.EXIT_FAILURE
    assert f"--ca-cert {not_a_cert} is not a PEM certificate" in err and "pki/ca.crt" in err


def test_grpc_core_chatter_stays_off_stderr_unless_asked_for():
    probe = subprocess.run([sys.executable, "-c", "import os; os.environ.pop('GRPC_VERBOSITY', None); "
                            "import farmwatch.agent.cli; print(os.environ['GRPC_VERBOSITY'])"],
                           capture_output=True, text=True, env={k: v for k, v in os.environ.items()
                                                                if k != "GRPC_VERBOSITY"})
    assert probe.stdout.strip() == "ERROR"
    kept = subprocess.run([sys.executable, "-c", "import os, farmwatch.agent.cli; print(os.environ['GRPC_VERBOSITY'])"],
                          capture_output=True, text=True, env={**os.environ, "GRPC_VERBOSITY": "INFO"})
    assert kept.stdout.strip() == "INFO"


def test_status_says_what_to_fix_and_exits_4_for_a_garbled_certificate(tmp_path, capsys):
    state = enrolled_state(tmp_path, closed_address())
    assert run_cli(capsys, "--state-dir", str(state.root), "run", "--once")[0] == cli.EXIT_OK  # one spooled
    state.certificate.write_bytes(b"garbage")
    code, out, _ = run_cli(capsys, "--state-dir", str(state.root), "status", "--json")
    status = json.loads(out)
    assert code == cli.EXIT_IDENTITY_REFUSED
    assert "agent.crt" in status["problem"] and "enroll again" in status["problem"]
    assert status["device_id"] == DEVICE and status["spool_depth"] == 1  # the rest is still shown


def test_status_names_an_expired_certificate(tmp_path, capsys):
    import datetime as dt

    state = enrolled_state(tmp_path, closed_address())
    ca = pki.CertificateAuthority.load(tmp_path / "pki")
    key = identity.load_key(state.key)
    cert = ca.sign_csr(identity.build_csr(key, DEVICE), subject=DEVICE, role=pki.ROLE_AGENT,
                       lifetime=dt.timedelta(seconds=1))
    state.certificate.write_bytes(pki.cert_pem(cert))
    time.sleep(1.5)  # the laptop was off for two months
    code, out, _ = run_cli(capsys, "--state-dir", str(state.root), "status")
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert code == cli.EXIT_IDENTITY_REFUSED and "expired" in lines["problem"]
    assert run_cli(capsys, "--state-dir", str(state.root), "run", "--once")[0] == cli.EXIT_IDENTITY_REFUSED


def test_status_without_a_state_dir_says_what_is_missing_and_what_to_run(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    code, out, _ = run_cli(capsys, "--state-dir", str(missing), "status")
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert code == cli.EXIT_NOT_ENROLLED and lines["problem"] != "-"
    assert lines["problem"].startswith(f"{missing} does not exist")
    assert f"--state-dir {missing} enroll" in lines["problem"]
    assert not missing.exists()
    missing.mkdir()
    (missing / "bootstrap.toml").write_text('collector = "c:7443"\n')
    assert "enrolls from" in json.loads(run_cli(capsys, "--state-dir", str(missing), "status", "--json")[1])["problem"]


def test_after_a_revocation_status_names_the_fix_that_works(tmp_path, capsys, collector):
    from farmwatch.collector import enrollment

    state_dir, ca_file = tmp_path / "state", tmp_path / "ca.crt"
    ca_file.write_bytes(collector.ca_pem)
    enroll = ["--state-dir", str(state_dir), "enroll", "--collector", collector.address, "--ca-cert", str(ca_file),
              "--device-id", DEVICE]
    assert run_cli(capsys, *enroll, "--token", collector.token())[0] == cli.EXIT_OK
    enrollment.revoke_subject(collector.store, DEVICE, "laptop returned")  # what `pki revoke` does
    assert run_cli(capsys, "--state-dir", str(state_dir), "run", "--once")[0] == cli.EXIT_IDENTITY_REFUSED
    code, out, _ = run_cli(capsys, "--state-dir", str(state_dir), "status", "--json")
    problem = json.loads(out)["problem"]
    assert code == cli.EXIT_IDENTITY_REFUSED and "revoked" in problem
    assert "enroll --force" in problem and "allow-reenroll" not in problem
    assert run_cli(capsys, *enroll, "--force", "--token", collector.token())[0] == cli.EXIT_OK  # an ordinary token
    assert run_cli(capsys, "--state-dir", str(state_dir), "run", "--once")[0] == cli.EXIT_OK


def test_status_reads_an_unreadable_outbox_without_moving_it(tmp_path, capsys):
    state = enrolled_state(tmp_path, "collector.example.com:8443")
    state.spool_file.write_bytes(b"not a database " * 300)
    code, out, _ = run_cli(capsys, "--state-dir", str(state.root), "status", "--json")
    assert code == cli.EXIT_FAILURE and "spool.sqlite" in json.loads(out)["problem"]
    assert state.spool_file.read_bytes() == b"not a database " * 300  # status changes nothing
    assert not list(state.root.glob("*.corrupt-*"))


def test_a_second_run_on_one_state_dir_refuses_to_start(tmp_path):
    state = enrolled_state(tmp_path, closed_address())
    agent = [sys.executable, "-m", "farmwatch.agent.cli", "--state-dir", str(state.root), "run", "--interval", "60"]
    env = {**os.environ, "GRPC_VERBOSITY": "ERROR"}
    first = subprocess.Popen(agent, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while not (state.run_lock.exists() and state.run_lock.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        for second_argv in (agent, [*agent[:-3], "run", "--once"]):  # `run --once` refuses like `run`
            second = subprocess.run(second_argv, capture_output=True, text=True, timeout=60, env=env)
            assert second.returncode == cli.EXIT_FAILURE, second_argv
            assert f"pid {first.pid}" in second.stderr and "already reports" in second.stderr
            assert second.stdout == ""  # no report made
        assert first.poll() is None  # the first one carries on
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == cli.EXIT_OK
    third = subprocess.Popen(agent, stderr=subprocess.PIPE, text=True, env=env)  # the lock went with it
    time.sleep(2)
    assert third.poll() is None
    third.send_signal(signal.SIGTERM)
    assert third.wait(timeout=30) == cli.EXIT_OK


def test_permission_denied_names_the_packages_user():
    import argparse
    import errno

    denied = PermissionError(errno.EACCES, "Permission denied", "/var/lib/farmwatch/agent.key")
    failure = cli._as_cli_error(denied, argparse.Namespace(state_dir=None))
    assert failure.exit_code == cli.EXIT_FAILURE
    assert str(failure).startswith("/var/lib/farmwatch/agent.key: permission denied; run as the agent's user")
    assert "sudo -u farmwatch farmwatch-agent" in str(failure)
