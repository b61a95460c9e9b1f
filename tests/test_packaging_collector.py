"""The collector's .deb and systemd unit: built from this repo with dpkg-deb, unpacked into a
throwaway root, and the unit's own command run from there as an unprivileged user with the rest of
the file system read-only (what ProtectSystem=strict + StateDirectory= leave it). The backup
commands docs/deploy.md gives are run against that live collector while reports arrive.

Nothing here skips: a missing dpkg-deb, systemd-analyze or sqlite3 is installed with apt-get."""
from __future__ import annotations

import configparser
import importlib.util
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from farmwatch.collector import cli as collector_cli
from farmwatch.collector import pki

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
UNIT_FILE = PACKAGING / "systemd" / "farmwatch-collector.service"
CONSOLE_UNIT_FILE = PACKAGING / "systemd" / "farmwatch-console.service"
CONTROL = PACKAGING / "debian" / "collector"
GUIDE = (REPO / "docs" / "deploy.md").read_text()
DEB_PYTHON = "/usr/bin/python3"

sys.path.insert(0, str(REPO / "bench"))
from loadgen import enroll_agents, run_load  # noqa: E402


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_deb", PACKAGING / "debian" / "build_deb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_deb = _load_builder()
COLLECTOR = build_deb.COLLECTOR
HOME = build_deb.COLLECTOR_HOME


def ensure_tool(tool: str, package: str) -> str:
    """The tool's path; installed from Debian's archive if missing (the tests never skip)."""
    if shutil.which(tool) is None:
        done = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
                              capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing and `apt-get install {package}` did not provide it:\n"
                        f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return shutil.which(tool)


