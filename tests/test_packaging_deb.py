"""The .deb: built from this repo with dpkg-deb, unpacked into a throwaway root, and the agent run
from there. The systemd unit is checked with systemd-analyze where it exists."""
from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
UNIT_FILE = PACKAGING / "systemd" / "farmwatch-agent.service"
DEB_PYTHON = "/usr/bin/python3"


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_deb", PACKAGING / "debian" / "build_deb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_deb = _load_builder()

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")
needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed here; the unit's syntax goes unchecked on this machine",
)


def read_unit(text: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string(text)
    return unit


# -- the build helpers, without building --------------------------------------------------------

def test_relocate_rewrites_the_staging_prefix_in_scripts_and_config_but_not_links(tmp_path):
    venv = tmp_path / "stage" / "opt" / "farmwatch" / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = /usr/bin/python3.11 -m venv {venv}\n")
    (venv / "bin" / "farmwatch-agent").write_text(f"#!{venv}/bin/python\nimport sys\n")
    (venv / "bin" / "python").symlink_to("/usr/bin/python3.11")
    (venv / "bin" / "untouched").write_text("#!/bin/sh\n")

    changed = build_deb.relocate(venv, Path("/opt/farmwatch/venv"))

    assert sorted(p.name for p in changed) == ["farmwatch-agent", "pyvenv.cfg"]
    assert (venv / "bin" / "farmwatch-agent").read_text().startswith("#!/opt/farmwatch/venv/bin/python\n")
    assert str(venv) not in (venv / "pyvenv.cfg").read_text()
    assert (venv / "bin" / "python").readlink() == Path("/usr/bin/python3.11")
    assert build_deb.files_mentioning(tmp_path, str(venv)) == []


def test_only_a_debian_interpreter_may_back_the_package(tmp_path):
    fake = tmp_path / "python3.11"
    fake.write_text("")
    with pytest.raises(build_deb.BuildError, match="not a Debian interpreter"):
        build_deb.debian_interpreter(str(fake))


def test_package_name_follows_debian_convention():
    assert build_deb.deb_name("0.1.0", "amd64") == "farmwatch-agent_0.1.0_amd64.deb"


# -- the unit and the maintainer scripts agree with each other ----------------------------------

def test_unit_runs_the_service_entry_as_the_user_postinst_creates():
    unit = read_unit(UNIT_FILE.read_text())["Service"]
    postinst = (PACKAGING / "debian" / "postinst").read_text()
    assert re.search(rf"^AGENT_USER={unit['User']}\b", postinst, re.M)
    assert 'adduser --system --group' in postinst and '"$AGENT_USER"' in postinst
    assert unit["ExecStart"].split()[:3] == [f"{build_deb.VENV}/bin/python", "-m", "farmwatch.agent.service"]
    assert unit["ExecStart"].split()[-2:] == ["--config", str(build_deb.SETTINGS)]


def test_unit_may_write_exactly_the_state_dir_the_shipped_settings_name():
    unit = read_unit(UNIT_FILE.read_text())["Service"]
    settings = tomllib.loads((PACKAGING / "agent.toml").read_text())
    assert unit["ProtectSystem"] == "strict"
    assert Path("/var/lib") / unit["StateDirectory"] == Path(settings["state_dir"])


def test_unit_keeps_only_the_capabilities_the_probes_need():
    unit = read_unit(UNIT_FILE.read_text())["Service"]
    wanted = {"CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE"}
    assert set(unit["CapabilityBoundingSet"].split()) == wanted
    assert set(unit["AmbientCapabilities"].split()) == wanted
    assert unit["NoNewPrivileges"] == "yes"
    # processes of every user must stay visible to the probes
    assert unit.get("ProtectProc", "default") == "default" and "ProcSubset" not in unit


def test_a_bad_settings_file_is_not_restarted_in_a_loop():
    from farmwatch.agent import service

    unit = read_unit(UNIT_FILE.read_text())["Service"]
    assert unit["RestartPreventExitStatus"] == str(service.EXIT_BAD_SETTINGS)


@pytest.mark.parametrize("script", build_deb.MAINTAINER_SCRIPTS)
def test_maintainer_scripts_parse_and_name_the_unit(script):
    path = PACKAGING / "debian" / script
    subprocess.run(["sh", "-n", str(path)], check=True)
    names = set(re.findall(r"[\w-]+\.service", path.read_text()))
    assert names == {UNIT_FILE.name}


def run_postinst(tmp_path: Path, *args: str, user_exists: bool, was_enabled: bool) -> list[str]:
    """postinst with the system tools it calls replaced by recorders (the machine edge)."""
    stubs, log = tmp_path / "bin", tmp_path / "calls"
    stubs.mkdir(exist_ok=True)
    statuses = {
        "getent": "0" if user_exists else "2",
        # called as `deb-systemd-helper --quiet was-enabled UNIT`
        "deb-systemd-helper": f'$( [ "$2" = was-enabled ] && echo {0 if was_enabled else 1} || echo 0 )',
    }
    for tool in ("getent", "adduser", "deb-systemd-helper", "deb-systemd-invoke", "systemctl"):
        (stubs / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexit {statuses.get(tool, "0")}\n')
        (stubs / tool).chmod(0o755)
    env = {"PATH": f"{stubs}:/usr/bin:/bin"}
    subprocess.run(["sh", str(PACKAGING / "debian" / "postinst"), *args], check=True, env=env)
    return log.read_text().splitlines() if log.exists() else []


def test_first_install_creates_the_user_and_enables_the_unit(tmp_path):
    calls = run_postinst(tmp_path, "configure", "", user_exists=False, was_enabled=True)
    adduser = next(c for c in calls if c.startswith("adduser "))
    assert adduser.split()[1:3] == ["--system", "--group"] and adduser.endswith(" farmwatch")
    assert f"deb-systemd-helper enable {UNIT_FILE.name}" in calls


def test_upgrade_keeps_the_user_and_an_admins_disable(tmp_path):
    calls = run_postinst(tmp_path, "configure", "0.0.9", user_exists=True, was_enabled=False)
    assert not any(c.startswith("adduser") for c in calls)
    assert f"deb-systemd-helper update-state {UNIT_FILE.name}" in calls
    assert f"deb-systemd-helper enable {UNIT_FILE.name}" not in calls


# -- the built package --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed")
    try:
        build_deb.debian_interpreter(DEB_PYTHON)
    except build_deb.BuildError as exc:
        pytest.skip(f"no Debian interpreter to build against: {exc}")
    work = tmp_path_factory.mktemp("deb-work")
    # gzip: the same contents as `make deb`'s xz package, built in a fraction of the time
    return build_deb.build(REPO, DEB_PYTHON, tmp_path_factory.mktemp("dist"), work, compression="gzip")


@pytest.fixture(scope="module")
def installed(deb, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def dpkg_deb(*args) -> str:
    return subprocess.run(["dpkg-deb", *map(str, args)], capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_package_is_named_and_described_for_this_version_and_machine(deb):
    version = build_deb.project_version(REPO)
    arch = build_deb.debian_arch()
    assert deb.name == f"farmwatch-agent_{version}_{arch}.deb"
    assert dpkg_deb("--field", deb, "Package").strip() == "farmwatch-agent"
    assert dpkg_deb("--field", deb, "Version").strip() == version
    assert dpkg_deb("--field", deb, "Architecture").strip() == arch
    depends = dpkg_deb("--field", deb, "Depends")
    assert Path(DEB_PYTHON).resolve().name in re.split(r"[,\s]+", depends)


@pytest.mark.slow
def test_package_holds_the_venv_unit_settings_and_command(deb):
    listing = dpkg_deb("--contents", deb).splitlines()
    names = {line.split()[5].removeprefix(".") for line in listing}
    assert {"/usr/lib/systemd/system/farmwatch-agent.service", "/etc/farmwatch/agent.toml",
            "/opt/farmwatch/venv/bin/farmwatch-agent", "/opt/farmwatch/venv/pyvenv.cfg"} <= names
    assert not {"/opt/farmwatch/venv/bin/farmwatch-collector", "/opt/farmwatch/venv/bin/farmwatch-analyst"} & names
    assert not any(name.endswith(".pyc") for name in names), "bytecode is made by postinst"
    assert not any("/site-packages/sqlite_utils/" in name for name in names), "collector extra installed"
    assert all(line.split()[1] == "root/root" for line in listing)
    link = next(line for line in listing if line.split()[5] == "./usr/bin/farmwatch-agent")
    assert link.endswith("-> /opt/farmwatch/venv/bin/farmwatch-agent")


@pytest.mark.slow
def test_settings_file_is_a_conffile_and_the_scripts_are_executable(deb, tmp_path):
    subprocess.run(["dpkg-deb", "--control", str(deb), str(tmp_path)], check=True)
    assert (tmp_path / "conffiles").read_text().split() == ["/etc/farmwatch/agent.toml"]
    for script in build_deb.MAINTAINER_SCRIPTS:
        assert (tmp_path / script).stat().st_mode & 0o111


@pytest.mark.slow
def test_nothing_in_the_package_points_at_the_build_machine(installed):
    venv = installed / "opt" / "farmwatch" / "venv"
    assert build_deb.files_mentioning(installed, "farmwatch-deb-") == []
    assert (venv / "bin" / "farmwatch-agent").read_text().startswith("#!/opt/farmwatch/venv/bin/python\n")
    assert (venv / "bin" / "python3").resolve() == Path(DEB_PYTHON).resolve()


def run_installed(root: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    python = root / "opt" / "farmwatch" / "venv" / "bin" / "python"
    # -I: nothing from this checkout or the test's environment may stand in for the installed agent
    return subprocess.run([str(python), "-I", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.slow
def test_installed_agent_is_the_one_it_imports(installed, tmp_path):
    done = run_installed(installed, "-c", "import farmwatch.agent, grpc; print(farmwatch.agent.__file__)",
                         cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed / "opt" / "farmwatch" / "venv")


@pytest.mark.slow
def test_installed_agent_scans_this_machine(installed, tmp_path):
    done = run_installed(installed, "-m", "farmwatch.agent.cli", "scan", "--compact", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["host"]["os"] == "linux"
    assert report["host"]["agent_version"] == build_deb.project_version(REPO)
    assert any(p["pid"] for p in report["processes"])


@pytest.mark.slow
def test_installed_service_reads_the_shipped_settings(installed, tmp_path):
    settings = installed / "etc" / "farmwatch" / "agent.toml"
    done = run_installed(installed, "-m", "farmwatch.agent.service", "--check", "--config", str(settings),
                         cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert tomllib.loads(done.stdout) == {"state_dir": "/var/lib/farmwatch", "log_level": "info"}


# -- systemd-analyze ----------------------------------------------------------------------------

def verify_unit(text: str, tmp_path: Path) -> subprocess.CompletedProcess:
    unit = tmp_path / UNIT_FILE.name
    unit.write_text(text)
    return subprocess.run(["systemd-analyze", "verify", "--man=no", "--generators=no", str(unit)],
                          capture_output=True, text=True)


def unit_for_root(root: Path) -> str:
    """The installed unit with its ExecStart pointed into `root`, which stands in for /."""
    text = (root / "usr" / "lib" / "systemd" / "system" / UNIT_FILE.name).read_text()
    return text.replace(str(build_deb.VENV), str(root / build_deb.VENV.relative_to("/")))


@pytest.mark.slow
@needs_systemd_analyze
def test_installed_unit_passes_systemd_analyze_verify(installed, tmp_path):
    done = verify_unit(unit_for_root(installed), tmp_path)
    assert (done.returncode, done.stderr) == (0, "")


@needs_systemd_analyze
def test_systemd_analyze_verify_reports_what_would_be_ignored(tmp_path):
    # The check above must be able to fail: systemd ignores unknown keys with a warning only.
    text = UNIT_FILE.read_text().replace("ProtectSystem=strict", "ProtectSystm=strict")
    text = text.replace("ExecStart=/opt/farmwatch/venv/bin/python", f"ExecStart={sys.executable}")
    done = verify_unit(text, tmp_path)
    assert "ProtectSystm" in done.stderr


@needs_systemd_analyze
def test_unit_exposure_stays_low(tmp_path):
    unit = tmp_path / UNIT_FILE.name
    unit.write_text(UNIT_FILE.read_text())
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
                          capture_output=True, text=True)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    if match is None:
        pytest.skip(f"this systemd-analyze cannot score a unit file offline: {done.stderr.strip()}")
    assert float(match.group(1)) <= 3.0, done.stdout


# -- the privilege the unit grants is the privilege the probes need -----------------------------

UNIT_CAPS = ("dac_read_search", "sys_ptrace")


def scan_as_nobody(root: Path, caps: tuple[str, ...]) -> dict:
    python = root / "opt" / "farmwatch" / "venv" / "bin" / "python"
    wanted = ",".join(f"+{cap}" for cap in caps)
    limits = ([f"--inh-caps={wanted}", f"--ambient-caps={wanted}", f"--bounding-set=-all,{wanted}"]
              if caps else ["--inh-caps=-all", "--bounding-set=-all"])
    done = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *limits,
                           str(python), "-I", "-B", "-m", "farmwatch.agent.cli", "--state-dir", "/nonexistent",
                           "scan", "--compact"], capture_output=True, text=True, cwd="/", timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def permission_gaps(report: dict) -> list[str]:
    return [e["error"] for e in report.get("probe_errors", []) if "ermission denied" in e["error"]]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0,
                    reason="needs root and setpriv to run the agent as nobody with chosen capabilities")
def test_the_units_two_capabilities_let_an_unprivileged_user_see_what_root_sees(deb):
    unit = read_unit(UNIT_FILE.read_text())["Service"]
    assert {f"cap_{c}" for c in UNIT_CAPS} == {c.lower() for c in unit["AmbientCapabilities"].split()}
    # pytest's own temporary folders are closed to other users; nobody must reach this copy
    with tempfile.TemporaryDirectory(prefix="farmwatch-nobody-") as folder:
        root = Path(folder)
        root.chmod(0o755)
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)

        without = scan_as_nobody(root, ())
        assert permission_gaps(without), "control: an unprivileged agent should be missing something here"

        with_caps = scan_as_nobody(root, UNIT_CAPS)
    gaps = permission_gaps(with_caps)
    # a process may exit between listing and reading its exe; nothing else may be refused
    assert all(gap.startswith("exe unreadable for") for gap in gaps), gaps
    unreadable = sum(int(re.search(r"for (\d+)", gap).group(1)) for gap in gaps)
    assert unreadable <= max(2, len(with_caps["processes"]) // 20)
