"""What the probes ask of a machine beyond its files: tools to run, the OS's process,
socket, login and service tables, and (on Windows) the registry.

LiveMachine asks the running OS. A sysroot is files only (FilesOnly): it runs nothing
and has no tables. A recording (``recording.py``) replays what a real machine answered,
so the macOS and Windows probes run on any CI host.

Tables come back as plain dicts in psutil's own shapes (``Process.as_dict``,
``net_connections``, ``users``, ``WindowsService.as_dict``), which is also how they are
recorded.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psutil

from .registry import RegistryReader, WinregReader

PROCESS_FIELDS = ("pid", "ppid", "name", "exe", "cmdline", "username", "create_time")


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str = ""


class Machine(Protocol):
    def has_tool(self, name: str) -> bool: ...

    def run(self, argv: Sequence[str], timeout: float) -> CommandResult | None:
        """None when the tool is not installed; raises OSError or subprocess errors."""

    def processes(self) -> list[dict[str, Any]] | None: ...

    def connections(self) -> list[dict[str, Any]] | None: ...

    def interfaces(self) -> dict[str, dict[str, Any]] | None: ...

    def users(self) -> list[dict[str, Any]] | None: ...

    def services(self) -> list[dict[str, Any]] | None: ...

    def boot_time(self) -> float | None: ...

    def registry(self) -> RegistryReader | None: ...


class FilesOnly:
    """A sysroot: every table is None (unknown), no tool is installed."""

    def has_tool(self, name: str) -> bool:
        return False

    def run(self, argv: Sequence[str], timeout: float) -> CommandResult | None:
        return None

    def processes(self) -> None:
        return None

    def connections(self) -> None:
        return None

    def interfaces(self) -> None:
        return None

    def users(self) -> None:
        return None

    def services(self) -> None:
        return None

    def boot_time(self) -> None:
        return None

    def registry(self) -> None:
        return None


class LiveMachine:
    """The running OS. One is made per scan, so the process table is read once per scan
    even though processes, network and remote_access all look at it."""

    def __init__(self) -> None:
        self._processes: list[dict[str, Any]] | None = None

    def has_tool(self, name: str) -> bool:
        return shutil.which(name) is not None

    def run(self, argv: Sequence[str], timeout: float) -> CommandResult | None:
        if not self.has_tool(argv[0]):
            return None
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        return CommandResult(done.returncode, done.stdout, done.stderr)

    def processes(self) -> list[dict[str, Any]]:
        if self._processes is None:
            self._processes = [p.info for p in psutil.process_iter(list(PROCESS_FIELDS), ad_value=None)]
        return self._processes

    def connections(self) -> list[dict[str, Any]]:
        return [_connection_dict(c) for c in psutil.net_connections(kind="inet")]

    def interfaces(self) -> dict[str, dict[str, Any]]:
        stats = psutil.net_if_stats()
        tables = {}
        for name, entries in psutil.net_if_addrs().items():
            tables[name] = {
                "addresses": [e.address for e in entries if e.family in (socket.AF_INET, socket.AF_INET6)],
                "mac": next((e.address for e in entries if e.family == psutil.AF_LINK), ""),
                "is_up": bool(stats[name].isup) if name in stats else False,
            }
        return tables

    def users(self) -> list[dict[str, Any]]:
        return [u._asdict() for u in psutil.users()]

    def services(self) -> list[dict[str, Any]] | None:
        # win_service_iter exists only in psutil's Windows build
        iterate = getattr(psutil, "win_service_iter", None)
        if iterate is None:
            return None
        return [_service_dict(service) for service in iterate()]

    def boot_time(self) -> float:
        return psutil.boot_time()

    def registry(self) -> RegistryReader | None:
        return WinregReader.open()


def _connection_dict(conn: Any) -> dict[str, Any]:
    return {
        "type": "udp" if conn.type == socket.SOCK_DGRAM else "tcp",
        "laddr": list(conn.laddr) if conn.laddr else [],
        "raddr": list(conn.raddr) if conn.raddr else [],
        "status": conn.status,
        "pid": conn.pid,
    }


def _service_dict(service: Any) -> dict[str, Any]:
    try:
        return service.as_dict()
    except psutil.Error:
        return {"name": service.name(), "display_name": service.display_name()}
