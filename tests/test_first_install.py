"""What a first-time installer meets: the programs as installed, their --help and --version, the example
addresses the docs give, and `pip install farmwatch` without the collector's extra."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from farmwatch.collector import program

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def without_modules(tmp_path: Path, *modules: str) -> dict:
    """An environment in which `modules` cannot be imported, as after `pip install farmwatch` without
    extras: a sitecustomize that blocks them (None in sys.modules makes `import` fail)."""
    hook = tmp_path / "blocker"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text("import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in modules))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))}


@pytest.mark.parametrize("module, args", [
    ("sqlite_utils", ["--help"]), ("sqlite_utils", ["--home", "HOME", "pki", "init"]),
    ("sqlite_utils", ["--home", "HOME", "serve"]),
    ("grpc_health", ["--home", "HOME", "serve"]),  # only `serve` needs it: the rest works without
])
def test_without_the_collector_extra_every_command_says_what_to_install(tmp_path, module, args):
    args = [str(tmp_path / "home") if a == "HOME" else a for a in args]
    result = subprocess.run([str(BIN / "farmwatch-collector"), *args], capture_output=True, text=True,
                            env=without_modules(tmp_path, module), timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "pip install 'farmwatch[collector]'" in result.stderr
    assert program.EXTRA_MODULES[module] in result.stderr


def test_the_extra_modules_are_the_collector_extra_of_pyproject():
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["collector"]
    assert set(program.EXTRA_MODULES.values()) == {re.split(r"[<>=!~; \[]", req, maxsplit=1)[0] for req in extra}


def test_a_missing_module_of_our_own_is_not_blamed_on_the_extra(tmp_path):
    result = subprocess.run([str(BIN / "farmwatch-collector"), "--help"], capture_output=True, text=True,
                            env=without_modules(tmp_path, "farmwatch.collector.config"), timeout=120)
    assert result.returncode == 1 and "farmwatch.collector.config" in result.stderr
    assert "farmwatch[collector]" not in result.stderr


def test_both_programs_say_their_version_which_is_the_projects(capsys):
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for program_name in ("farmwatch-collector", "farmwatch-agent"):
        result = subprocess.run([str(BIN / program_name), "--version"], capture_output=True, text=True, timeout=120)
        assert (result.returncode, result.stdout) == (0, f"{program_name} {version}\n")


EXAMPLE_ADDRESS = re.compile(r"(?:example\.com|\d+\.\d+\.\d+\.\d+|localhost|\[::\]|\[::1\]|HOST):(\d{2,5})\b")


def user_facing_texts() -> dict[str, str]:
    """README, docs, packaging, the shipped settings and both programs' --help (every command's)."""
    from farmwatch.agent import cli as agent_cli
    from farmwatch.collector import cli as collector_cli

    texts = {str(p.relative_to(REPO)): p.read_text(errors="replace")
             for pattern in ("README.md", "docs/*.md", "packaging/**/*", "collector/collector.example.toml")
             for p in REPO.glob(pattern) if p.is_file() and p.suffix not in (".png", ".icns")}
    for name, parser in (("agent", agent_cli.build_parser()), ("collector", collector_cli.build_parser())):
        texts[f"{name} --help"] = parser.format_help() + "".join(
            sub.format_help() for action in parser._subparsers._group_actions for sub in action.choices.values())
    return texts


def test_one_example_port_everywhere():
    """The README's 7443: an installer who copies one example and then another must not be told two ports."""
    # https and syslog receivers in export examples: other services' ports; 8443: the web console's own
    others = {443, 514, 6514, 8443}
    ports = {text_name: sorted({int(port) for port in EXAMPLE_ADDRESS.findall(text)} - {7443} - others)
             for text_name, text in user_facing_texts().items()}
    assert {name: found for name, found in ports.items() if found} == {}
