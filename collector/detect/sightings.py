"""Where the catalogue's tools show up in a report: running processes, installed software.

One pass per report; the software and network rules all read these sightings, so a tool is
recognised the same way everywhere.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from functools import lru_cache

from farmwatch.collector.detect.catalogue import Catalogue, Tool, normalise_name
from farmwatch.collector.detect.report import ApplicationView, ProcessView, ReportView, process_names

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
    """The app or executable name, and the same without a trailing version or bitness
    ("TeamViewer 15", "rustdesk-1.3.2"); a browser's ` (N)` is gone already (`normalise_name`)."""
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


def _name_matches(catalogue: Catalogue, os: str | None, name: str, exe: str) -> list[tuple[Tool, str, str]]:
    found: list[tuple[Tool, str, str]] = []
    for key in app_name_keys(name):
        found += [(t, v, f"processes.{os or 'any'}") for t, v in catalogue.tools_for_process(os, key)]
        found += [(t, name, "ambiguous_processes") for t in catalogue.ambiguous_names.get(key, [])
                  if exe and t.install_path_of(exe, os)]
    if os in ("linux", None) and len(name) == LINUX_COMM_LENGTH:
        found += [(t, v, "processes.linux") for t, v in _truncated_matches(catalogue, name)]
    return found


def _process_matches(catalogue: Catalogue, os: str | None, names: tuple[str, ...], exe: str,
                     bundle_id: str, signer: str) -> list[tuple[Tool, str, str]]:
    """Tools the process is, by name, bundle id, install folder or code signer — never the tool
    whose viewer it is (a viewer drives another machine: docs/detection.md §T5). A catalogued viewer
    sits in its vendor's folder and carries its vendor's signature (RealVNC signs VNC Viewer as it
    signs VNC Server), so folder and signer say nothing about it."""
    found = [match for name in names for match in _name_matches(catalogue, os, name, exe)]
    if bundle_id:
        found += [(t, bundle_id, "bundle_ids") for t in catalogue.bundle_ids.get(bundle_id.casefold(), [])]
    if not catalogue.is_viewer(names, bundle_id):
        if exe:
            found += [(t, pattern, f"install_paths.{os or 'any'}")
                      for t, pattern in catalogue.tools_installed_in(exe, os)]
        if tool := catalogue.tool_signed_by(signer):
            found.append((tool, signer, "signers"))
    return [m for m in found if not m[0].is_client(names, bundle_id)]


# A laptop reports the same few hundred processes all day, and a fleet mostly the same ones:
# remember each process identity's matches, per catalogue (dropped with the catalogue).
PROCESS_MATCH_CACHE_SIZE = 32768
_process_match_caches: dict[int, object] = {}


def _cached_process_matches(catalogue: Catalogue):
    """`(os, name, exe, bundle_id, signer) -> ((tool, value, field), ...)`, first match per tool."""
    key = id(catalogue)
    cached = _process_match_caches.get(key)
    if cached is None:
        ref = weakref.ref(catalogue)  # the cache must not keep its catalogue alive

        @lru_cache(maxsize=PROCESS_MATCH_CACHE_SIZE)
        def cached(os, name, exe, bundle_id, signer):
            matches = _process_matches(ref(), os, process_names(name, exe), exe, bundle_id, signer)
            return tuple(_first_per_tool(matches))

        _process_match_caches[key] = cached
        weakref.finalize(catalogue, _process_match_caches.pop, key, None)
    return cached


def _app_matches(view: ReportView, catalogue: Catalogue, app: ApplicationView) -> list[tuple[Tool, str, str]]:
    found: list[tuple[Tool, str, str]] = []
    for key in app_name_keys(app.name):
        found += [(t, app.name, "app_names") for t in catalogue.app_names.get(key, [])]
    if app.bundle_id:
        found += [(t, app.bundle_id, "bundle_ids") for t in catalogue.bundle_ids.get(app.bundle_id.casefold(), [])]
    if app.source in SERVICE_SOURCES:
        found += [(t, v, f"services.{view.os or 'any'}") for t, v in catalogue.tools_for_service(view.os, app.name)]
        found += _service_executable_matches(view, catalogue, app)
    return found


def _service_executable_matches(view: ReportView, catalogue: Catalogue,
                                app: ApplicationView) -> list[tuple[Tool, str, str]]:
    """A service is the tool whose executable it runs (`ToDesk_Service.exe`, or a file in the tool's own
    install folder), whatever the service is called: the process identity applied to its executable."""
    if not app.path:
        return []
    return list(_cached_process_matches(catalogue)(view.os, "", app.path, "", app.signer))


def _first_per_tool(found: list[tuple[Tool, str, str]]) -> list[tuple[Tool, str, str]]:
    seen: dict[str, tuple[Tool, str, str]] = {}
    for match in found:
        seen.setdefault(match[0].id, match)
    return list(seen.values())


def find_sightings(view: ReportView, catalogue: Catalogue) -> list[Sighting]:
    sightings = []
    process_matches = _cached_process_matches(catalogue)
    for proc in view.processes:
        for tool, value, field in process_matches(view.os, proc.name, proc.exe, proc.bundle_id, proc.signer):
            sightings.append(Sighting(tool, "process", field, value, proc.evidence(), proc.exe, proc.signer, proc))
    for app in view.applications:
        how = "service" if app.source in SERVICE_SOURCES else "application"
        for tool, value, field in _first_per_tool(_app_matches(view, catalogue, app)):
            sightings.append(Sighting(tool, how, field, value, app.evidence(), app.path, app.signer))
    return sightings
