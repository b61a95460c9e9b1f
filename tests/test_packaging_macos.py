"""macOS packaging, as far as it can be checked off a Mac: the launchd jobs and the profile
template are well-formed property lists that agree with the agent's modules and settings, a
rendered profile provisions an agent, and the shell scripts parse."""
from __future__ import annotations

import importlib.util
import plistlib
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from farmwatch.agent import provision, service
from farmwatch.agent.state import Bootstrap, StateDir

REPO = Path(__file__).resolve().parents[1]
MACOS = REPO / "packaging" / "macos"
AGENT_JOB = MACOS / "com.farmwatch.agent.plist"
PROVISION_JOB = MACOS / "com.farmwatch.agent.provision.plist"
SHELL_SCRIPTS = [MACOS / "build-pkg.sh", MACOS / "uninstall.sh", MACOS / "scripts" / "preinstall",
                 MACOS / "scripts" / "postinstall"]
VENV_PYTHON = "/opt/farmwatch/venv/bin/python"


def _load_renderer():
    spec = importlib.util.spec_from_file_location("render_mobileconfig", MACOS / "render_mobileconfig.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render_mobileconfig = _load_renderer()


def load_plist(path: Path) -> dict:
    with open(path, "rb") as handle:
        return plistlib.load(handle)


def postinstall_value(name: str) -> str:
    match = re.search(rf"^{name}=(\S+)$", (MACOS / "scripts" / "postinstall").read_text(), re.M)
    assert match, f"postinstall sets no {name}"
    return match.group(1)


# -- launchd jobs -------------------------------------------------------------------------------

@pytest.mark.parametrize("job", [AGENT_JOB, PROVISION_JOB], ids=lambda p: p.name)
def test_job_is_labelled_as_its_file_and_runs_an_agent_module(job):
    plist = load_plist(job)
    assert plist["Label"] == job.stem
    program = plist["ProgramArguments"]
    assert program[:2] == [VENV_PYTHON, "-m"]
    assert importlib.util.find_spec(program[2]) is not None, f"{program[2]} is not an agent module"
    assert plist["RunAtLoad"] is True
    assert plist["Umask"] == 0o077
    assert plist["StandardErrorPath"] == "/var/log/farmwatch-agent.log"


def test_agent_job_restarts_after_failures_and_reads_the_packaged_settings():
    plist = load_plist(AGENT_JOB)
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    args = service.build_parser().parse_args(plist["ProgramArguments"][3:])
    assert str(args.config) == postinstall_value("SETTINGS") == "/etc/farmwatch/agent.toml"


def test_provision_job_watches_the_file_macos_writes_for_the_profile():
    plist = load_plist(PROVISION_JOB)
    args = provision.build_parser().parse_args(plist["ProgramArguments"][3:])
    assert args.from_plist == provision.MANAGED_PREFERENCES
    assert plist["WatchPaths"] == [str(provision.MANAGED_PREFERENCES)]
    # no --state-dir: it takes the service's own, from the settings file
    assert args.state_dir is None


def test_postinstall_makes_the_state_dir_the_settings_name():
    settings = tomllib.loads((REPO / "packaging" / "agent.toml").read_text())
    assert postinstall_value("STATE_DIR") == settings["state_dir"]


def test_every_script_names_both_jobs_and_the_pkg_ships_both():
    labels = {AGENT_JOB.stem, PROVISION_JOB.stem}
    for script in ("scripts/preinstall", "scripts/postinstall", "uninstall.sh"):
        text = (MACOS / script).read_text()
        assert set(re.findall(r"com\.farmwatch\.agent(?:\.provision)?\b(?!\.plist)", text)) >= labels, script
    build = (MACOS / "build-pkg.sh").read_text()
    assert all(f"$HERE/{label}.plist" in build for label in labels)


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: p.name)
def test_shell_scripts_parse_and_are_executable(script):
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert script.stat().st_mode & 0o111


def test_pkg_build_says_it_needs_a_mac_here():
    done = subprocess.run(["bash", str(MACOS / "build-pkg.sh"), "--python-prefix", "/nonexistent"],
                          capture_output=True, text=True)
    if done.returncode == 0 or "macOS" not in done.stderr:
        pytest.skip("running on macOS: the real build is not run by the test suite")
    assert done.returncode == 2


def test_newsyslog_rule_rotates_the_jobs_log():
    rule = next(line for line in (MACOS / "farmwatch-agent.newsyslog.conf").read_text().splitlines()
                if line and not line.startswith("#"))
    path, owner, mode, count, size, when, flags = rule.split()
    assert path == load_plist(AGENT_JOB)["StandardOutPath"]
    assert mode == "600" and int(count) > 0 and int(size) > 0


