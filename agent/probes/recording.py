"""A machine replayed from what a real one answered: the macOS and Windows probes run
against it on any host, and ``scan --sysroot`` of a recorded tree gives that OS's report.

A recorded machine is a sysroot with a ``.recorded/`` folder beside the files:

    .recorded/machine.json   {"os": "macos", "boot_time": 1764000000,
                              "commands": {"<command key>": {"stdout": "<file>"} |
                                           {"returncode": 1, "stderr": "..."} |
                                           {"missing": true}}}
    .recorded/<file>         a command's recorded stdout
    .recorded/processes.json, connections.json, interfaces.json, users.json,
    services.json            psutil tables (see machine.py); absent = not recorded
    .recorded/registry.json  {"HKLM\\\\...": {"Value": ...}}, REG_BINARY as {"hex": "..."}

A command's key is its argv joined by spaces, each argument cut to its first line, so a
PowerShell script is known by its first line (a comment naming it). A command that is
not in the recording counts as a tool that is not installed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .machine import CommandResult
from .registry import DictRegistry

RECORDING_DIR = ".recorded"
MANIFEST = "machine.json"


class RecordingError(ValueError):
    """The recording's manifest cannot be read."""


def command_key(argv: Sequence[str]) -> str:
    return " ".join(argument.strip().split("\n", 1)[0].strip() for argument in argv)


def is_recording(sysroot: Path) -> bool:
    return (sysroot / RECORDING_DIR / MANIFEST).is_file()


class RecordedMachine:
    def __init__(self, sysroot: Path):
        self.directory = sysroot / RECORDING_DIR
        try:
            self.manifest = json.loads((self.directory / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RecordingError(f"{self.directory / MANIFEST}: {exc}") from exc
        self.commands: dict[str, dict[str, Any]] = self.manifest.get("commands", {})

    @property
    def os_name(self) -> str:
        return self.manifest["os"]

    def has_tool(self, name: str) -> bool:
        return any(
            key.split(" ", 1)[0] == name and not answer.get("missing") for key, answer in self.commands.items()
        )

    def run(self, argv: Sequence[str], timeout: float) -> CommandResult | None:
        answer = self.commands.get(command_key(argv))
        if answer is None or answer.get("missing"):
            return None
        stdout = (self.directory / answer["stdout"]).read_text(encoding="utf-8") if "stdout" in answer else ""
        return CommandResult(answer.get("returncode", 0), stdout, answer.get("stderr", ""))

    def _table(self, name: str) -> Any:
        path = self.directory / f"{name}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def processes(self) -> list[dict[str, Any]] | None:
        return self._table("processes")

    def connections(self) -> list[dict[str, Any]] | None:
        return self._table("connections")

    def interfaces(self) -> dict[str, dict[str, Any]] | None:
        return self._table("interfaces")

    def users(self) -> list[dict[str, Any]] | None:
        return self._table("users")

    def services(self) -> list[dict[str, Any]] | None:
        return self._table("services")

    def boot_time(self) -> float | None:
        return self.manifest.get("boot_time")

    def registry(self) -> DictRegistry | None:
        keys = self._table("registry")
        if keys is None:
            return None
        return DictRegistry({path: {n: _registry_value(v) for n, v in values.items()} for path, values in keys.items()})


def _registry_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"hex"}:
        return bytes.fromhex(value["hex"])
    return value
