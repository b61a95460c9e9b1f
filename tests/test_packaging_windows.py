"""Windows packaging, checked off Windows. PowerShell cannot be parsed here (no pwsh package), so
the scripts are held to what can be: their paths, names and arguments agree with the agent's
modules and CLIs, the file they write is valid settings, and brackets balance. The service
wrapper runs against stand-ins for pywin32's modules (the machine edge); the payload build runs
for real, fetching win_amd64 wheels from the package index."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
import types
from pathlib import Path, PureWindowsPath

import pytest

from farmwatch.agent import provision, service

REPO = Path(__file__).resolve().parents[1]
WINDOWS = REPO / "packaging" / "windows"
POWERSHELL = [WINDOWS / "install.ps1", WINDOWS / "uninstall.ps1", WINDOWS / "common.ps1",
              WINDOWS / "detect.ps1.template"]
PROGRAM_DATA = r"C:\ProgramData"
PROGRAM_FILES = r"C:\Program Files"


# -- reading the PowerShell ---------------------------------------------------------------------

def assignments(path: Path) -> dict[str, str]:
    """`$Name = "text"` and `$Name = Join-Path $Other "text"` lines, evaluated as Windows paths."""
    values = {"env:ProgramData": PROGRAM_DATA, "env:ProgramFiles": PROGRAM_FILES}
    for line in path.read_text().splitlines():
        joined = re.fullmatch(r'\$(\w+)\s*=\s*Join-Path \$([\w:]+) "([^"]+)"', line.strip())
        plain = re.fullmatch(r'\$(\w+)\s*=\s*"([^"$]*)"', line.strip())
        if joined:
            values[joined.group(1)] = str(PureWindowsPath(values[joined.group(2)]) / joined.group(3))
        elif plain:
            values[plain.group(1)] = plain.group(2)
    return values


def without_strings_and_comments(text: str) -> str:
    text = re.sub(r"<#.*?#>", "", text, flags=re.S)
    out, quote, i = [], None, 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "`" and quote == '"':
                i += 2
                continue
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(char)
        i += 1
    assert quote is None, "unterminated string"
    return "".join(out)


def powershell_array(text: str, start: str) -> list[str]:
    """The string items of the `@(...)` that follows `start` in `text`, `$Var` items kept as names."""
    body = text[text.index(start) + len(start):]
    body = body[:body.index(")")]
    return [text or name for text, name in re.findall(r'"([^"]*)"|(\$\w+)', body)]


@pytest.mark.parametrize("script", POWERSHELL, ids=lambda p: p.name)
def test_brackets_balance(script):
    code = without_strings_and_comments(script.read_text())
    for opening, closing in ("{}", "()", "[]"):
        assert code.count(opening) == code.count(closing), f"{opening}{closing} in {script.name}"


def test_scripts_stop_on_the_first_error():
    for script in (WINDOWS / "install.ps1", WINDOWS / "uninstall.ps1"):
        text = script.read_text()
        assert '$ErrorActionPreference = "Stop"' in text and ". (Join-Path $PSScriptRoot \"common.ps1\")" in text


# -- the names the scripts and the agent share --------------------------------------------------

@pytest.fixture
def on_windows(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("ProgramData", PROGRAM_DATA)


def test_scripts_use_the_paths_the_service_reads(on_windows):
    names = assignments(WINDOWS / "common.ps1")
    assert PureWindowsPath(names["SettingsFile"]) == PureWindowsPath(service.default_settings_path())
    assert PureWindowsPath(names["StateDir"]) == PureWindowsPath(service.default_service_state_dir())
    assert PureWindowsPath(names["Python"]) == PureWindowsPath(PROGRAM_FILES, "farmwatch", "python", "python.exe")


def test_detection_rule_repeats_the_install_names_exactly():
    common, detect = assignments(WINDOWS / "common.ps1"), assignments(WINDOWS / "detect.ps1.template")
    for name in ("InstallDir", "Python", "VersionFile", "ServiceName", "TaskName"):
        assert detect[name] == common[name], name
    assert detect["ExpectedVersion"] == "@VERSION@"


def test_settings_file_the_installer_writes_is_valid(tmp_path):
    lines = powershell_array((WINDOWS / "install.ps1").read_text(),
                             "Set-Content -Path $SettingsFile -Encoding ascii -Value @(")
    state_dir = assignments(WINDOWS / "common.ps1")["StateDir"]
    text = "\n".join(lines) + "\n"
    # literal strings: the backslashes of the Windows path arrive unchanged
    assert tomllib.loads(text.replace("$StateDir", state_dir)) == {"state_dir": state_dir, "log_level": "info"}
    # and the service accepts the file (a POSIX path stands in: this is not Windows)
    path = tmp_path / "agent.toml"
    path.write_text(text.replace("$StateDir", str(tmp_path / "state")))
    assert service.load_settings(path).state_dir == tmp_path / "state"


def test_installer_provisions_with_arguments_provision_accepts():
    items = powershell_array((WINDOWS / "install.ps1").read_text(), '$arguments = @("-m", ')
    module_and_args = ["-m", *items]
    assert module_and_args[:2] == ["-m", "farmwatch.agent.provision"]
    args = provision.build_parser().parse_args(
        [{"$Collector": "fw.example.com:7443", "$CaCertFile": "ca.crt", "$TokenFile": "token.txt"}.get(a, a)
         for a in module_and_args[2:]])
    assert (args.collector, str(args.ca_cert), str(args.token_file)) == ("fw.example.com:7443", "ca.crt", "token.txt")


def test_scheduled_task_runs_the_service_entry_with_a_log_file():
    text = (WINDOWS / "install.ps1").read_text()
    line = re.search(r'\$arguments = "(-m farmwatch\.agent\.service [^\n]*)"\n', text).group(1)
    argv = shlex.split(line.replace('`"', '"').replace("$SettingsFile", "agent.toml").replace("$LogFile", "agent.log"))
    assert argv[:2] == ["-m", "farmwatch.agent.service"]
    args = service.build_parser().parse_args(argv[2:])
    assert (str(args.config), str(args.log_file)) == ("agent.toml", "agent.log")


# -- the service wrapper, with pywin32 stood in for ---------------------------------------------

class FakeServiceFramework:
    def __init__(self, args):
        self.args, self.statuses = args, []

    def ReportServiceStatus(self, status):
        self.statuses.append(status)


@pytest.fixture
def winservice(monkeypatch, tmp_path):
    calls: list[tuple] = []
    fakes = {
        "win32serviceutil": types.SimpleNamespace(
            ServiceFramework=FakeServiceFramework,
            HandleCommandLine=lambda cls, argv: calls.append(("HandleCommandLine", cls, argv))),
        "win32service": types.SimpleNamespace(SERVICE_STOP_PENDING=3),
        "servicemanager": types.SimpleNamespace(
            EVENTLOG_INFORMATION_TYPE=4, PYS_SERVICE_STARTED=1, PYS_SERVICE_STOPPED=2,
            LogMsg=lambda *a: calls.append(("LogMsg", *a)),
            LogErrorMsg=lambda message: calls.append(("LogErrorMsg", message)),
            Initialize=lambda: calls.append(("Initialize",)),
            PrepareToHostSingle=lambda cls: calls.append(("PrepareToHostSingle", cls)),
            StartServiceCtrlDispatcher=lambda: calls.append(("StartServiceCtrlDispatcher",))),
    }
    for name, module in fakes.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.delitem(sys.modules, "farmwatch.agent.winservice", raising=False)
    monkeypatch.setenv("ProgramData", str(tmp_path / "ProgramData"))
    monkeypatch.setenv(service.STATE_DIR_ENV, "restored after the test")
    (tmp_path / "ProgramData" / "farmwatch").mkdir(parents=True)
    import farmwatch.agent.winservice as module

    module.calls = calls
    yield module
    sys.stderr = sys.__stderr__


def test_service_names_agree_with_the_scripts(winservice):
    common = assignments(WINDOWS / "common.ps1")
    assert winservice.AgentService._svc_name_ == common["ServiceName"]
    install = (WINDOWS / "install.ps1").read_text()
    assert f'"-m", "{winservice.__name__}"' in install
    assert winservice.AgentService._exe_args_ == f"-m {winservice.__name__}"


def test_service_runs_the_agent_until_the_scm_stops_it(winservice, tmp_path, monkeypatch):
    settings_file = tmp_path / "agent.toml"
    settings_file.write_text(f"state_dir = '{tmp_path / 'state'}'\nlog_level = 'info'\n")
    monkeypatch.setattr(service, "default_settings_path", lambda: settings_file)
    svc = winservice.AgentService(["farmwatch-agent"])
    thread = threading.Thread(target=svc.SvcDoRun)
    thread.start()
    log = tmp_path / "ProgramData" / "farmwatch" / "agent.log"
    deadline = time.monotonic() + 10
    while "no bootstrap file yet" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)
    svc.SvcStop()
    thread.join(10)
    assert not thread.is_alive()
    assert "no bootstrap file yet" in log.read_text()
    assert svc.statuses == [3]
    kinds = [call[0] for call in winservice.calls]
    assert kinds == ["LogMsg", "LogMsg"]


def test_unusable_settings_go_to_the_event_log(winservice, tmp_path, monkeypatch):
    settings_file = tmp_path / "agent.toml"
    settings_file.write_text("log_level = 'loud'\n")
    monkeypatch.setattr(service, "default_settings_path", lambda: settings_file)
    winservice.AgentService(["farmwatch-agent"]).SvcDoRun()
    assert winservice.calls[0][0] == "LogErrorMsg" and "log_level" in winservice.calls[0][1]


def test_started_bare_it_hosts_itself_otherwise_it_manages_the_service(winservice):
    winservice.main(["python.exe"])
    assert [c[0] for c in winservice.calls] == ["Initialize", "PrepareToHostSingle", "StartServiceCtrlDispatcher"]
    winservice.calls.clear()
    winservice.main(["python.exe", "--startup", "auto", "install"])
    assert winservice.calls == [("HandleCommandLine", winservice.AgentService,
                                 ["python.exe", "--startup", "auto", "install"])]


# -- the payload build --------------------------------------------------------------------------

def test_payload_build_parses_and_refuses_a_wrong_archive(tmp_path):
    script = WINDOWS / "build-payload.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    done = subprocess.run(["bash", str(script), "--python-archive", str(tmp_path / "python.zip")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "install_only archive" in done.stderr


@pytest.mark.slow
def test_payload_build_lays_out_the_intune_folder(tmp_path):
    # The interpreter archive stands in for python-build-standalone's: only its layout matters here.
    archive = tmp_path / "cpython-3.12.8+20250106-x86_64-pc-windows-msvc-install_only.tar.gz"
    (tmp_path / "python").mkdir()
    (tmp_path / "python" / "python.exe").write_bytes(b"MZ")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "python", arcname="python")
    out = tmp_path / "dist" / "farmwatch-agent-windows"
    done = subprocess.run(["bash", str(WINDOWS / "build-payload.sh"), "--python-archive", str(archive),
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "HOME": str(Path.home())})
    assert done.returncode == 0, done.stderr

    version = (out / "VERSION").read_text().strip()
    assert {p.name for p in out.iterdir()} == {"install.ps1", "uninstall.ps1", "common.ps1", "VERSION",
                                               "python", "wheels"}
    wheels = [p.name for p in (out / "wheels").iterdir()]
    assert f"farmwatch-{version}-py3-none-any.whl" in wheels
    for name in ("grpcio", "protobuf", "cryptography", "psutil", "pywin32"):
        (wheel,) = [w for w in wheels if w.lower().startswith(name + "-")]
        assert wheel.endswith("win_amd64.whl"), wheel
    assert not any(w.startswith("sqlite_utils") for w in wheels), "collector extra bundled"
    detect = (out.parent / "detect.ps1").read_text()
    assert f'$ExpectedVersion = "{version}"' in detect and "@VERSION@" not in detect