def read_unit(text: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string(text)
    return unit


def unit_service() -> configparser.SectionProxy:
    return read_unit(UNIT_FILE.read_text())["Service"]


# -- the unit -----------------------------------------------------------------------------------

def test_unit_serves_the_packaged_home_with_the_packaged_command():
    argv = shlex.split(unit_service()["ExecStart"])
    assert argv[0] == f"{COLLECTOR.venv}/bin/farmwatch-collector"
    args = collector_cli.build_parser().parse_args(argv[1:])
    assert (args.command, Path(args.home), args.listen) == ("serve", HOME, "0.0.0.0:7443")


def test_unit_may_write_only_its_own_0700_home():
    service = unit_service()
    assert service["ProtectSystem"] == "strict" and service["ProtectHome"] == "yes"
    assert Path("/var/lib") / service["StateDirectory"] == HOME
    assert service["StateDirectoryMode"] == "0700" and service["UMask"] == "0077"
    assert "ReadWritePaths" not in service and service["PrivateTmp"] == "yes"


def test_unit_holds_no_privilege():
    service = unit_service()
    assert service["CapabilityBoundingSet"] == "" and service["AmbientCapabilities"] == ""
    assert service["NoNewPrivileges"] == "yes"
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert service["User"] == service["Group"] == "farmwatch-collector"
    postinst = (CONTROL / "postinst").read_text()
    assert re.search(rf"^COLLECTOR_USER={service['User']}\b", postinst, re.M)
    assert re.search(rf"^COLLECTOR_HOME={HOME}\b", postinst, re.M)


def test_unit_stops_with_sigterm_in_time_and_restarts_only_on_failure():
    service = unit_service()
    assert service.get("KillSignal", "SIGTERM") == "SIGTERM"
    assert service["Restart"] == "on-failure"
    # serve gives running calls 10 s, then drains its worker pool: well inside the stop timeout
    assert int(service["TimeoutStopSec"]) >= 30


def test_unit_waits_for_the_server_certificate_pki_init_makes():
    condition = Path(read_unit(UNIT_FILE.read_text())["Unit"]["ConditionPathExists"])
    assert condition == HOME / "pki" / pki.CertificateAuthority.SERVER_CERT


def test_console_unit_serves_the_packaged_home_under_the_collectors_confinement():
    console, collector = read_unit(CONSOLE_UNIT_FILE.read_text()), read_unit(UNIT_FILE.read_text())
    argv = shlex.split(console["Service"]["ExecStart"])
    assert argv[0] == f"{COLLECTOR.venv}/bin/farmwatch-collector"
    args = collector_cli.build_parser().parse_args(argv[1:])
    assert (args.command, Path(args.home), args.listen) == ("console", HOME, "127.0.0.1:8443")
    assert console["Unit"]["ConditionPathExists"] == collector["Unit"]["ConditionPathExists"]
    differs = {"ExecStart", "SyslogIdentifier", "LimitNOFILE"}  # the command, its name, agents' connections
    assert {key: value for key, value in console["Service"].items() if key not in differs} == \
        {key: value for key, value in collector["Service"].items() if key not in differs}


def test_console_unit_verifies_and_is_not_enabled_by_the_package(tmp_path):
    text = CONSOLE_UNIT_FILE.read_text().replace(f"ExecStart={COLLECTOR.venv}/bin/farmwatch-collector",
                                                 f"ExecStart={sys.executable}")
    done = verify(text, tmp_path, CONSOLE_UNIT_FILE.name)
    assert done.returncode == 0, done.stderr
    postinst = (CONTROL / "postinst").read_text()
    assert "enable farmwatch-console" not in postinst and "farmwatch-console.service" in postinst
    assert "farmwatch-console.service" in (CONTROL / "prerm").read_text()


def unit_for(root: Path, home: Path, listen: str) -> str:
    """The installed unit with its paths pointed into `root` and `home` and another address."""
    text = (root / COLLECTOR.placements["packaging/systemd/farmwatch-collector.service"].relative_to("/")).read_text()
    text = text.replace(str(COLLECTOR.venv), str(root / COLLECTOR.venv.relative_to("/")))
    text = text.replace(f"--home {HOME} ", f"--home {home} ").replace("--listen 0.0.0.0:7443", f"--listen {listen}")
    return text.replace(f"ConditionPathExists={HOME}/", f"ConditionPathExists={home}/")


def verify(text: str, tmp_path: Path, name: str = UNIT_FILE.name) -> subprocess.CompletedProcess:
    analyze = ensure_tool("systemd-analyze", "systemd")
    unit = tmp_path / name
    unit.write_text(text)
    return subprocess.run([analyze, "verify", "--man=no", "--generators=no", str(unit)], capture_output=True, text=True)


def test_systemd_analyze_would_catch_a_misspelt_key(tmp_path):
    text = UNIT_FILE.read_text().replace("ProtectSystem=strict", "ProtectSystm=strict")
    text = text.replace(f"ExecStart={COLLECTOR.venv}/bin/farmwatch-collector", f"ExecStart={sys.executable}")
    assert "ProtectSystm" in verify(text, tmp_path).stderr


def test_unit_exposure_is_low(tmp_path):
    analyze = ensure_tool("systemd-analyze", "systemd")
    unit = tmp_path / UNIT_FILE.name
    unit.write_text(UNIT_FILE.read_text())
    done = subprocess.run([analyze, "security", "--offline=true", "--no-pager", str(unit)], capture_output=True, text=True)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert match, done.stdout + done.stderr
    assert float(match.group(1)) <= 2.0, done.stdout


# -- the maintainer scripts ---------------------------------------------------------------------

@pytest.mark.parametrize("script", COLLECTOR.maintainer_scripts)
def test_maintainer_scripts_parse_and_name_only_the_collectors_units(script):
    path = CONTROL / script
    subprocess.run(["sh", "-n", str(path)], check=True)
    assert set(re.findall(r"[\w-]+\.service", path.read_text())) <= {UNIT_FILE.name, CONSOLE_UNIT_FILE.name}
    assert "/var/lib/farmwatch\n" not in path.read_text() and "/opt/farmwatch/venv" not in path.read_text()


def run_script(tmp_path: Path, script: str, *args: str, user_exists=True, was_enabled=True, systemd=False,
               initialised=False) -> tuple[list[str], str, Path]:
    """A maintainer script with its paths moved under tmp_path and the system tools it calls
    replaced by recorders (the machine edge). Returns (calls, stdout, the home it used)."""
    stubs, log, home = tmp_path / "bin", tmp_path / "calls", tmp_path / "home"
    run_dir = tmp_path / "run-systemd-system"
    stubs.mkdir(exist_ok=True)
    if systemd:
        run_dir.mkdir(exist_ok=True)
    if initialised:
        (home / "pki").mkdir(parents=True, exist_ok=True)
        (home / "pki" / "server.crt").write_text("")
    statuses = {
        "getent": "0" if user_exists else "2",
        "deb-systemd-helper": f'$( [ "$2" = was-enabled ] && echo {0 if was_enabled else 1} || echo 0 )',
    }
    for tool in ("getent", "adduser", "install", "deb-systemd-helper", "deb-systemd-invoke", "systemctl"):
        (stubs / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexit {statuses.get(tool, "0")}\n')
        (stubs / tool).chmod(0o755)
    text = (CONTROL / script).read_text().replace(str(HOME), str(home)).replace("/run/systemd/system", str(run_dir))
    text = text.replace(str(COLLECTOR.venv), str(tmp_path / "venv"))
    moved = tmp_path / script
    moved.write_text(text)
    done = subprocess.run(["sh", str(moved), *args], check=True, capture_output=True, text=True,
                          env={"PATH": f"{stubs}:/usr/bin:/bin"})
    return (log.read_text().splitlines() if log.exists() else []), done.stdout, home


def test_first_install_makes_user_and_home_enables_but_does_not_start_and_says_what_next(tmp_path):
    calls, out, home = run_script(tmp_path, "postinst", "configure", "", user_exists=False, systemd=True)
    adduser = next(c for c in calls if c.startswith("adduser "))
    assert adduser.split()[1:3] == ["--system", "--group"] and adduser.endswith(" farmwatch-collector")
    assert f"--home {home} --no-create-home" in adduser
    assert f"install -d -o farmwatch-collector -g farmwatch-collector -m 0700 {home}" in calls
    assert f"deb-systemd-helper enable {UNIT_FILE.name}" in calls
    assert not any(c.startswith("deb-systemd-invoke") for c in calls), "nothing to serve before pki init"
    # the next command it names is one the CLI takes, in the unit's home
    line = next(line for line in out.splitlines() if "pki init" in line)
    words = shlex.split(line)
    argv = words[words.index("--home"):]  # after `sudo -u farmwatch-collector farmwatch-collector`
    args = collector_cli.build_parser().parse_args(argv)
    assert (args.pki_command, Path(args.home)) == ("init", home)
    assert f"systemctl start {UNIT_FILE.name}" in out


def test_install_after_pki_init_starts_and_upgrade_restarts(tmp_path):
    calls, out, _ = run_script(tmp_path, "postinst", "configure", "", systemd=True, initialised=True)
    assert f"deb-systemd-invoke start {UNIT_FILE.name}" in calls and out == ""
    calls, _, _ = run_script(tmp_path, "postinst", "configure", "0.0.9", systemd=True, initialised=True)
    assert f"deb-systemd-invoke restart {UNIT_FILE.name}" in calls


def test_upgrade_keeps_the_user_the_home_and_an_admins_disable(tmp_path):
    (tmp_path / "home").mkdir()
    calls, _, _ = run_script(tmp_path, "postinst", "configure", "0.0.9", was_enabled=False, initialised=True)
    assert not any(c.startswith(("adduser", "install")) for c in calls)
    assert f"deb-systemd-helper update-state {UNIT_FILE.name}" in calls
    assert f"deb-systemd-helper enable {UNIT_FILE.name}" not in calls


def test_purge_keeps_the_home_with_the_ca(tmp_path):
    _, out, home = run_script(tmp_path, "postrm", "purge", initialised=True)
    assert (home / "pki" / "server.crt").exists()
    assert f"kept {home}" in out


def test_upgrade_stops_the_service_before_dpkg_swaps_the_code(tmp_path):
    calls, _, _ = run_script(tmp_path, "prerm", "upgrade", systemd=True)
    assert f"deb-systemd-invoke stop {UNIT_FILE.name} {CONSOLE_UNIT_FILE.name}" in calls


# -- make help ----------------------------------------------------------------------------------

def test_make_help_lists_every_target():
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):(?!=)", makefile, re.M))
    assert {"deb", "clean", "test", "help"} <= targets
    shown = subprocess.run(["make", "-s", "-C", str(REPO), "help"], capture_output=True, text=True, check=True).stdout
    listed = set(re.findall(r"^make (\S+)", shown, re.M))
    assert targets <= listed, f"missing from `make help`: {sorted(targets - listed)}"


# -- the built package --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    ensure_tool("dpkg-deb", "dpkg")
    build_deb.debian_interpreter(DEB_PYTHON)  # a BuildError here is a failure, not a skip
    work = tmp_path_factory.mktemp("deb-work")
    return build_deb.build(REPO, DEB_PYTHON, tmp_path_factory.mktemp("dist"), work, compression="gzip",
                           package=COLLECTOR)


@pytest.fixture(scope="module")
def root(deb):
    """The package unpacked where an unprivileged user can reach it (pytest's folders are 0700)."""
    with tempfile.TemporaryDirectory(prefix="farmwatch-collector-root-") as folder:
        path = Path(folder)
        path.chmod(0o755)
        subprocess.run(["dpkg", "-x", str(deb), str(path)], check=True)
        yield path


def dpkg_deb(*args) -> str:
    return subprocess.run(["dpkg-deb", *map(str, args)], capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_package_is_the_collector_for_this_version_and_interpreter(deb):
    version = build_deb.project_version(REPO)
    assert deb.name == f"farmwatch-collector_{version}_{build_deb.debian_arch()}.deb"
    assert dpkg_deb("--field", deb, "Package").strip() == "farmwatch-collector"
    assert Path(DEB_PYTHON).resolve().name in re.split(r"[,\s]+", dpkg_deb("--field", deb, "Depends"))


@pytest.mark.slow
def test_package_holds_its_venv_unit_and_command_and_not_the_agents(deb, tmp_path):
    listing = dpkg_deb("--contents", deb).splitlines()
    names = {line.split()[5].removeprefix(".") for line in listing}
    venv = str(COLLECTOR.venv)
    assert {"/usr/lib/systemd/system/farmwatch-collector.service", f"{venv}/bin/farmwatch-collector",
            f"{venv}/pyvenv.cfg", "/usr/share/doc/farmwatch-collector/deploy.md",
            "/usr/lib/systemd/system/farmwatch-console.service", "/usr/share/doc/farmwatch-collector/console.md"} <= names
    assert any("/site-packages/sqlite_utils/" in name for name in names), "the collector extra is installed"
    assert any("/site-packages/starlette/" in name for name in names), "the console extra is installed"
    assert f"{venv}/bin/farmwatch-agent" not in names
    assert not any(name.startswith(("/opt/farmwatch/venv", "/etc/", "/var/")) for name in names), \
        "nothing of the agent's package, no conffile, no state shipped"
    assert not any(name.endswith(".pyc") for name in names)
    assert all(line.split()[1] == "root/root" for line in listing)
    link = next(line for line in listing if line.split()[5] == "./usr/bin/farmwatch-collector")
    assert link.endswith(f"-> {venv}/bin/farmwatch-collector")
    subprocess.run(["dpkg-deb", "--control", str(deb), str(tmp_path / "control")], check=True)
    assert not (tmp_path / "control" / "conffiles").exists()
    for script in COLLECTOR.maintainer_scripts:
        assert (tmp_path / "control" / script).read_bytes() == (CONTROL / script).read_bytes()
        assert (tmp_path / "control" / script).stat().st_mode & 0o111


@pytest.mark.slow
def test_nothing_in_the_package_points_at_the_build_machine(root):
    assert build_deb.files_mentioning(root, "farmwatch-deb-") == []
    assert build_deb.files_mentioning(root, "farmwatch-wheel-") == []
    script = root / COLLECTOR.venv.relative_to("/") / "bin" / "farmwatch-collector"
    assert script.read_text().startswith(f"#!{COLLECTOR.venv}/bin/python\n")


@pytest.mark.slow
def test_installed_unit_passes_systemd_analyze_verify(root, tmp_path):
    done = verify(unit_for(root, tmp_path / "home", "127.0.0.1:7443"), tmp_path)
    assert (done.returncode, done.stderr) == (0, "")


# -- the unit's command, run as an unprivileged user on a read-only system ----------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sandbox:
    """Runs commands as `nobody`, without capabilities, in a mount namespace where / is read-only
    and only the collector's home stays writable: what the unit's ProtectSystem=strict,
    StateDirectory=, User= and empty CapabilityBoundingSet= leave `serve`."""

    def __init__(self, root: Path, home: Path):
        self.root, self.home = root, home
        self.python = root / COLLECTOR.venv.relative_to("/") / "bin" / "python"

    DROP = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs"]

    def as_user(self, argv: list[str]) -> subprocess.CompletedProcess:
        """`sudo -u farmwatch-collector …` by the admin: the service's user, outside the sandbox."""
        return subprocess.run([*self.DROP, *argv], capture_output=True, text=True, timeout=120, cwd="/")

    def argv(self, argv: list[str]) -> list[str]:
        drop = self.DROP
        inner = (f"mount --bind {shlex.quote(str(self.home))} {shlex.quote(str(self.home))} && "
                 f"mount -o remount,bind,ro / && exec {shlex.join(drop + argv)}")
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner]

    def collector(self, *args: str) -> list[str]:
        # -I: nothing from this checkout may stand in for the installed collector; the console script's module
        return self.argv([str(self.python), "-I", "-m", "farmwatch.collector.program", *args])

    def run(self, argv: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(argv), capture_output=True, text=True, timeout=120, cwd="/", **kw)


@pytest.fixture(scope="module")
def served(root):
    """pki init in a fresh home, then the unit's ExecStart (paths into root and home, a free port)."""
    for tool, package in (("setpriv", "util-linux"), ("unshare", "util-linux")):
        ensure_tool(tool, package)
    if os.geteuid() != 0:
        pytest.fail("these tests run the collector as `nobody` in a read-only mount namespace: run them as root")
    home = root / "home"
    home.mkdir(mode=0o700)
    shutil.chown(home, "nobody", "nogroup")
    box = Sandbox(root, home)
    init = subprocess.run(box.collector("--home", str(home), "pki", "init", "--san", "localhost",
                                       "--san", "127.0.0.1"),
                          capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    # many simulated agents connect from 127.0.0.1 (bench/loadgen.py): believe their x-forwarded-for
    settings = home / "collector.toml"
    edited = settings.read_text().replace("trusted_proxies = []", 'trusted_proxies = ["127.0.0.1/32"]')
    assert edited != settings.read_text()
    done = box.run(["sh", "-c", f"cat > {shlex.quote(str(settings))}"], input=edited)
    assert done.returncode == 0, done.stderr

    port = free_port()
    unit = read_unit(unit_for(root, home, f"127.0.0.1:{port}"))["Service"]
    exec_start = shlex.split(unit["ExecStart"])
    assert exec_start[0] == str(root / COLLECTOR.venv.relative_to("/") / "bin" / "farmwatch-collector")
    # the console script's #! names /opt/…/python, not there on this machine: run it with the venv's
    command = box.argv([str(box.python), "-I", exec_start[0], *exec_start[1:]])
    log = root / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "event=serving" not in log.read_text():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    yield box, f"127.0.0.1:{port}", process, log
    if process.poll() is None:
        process.kill()
        process.wait()


def token(box: Sandbox, *extra: str) -> str:
    done = subprocess.run(box.collector("--home", str(box.home), "token", "create", *extra),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


@pytest.mark.slow
def test_the_units_command_serves_an_agent_writing_nothing_but_its_home(served, tmp_path):
    box, address, process, _ = served
    state = tmp_path / "agent"
    agent = [sys.executable, "-m", "farmwatch.agent.cli", "--state-dir", str(state)]
    enrolled = subprocess.run([*agent, "enroll", "--collector", address, "--token", token(box), "--ca-cert",
                               str(box.home / "pki" / "ca.crt"), "--device-id", "PKG-TEST-1"],
                              capture_output=True, text=True, timeout=120)
    assert enrolled.returncode == 0, enrolled.stderr
    sent = subprocess.run([*agent, "run", "--once"], capture_output=True, text=True, timeout=120)
    assert sent.returncode == 0 and '"delivered": true' in sent.stdout, sent.stderr
    assert process.poll() is None
    assert (box.home.stat().st_mode & 0o777) == 0o700
    owners = {(p.stat().st_uid, p.stat().st_gid) for p in [box.home, *box.home.rglob("*")]}
    nobody = subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout.strip()
    assert {uid for uid, _ in owners} == {int(nobody)}


def guide_command(prefix: str) -> list[str]:
    """The one command line of docs/deploy.md that starts with `prefix`, as argv."""
    lines = [line for line in GUIDE.replace("\\\n", " ").splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, lines
    return shlex.split(lines[0])


@pytest.mark.slow
def test_the_guides_backup_commands_copy_a_live_database_consistently(served, root):
    """Both backup commands of docs/deploy.md, run as the service's user while reports arrive."""
    box, address, process, _ = served
    ensure_tool("sqlite3", "sqlite3")
    backups = root / "backups"
    backups.mkdir(mode=0o700)
    shutil.chown(backups, "nobody", "nogroup")
    database = box.home / "farmwatch.sqlite"

    def in_place(argv: list[str], name: str) -> list[str]:
        """The guide's argv with its paths pointed at this test's home, backup folder and venv."""
        argv = argv[argv.index("farmwatch-collector") + 1:]  # what follows `sudo -u farmwatch-collector`
        out = []
        for arg in argv:
            arg = arg.replace("$H/farmwatch.sqlite", str(database))
            arg = arg.replace("/var/backups/farmwatch/fw.sqlite", str(backups / name))
            out.append(arg.replace(str(COLLECTOR.venv), str(root / COLLECTOR.venv.relative_to("/"))))
        return out

    cli_backup = in_place(guide_command('sudo -u farmwatch-collector sqlite3 "$H/farmwatch.sqlite" ".backup /var/backups/farmwatch/fw.sqlite"'), "cli.sqlite")
    py_backup = in_place(guide_command("sudo -u farmwatch-collector /opt/farmwatch/collector-venv/bin/python -c"), "py.sqlite")
    assert str(database) in cli_backup and str(database) in py_backup

    ca_pem = (box.home / "pki" / "ca.crt").read_bytes()
    agents = enroll_agents(address, ca_pem, token(box, "--uses", "8"), count=8)
    load: dict = {}
    writer = threading.Thread(target=lambda: load.update(result=run_load(address, agents, seconds=6, rate=60.0)))
    writer.start()
    try:
        time.sleep(2)  # reports are arriving now
        for argv in (cli_backup, py_backup):
            done = box.as_user(argv)
            assert done.returncode == 0, (argv, done.stderr)
    finally:
        writer.join()
    assert not load["result"].failed, load["result"].summary()
    for name in ("cli.sqlite", "py.sqlite"):
        with sqlite3.connect(f"file:{backups / name}?mode=ro", uri=True) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert copy.execute("SELECT count(*) FROM reports").fetchone()[0] > 0
            assert copy.execute("PRAGMA user_version").fetchone()[0] > 0
    assert process.poll() is None


@pytest.mark.slow
def test_sigterm_stops_serve_cleanly(served):
    # runs last in this file (pytest keeps file order): the fixture's collector ends here
    _, _, process, log = served
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log.read_text()
    assert "event=stopped" in log.read_text()
