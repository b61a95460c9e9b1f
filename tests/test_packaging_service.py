"""The service entry the packages start (settings file → run) and the MDM-settings → bootstrap.toml
step, including a service that starts unenrolled and enrolls with a real collector once the
bootstrap appears."""
from __future__ import annotations

import plistlib
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from farmwatch.agent import provision, service
from farmwatch.agent.state import STATE_DIR_ENV, Bootstrap, ConfigError, StateDir

REPO = Path(__file__).resolve().parents[1]


# -- settings -----------------------------------------------------------------------------------

def test_missing_settings_file_means_the_defaults(tmp_path):
    settings = service.load_settings(tmp_path / "absent.toml")
    assert settings == service.ServiceSettings(state_dir=service.default_service_state_dir())
    assert settings.verbosity == 0


def test_shipped_settings_file_is_the_defaults():
    shipped = service.load_settings(REPO / "packaging" / "agent.toml")
    assert shipped == service.ServiceSettings(state_dir=Path("/var/lib/farmwatch"))


@pytest.mark.parametrize("text, complaint", [
    ("intervl = 60\n", "unknown keys intervl"),
    ('log_level = "loud"\n', "log_level 'loud'"),
    ("interval = 0.5\n", "interval 0.5"),
    ("interval = true\n", "interval True"),
    ('state_dir = "relative/dir"\n', "must be an absolute path"),
    ("state_dir = 5\n", "state_dir 5"),
    ("log_level = [1]\n", "log_level \\[1\\]"),
    ("state_dir = \n", "not valid TOML"),
])
def test_unusable_settings_are_named(tmp_path, text, complaint):
    path = tmp_path / "agent.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=complaint):
        service.load_settings(path)


