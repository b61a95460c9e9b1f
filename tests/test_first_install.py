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
    assert set(program.EXTRA_MODULES.values()) == {re.split(r"[<>=!~; \[]", req, 1)[0] for req in extra}


def test_a_missing_module_of_our_own_is_not_blamed_on_the_extra(tmp_path):
    result = subprocess.run([str(BIN / "farmwatch-collector"), "--help"], capture_output=True, text=True,
                            env=without_modules(tmp_path, "farmwatch.collector.config"), timeout=120)
    assert result.returncode == 1 and "farmwatch.collector.config" in result.stderr
    assert "farmwatch[collector]" not in result.stderr
