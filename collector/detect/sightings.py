"""Where the catalogue's tools show up in a report: running processes, installed software.

One pass per report; the software and network rules all read these sightings, so a tool is
recognised the same way everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from farmwatch.collector.catalogue import Catalogue, Tool, normalise_name
from farmwatch.collector.detect.report import ApplicationView, ProcessView, ReportView

SERVICE_SOURCES = {"service", "services", "launchd", "systemd"}
LINUX_COMM_LENGTH = 15  # the kernel truncates process names to 15 characters
VERSION_TAIL = re.compile(r"[\s_-]*(v?\d+(\.\d+)*|\((x64|x86|64-bit|32-bit)\))$")


@dataclass(frozen=True)
class Sighting:
    tool: Tool
    how: str                # process | application | service
    field: str              # catalogue field that matched, e.g. "processes.windows"
    value: str              # the catalogue value that matched
    item: dict              # the reported object, for evidence
    path: str = ""
    signer: str = ""
    process: ProcessView | None = None

    def signature(self) -> dict:
        return {"field": self.field, "value": self.value, "source": self.tool.source}


def app_name_keys(name: str) -> list[str]:
    """The app name, and the same without a trailing version or bitness ("TeamViewer 15")."""
    key = normalise_name(name)
    keys = [key]
    while (shorter := VERSION_TAIL.sub("", keys[-1])) and shorter != keys[-1]:
        keys.append(shorter)
    return keys


def _truncated_matches(catalogue: Catalogue, name: str) -> list[tuple[Tool, str]]:
    """Linux names cut at 15 characters: `chrome-remote-d` is `chrome-remote-desktop-host`."""
    key = normalise_name(name)
    return [(tool, full) for known, tool, full in catalogue.long_linux_names
            if len(known) > LINUX_COMM_LENGTH and known.startswith(key)]


def _process_matches(view: ReportView, catalogue: Catalogue, proc: ProcessView) -> list[tuple[Tool, str, str]]:
    found: list[tuple[Tool, str, str]] = []
    for name in proc.names:
        found += [(t, v, f"processes.{view.os or 'any'}") for t, v in catalogue.tools_for_process(view.os, name)]
        if view.os in ("linux", None) and len(name) == LINUX_COMM_LENGTH:
            found += [(t, v, "processes.linux") for t, v in _truncated_matches(catalogue, name)]
        found += [(t, name, "ambiguous_processes") for t in catalogue.ambiguous_names.get(normalise_name(name), [])
                  if proc.exe and t.install_path_of(proc.exe, view.os)]
    if proc.bundle_id:
        found += [(t, proc.bundle_id, "bundle_ids") for t in catalogue.bundle_ids.get(proc.bundle_id.casefold(), [])]
    return found


def _app_matches(view: ReportView, catalogue: Catalogue, app: ApplicationView) -> list[tuple[Tool, str, str]]:
    found: list[tuple[Tool, str, str]] = []
    for key in app_name_keys(app.name):
        found += [(t, app.name, "app_names") for t in catalogue.app_names.get(key, [])]
    if app.bundle_id:
        found += [(t, app.bundle_id, "bundle_ids") for t in catalogue.bundle_ids.get(app.bundle_id.casefold(), [])]
    if app.source in SERVICE_SOURCES:
        found += [(t, v, f"services.{view.os or 'any'}") for t, v in catalogue.tools_for_service(view.os, app.name)]
    return found


def _first_per_tool(found: list[tuple[Tool, str, str]]) -> list[tuple[Tool, str, str]]:
    seen: dict[str, tuple[Tool, str, str]] = {}
    for match in found:
        seen.setdefault(match[0].id, match)
    return list(seen.values())


def find_sightings(view: ReportView, catalogue: Catalogue) -> list[Sighting]:
    sightings = []
    for proc in view.processes:
        for tool, value, field in _first_per_tool(_process_matches(view, catalogue, proc)):
            sightings.append(Sighting(tool, "process", field, value, proc.evidence(), proc.exe, proc.signer, proc))
    for app in view.applications:
        for tool, value, field in _first_per_tool(_app_matches(view, catalogue, app)):
            how = "service" if field.startswith("services") else "application"
            sightings.append(Sighting(tool, how, field, value, app.evidence(), app.path, app.signer))
    return sightings