# -- the configuration profile ------------------------------------------------------------------

@pytest.fixture
def ca_pem(tmp_path) -> bytes:
    from farmwatch.collector import pki

    return pki.CertificateAuthority.create(tmp_path / "pki").cert_pem


def settings(ca_pem: bytes, **changes) -> provision.EnrollmentSettings:
    values = {"collector": "collector.example.com:7443", "ca_pem": ca_pem, "token": "tok-mac\n", **changes}
    return provision.EnrollmentSettings(**values)


def payload_of(profile: dict) -> dict:
    (payload,) = profile["PayloadContent"]
    return payload


def test_template_payload_carries_every_key_the_agent_reads():
    payload = payload_of(load_plist(MACOS / "farmwatch-agent.mobileconfig.template"))
    assert payload["PayloadType"] == provision.PROFILE_DOMAIN
    wanted = {key for key, ours in provision.PROFILE_KEYS.items() if ours in provision.REQUIRED}
    assert wanted <= set(payload)
    assert set(payload) - {k for k in payload if k.startswith("Payload")} <= set(provision.PROFILE_KEYS)


def test_rendered_profile_provisions_an_agent(tmp_path, ca_pem):
    profile = plistlib.loads(render_mobileconfig.render(settings(ca_pem, server_name="fw.internal"), "Example Corp"))
    assert profile["PayloadType"] == "Configuration" and profile["PayloadScope"] == "System"
    assert profile["PayloadOrganization"] == "Example Corp"
    assert "${" not in plistlib.dumps(profile).decode()

    # What macOS writes to /Library/Managed Preferences is the payload's own keys.
    managed = tmp_path / "com.farmwatch.agent.plist"
    managed.write_bytes(plistlib.dumps(payload_of(profile)))
    state = StateDir(tmp_path / "state")
    assert provision.main(["--state-dir", str(state.root), "--from-plist", str(managed)]) == 0
    bootstrap = Bootstrap.from_toml(state.bootstrap_file)
    assert (bootstrap.collector, bootstrap.token, bootstrap.server_name) == (
        "collector.example.com:7443", "tok-mac", "fw.internal")
    assert bootstrap.ca_cert.read_bytes().strip() == ca_pem.strip()


def test_optional_server_name_is_left_out_when_empty(ca_pem):
    payload = payload_of(plistlib.loads(render_mobileconfig.render(settings(ca_pem), "Example Corp")))
    assert "ServerName" not in payload


def test_new_token_keeps_the_profile_identity_a_new_collector_does_not(ca_pem):
    def uuids(**changes):
        profile = plistlib.loads(render_mobileconfig.render(settings(ca_pem, **changes), "Example Corp"))
        return profile["PayloadUUID"], payload_of(profile)["PayloadUUID"]

    first = uuids()
    assert uuids(token="another") == first
    assert uuids(collector="other.example.com:7443") != first
    assert len(set(first)) == 2


def test_values_the_agent_would_refuse_do_not_render(ca_pem):
    with pytest.raises(provision.ProvisionError, match="not HOST:PORT"):
        render_mobileconfig.render(settings(ca_pem, collector="collector.example.com"), "Example Corp")
    with pytest.raises(ValueError, match="ORGANIZATION must not be empty"):
        render_mobileconfig.render(settings(ca_pem), "")


def test_a_placeholder_nothing_fills_is_an_error(tmp_path, ca_pem):
    template = tmp_path / "t.mobileconfig"
    template.write_bytes(plistlib.dumps({"PayloadContent": [{"Extra": "${MYSTERY}"}]}))
    with pytest.raises(ValueError, match="MYSTERY"):
        render_mobileconfig.render(settings(ca_pem), "Example Corp", template)


def test_render_command_writes_an_owner_only_profile(tmp_path, ca_pem):
    (tmp_path / "ca.crt").write_bytes(ca_pem)
    (tmp_path / "token").write_text("tok-cli\n")
    out = tmp_path / "fw.mobileconfig"
    assert render_mobileconfig.main(["--collector", "fw.example.com:7443", "--ca-cert", str(tmp_path / "ca.crt"),
                                     "--token-file", str(tmp_path / "token"), "--organization", "Example Corp",
                                     "--out", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    assert payload_of(load_plist(out))["EnrollmentToken"] == "tok-cli"
