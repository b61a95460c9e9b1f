"""The recorded macOS and Windows machines under tests/fixtures/{macos,windows}, and
variants of them with a command or table changed, for the probe tests.

A recorded machine is a sysroot with a ``.recorded/`` folder (agent/probes/recording.py);
``farmwatch-agent scan --sysroot tests/fixtures/macos/tinypilot_macbook_air`` prints its report.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from farmwatch.agent.probes.context import ProbeContext

FIXTURES = Path(__file__).parent / "fixtures"
MACHINES = ("macos/tinypilot_macbook_air", "macos/dock_macbook_pro", "windows/pikvm_thinkpad", "windows/dock_thinkpad")
REMOVE = object()


def recorded(name: str) -> Path:
    return FIXTURES / name


def context(machine: str | Path, probe: str) -> ProbeContext:
    root = machine if isinstance(machine, Path) else recorded(machine)
    return ProbeContext.create(root).for_probe(probe)


def variant(tmp_path: Path, name: str, *, commands: dict[str, Any] | None = None,
            tables: dict[str, Any] | None = None, registry: dict[str, dict[str, Any]] | None = None) -> Path:
    """A copy of a recorded machine with some answers replaced: a command key maps to new
    stdout (str), a full answer (dict) or REMOVE (not installed); a table to its rows or
    REMOVE; a registry key to values merged into the recorded ones."""
    root = tmp_path / name.replace("/", "-")
    shutil.copytree(recorded(name), root, symlinks=True)
    recording = root / ".recorded"
    manifest = json.loads((recording / "machine.json").read_text())
    for index, (key, answer) in enumerate((commands or {}).items()):
        if answer is REMOVE:
            manifest["commands"].pop(key)
        elif isinstance(answer, str):
            (recording / f"variant-{index}.out").write_text(answer)
            manifest["commands"][key] = {"stdout": f"variant-{index}.out"}
        else:
            manifest["commands"][key] = answer
    (recording / "machine.json").write_text(json.dumps(manifest))
    if registry:
        keys = json.loads((recording / "registry.json").read_text())
        for key, values in registry.items():
            keys.setdefault(key, {}).update(values)
        (recording / "registry.json").write_text(json.dumps(keys))
    for table, rows in (tables or {}).items():
        path = recording / f"{table}.json"
        if rows is REMOVE:
            path.unlink()
        else:
            path.write_text(json.dumps(rows))
    return root
