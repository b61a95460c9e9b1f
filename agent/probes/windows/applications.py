"""Installed programs (the Uninstall keys Control Panel lists) and Windows services.

Uninstall entries are read from the machine's 64-bit and 32-bit (WOW6432Node) views and
from each logged-in person's hive, where per-user installers (AnyDesk, Chrome Remote
Desktop, RustDesk in user mode) register. Updates and hotfixes that hang under a parent
program are left out; SystemComponent entries stay in, as a tool may hide itself that way.

Services come from psutil's service table. Those hosted in svchost.exe are Windows's own
(RDP among them, which ``remote_access`` reports), so they are left out.
"""

from __future__ import annotations

import re
from typing import Any

from farmwatch.v1 import report_pb2

from ..context import ProbeContext
from ..registry import RegistryReader
from ._hives import registry, user_hives

UNINSTALL = "Microsoft\\Windows\\CurrentVersion\\Uninstall"
MACHINE_UNINSTALL_KEYS = (f"HKLM\\SOFTWARE\\{UNINSTALL}", f"HKLM\\SOFTWARE\\WOW6432Node\\{UNINSTALL}")
_UPDATE_TYPES = {"Update", "Hotfix", "Security Update"}
_SHARED_HOST = "svchost.exe"
# the executable of a service command line: quoted, or up to the first ".exe"
_EXECUTABLE = re.compile(r'^\s*"([^"]+)"|^\s*(.+?\.exe)\b', re.IGNORECASE)


def collect(ctx: ProbeContext) -> list[report_pb2.Application]:
    reader = registry(ctx)
    programs = installed_programs(reader) if reader is not None else []
    return programs + services(ctx.table("services") or [])


def installed_programs(reader: RegistryReader) -> list[report_pb2.Application]:
    keys = [*MACHINE_UNINSTALL_KEYS, *(f"{hive}\\Software\\{UNINSTALL}" for hive in user_hives(reader))]
    programs = []
    for key in keys:
        for name in reader.subkeys(key):
            program = uninstall_entry(reader.values(f"{key}\\{name}") or {})
            if program is not None:
                programs.append(program)
    return programs


def uninstall_entry(values: dict[str, Any]) -> report_pb2.Application | None:
    name = str(values.get("DisplayName", "")).strip()
    if not name or values.get("ParentKeyName") or values.get("ReleaseType") in _UPDATE_TYPES:
        return None
    return report_pb2.Application(
        name=name,
        version=str(values.get("DisplayVersion", "")).strip(),
        path=str(values.get("InstallLocation", "")).strip().strip('"').rstrip("\\"),
        publisher=str(values.get("Publisher", "")).strip(),
        source="registry",
    )


def services(rows: list[dict[str, Any]]) -> list[report_pb2.Application]:
    found = []
    for row in rows:
        executable = service_executable(row.get("binpath") or "")
        if executable.lower().endswith(_SHARED_HOST):
            continue
        # the service's key name (what sc.exe and the catalogue's service lists use)
        found.append(report_pb2.Application(name=row.get("name") or row.get("display_name") or "",
                                            path=executable, source="service"))
    return found


def service_executable(command_line: str) -> str:
    match = _EXECUTABLE.match(command_line)
    if not match:
        return command_line.strip()
    return match[1] or match[2]