def test_settings_round_trip_through_check_output(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(f'state_dir = "{tmp_path / "state"}"\ninterval = 90\nlog_level = "debug"\n')
    settings = service.load_settings(path)
    again = tmp_path / "again.toml"
    again.write_text(service.settings_toml(settings))
    assert service.load_settings(again) == settings
    assert settings.verbosity == 1 and settings.interval == 90


def test_bad_settings_exit_with_the_status_units_do_not_restart_on(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text("nonsense = 1\n")
    done = subprocess.run([sys.executable, "-m", "farmwatch.agent.service", "--config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == service.EXIT_BAD_SETTINGS
    assert "unknown keys nonsense" in done.stderr


# -- provisioning from MDM values ---------------------------------------------------------------

@pytest.fixture
def ca_pem(tmp_path) -> bytes:
    from farmwatch.collector import pki

    return pki.CertificateAuthority.create(tmp_path / "pki").cert_pem


def profile_plist(path: Path, ca_pem: bytes, **extra) -> Path:
    values = {"Collector": "collector.example.com:8443", "CACertificate": ca_pem.decode(),
              "EnrollmentToken": "tok-123\n", **extra}
    path.write_bytes(plistlib.dumps(values))
    return path


def test_profile_becomes_a_bootstrap_the_agent_accepts(tmp_path, ca_pem):
    plist = profile_plist(tmp_path / "com.farmwatch.agent.plist", ca_pem, ServerName="fw.internal")
    state = StateDir(tmp_path / "state")

    assert provision.write_bootstrap(state, provision.settings_from_profile(plist)) is True

    bootstrap = Bootstrap.from_toml(state.bootstrap_file)
    assert (bootstrap.collector, bootstrap.token, bootstrap.server_name) == (
        "collector.example.com:8443", "tok-123", "fw.internal")
    assert bootstrap.ca_cert == state.root / provision.BOOTSTRAP_CA_NAME
    assert bootstrap.ca_cert.read_bytes().strip() == ca_pem.strip()
    assert state.bootstrap_file.stat().st_mode & 0o777 == 0o600
    assert state.root.stat().st_mode & 0o777 == 0o700
    assert not state.ca_certificate.exists(), "ca.crt belongs to a completed enrollment"


def test_rewriting_the_same_profile_changes_nothing(tmp_path, ca_pem):
    plist = profile_plist(tmp_path / "p.plist", ca_pem)
    state = StateDir(tmp_path / "state")
    provision.write_bootstrap(state, provision.settings_from_profile(plist))
    before = state.bootstrap_file.stat().st_mtime_ns

    assert provision.write_bootstrap(state, provision.settings_from_profile(plist)) is False
    assert state.bootstrap_file.stat().st_mtime_ns == before

    profile_plist(plist, ca_pem, EnrollmentToken="rotated")
    assert provision.write_bootstrap(state, provision.settings_from_profile(plist)) is True
    assert Bootstrap.from_toml(state.bootstrap_file).token == "rotated"


@pytest.mark.parametrize("change, complaint", [
    ({"Collector": "no-port"}, "not HOST:PORT"),
    ({"CACertificate": "not a certificate"}, "not a PEM certificate"),
    ({"EnrollmentToken": ""}, "lacks EnrollmentToken"),
    ({"DeviceID": "bad id with spaces"}, "device id 'bad id with spaces' is not usable"),
])
def test_profile_mistakes_are_refused_before_anything_is_written(tmp_path, ca_pem, change, complaint):
    plist = profile_plist(tmp_path / "p.plist", ca_pem, **change)
    with pytest.raises(provision.ProvisionError, match=complaint):
        provision.settings_from_profile(plist)


def test_not_a_plist_is_named(tmp_path):
    path = tmp_path / "p.plist"
    path.write_text("collector = 'x'\n")
    with pytest.raises(provision.ProvisionError, match="not a property list"):
        provision.settings_from_profile(path)


def test_command_line_values_and_an_absent_profile(tmp_path, ca_pem, capsys):
    (tmp_path / "ca.crt").write_bytes(ca_pem)
    (tmp_path / "token").write_text("tok-cli\n")
    state_dir = tmp_path / "state"
    assert provision.main(["--state-dir", str(state_dir), "--collector", "10.0.0.5:7443",
                           "--ca-cert", str(tmp_path / "ca.crt"), "--token-file", str(tmp_path / "token"),
                           "--device-id", "C02XYZ"]) == 0
    bootstrap = Bootstrap.from_toml(state_dir / "bootstrap.toml")
    assert (bootstrap.collector, bootstrap.token, bootstrap.device_id) == ("10.0.0.5:7443", "tok-cli", "C02XYZ")

    assert provision.main(["--state-dir", str(tmp_path / "s2"), "--from-plist", str(tmp_path / "none")]) == 0
    assert "profile is not installed yet" in capsys.readouterr().out
    assert not (tmp_path / "s2").exists()

    assert provision.main(["--state-dir", str(state_dir), "--collector", "10.0.0.5:7443"]) == 1
    assert "needs --ca-cert and --token-file" in capsys.readouterr().err


# -- the service: waits unenrolled, enrolls from what provision wrote, reports -------------------

def wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


def start_service(state: StateDir, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=service.serve,
                              args=(service.ServiceSettings(state_dir=state.root, interval=3600), stop))
    thread.start()
    return thread


def test_service_without_a_bootstrap_waits_and_stops_when_told(tmp_path, monkeypatch):
    monkeypatch.setenv(STATE_DIR_ENV, "restored after the test")  # serve() sets it
    state, stop = StateDir(tmp_path / "state"), threading.Event()
    thread = start_service(state, stop)
    time.sleep(0.5)
    assert thread.is_alive() and not state.is_enrolled()
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


def test_service_enrolls_with_what_provision_wrote_and_reports(tmp_path, collector, monkeypatch):
    monkeypatch.setenv(STATE_DIR_ENV, "restored after the test")
    state, stop = StateDir(tmp_path / "state"), threading.Event()
    (tmp_path / "ca.crt").write_bytes(collector.ca_pem)
    (tmp_path / "token").write_text(collector.token())
    assert provision.main(["--state-dir", str(state.root), "--collector", collector.address,
                           "--ca-cert", str(tmp_path / "ca.crt"), "--token-file", str(tmp_path / "token"),
                           "--device-id", "SN-PKG-1"]) == 0
    thread = start_service(state, stop)
    try:
        assert wait_for(state.is_enrolled)
        assert state.load_config().device_id == "SN-PKG-1"
        assert wait_for(lambda: collector.stored_reports() >= 1)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


def test_provision_writes_where_the_service_reads_by_default(tmp_path, ca_pem, monkeypatch):
    settings_file = tmp_path / "agent.toml"
    settings_file.write_text(f'state_dir = "{tmp_path / "elsewhere"}"\n')
    monkeypatch.setattr(service, "default_settings_path", lambda: settings_file)
    plist = profile_plist(tmp_path / "p.plist", ca_pem)
    assert provision.main(["--from-plist", str(plist)]) == 0
    assert (tmp_path / "elsewhere" / "bootstrap.toml").exists()


def test_log_file_moves_aside_before_it_passes_its_size(tmp_path):
    path = tmp_path / "agent.log"
    log = service.RotatingLogFile(path, max_bytes=100)
    first, second, third = ("a" * 59 + "\n"), ("b" * 59 + "\n"), ("c" * 59 + "\n")
    log.write(first)
    log.write(second)
    assert (path.read_text(), (tmp_path / "agent.log.1").read_text()) == (second, first)
    log.write(third)
    log.close()
    assert (path.read_text(), (tmp_path / "agent.log.1").read_text()) == (third, second)


def test_service_process_logs_to_its_file_and_stops_cleanly_on_sigterm(tmp_path):
    settings = tmp_path / "agent.toml"
    settings.write_text(f'state_dir = "{tmp_path / "state"}"\n')
    log = tmp_path / "agent.log"
    process = subprocess.Popen([sys.executable, "-m", "farmwatch.agent.service", "--config", str(settings),
                                "--log-file", str(log)], stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: log.exists() and "no bootstrap file yet" in log.read_text())
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
    assert process.stderr.read() == ""
