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


# A laptop reports the same few hundred processes and applications all day, and a fleet mostly the
# same ones: remember each process identity's and each application's matches, per catalogue (dropped
# with the catalogue). Keys hold no pid, so one process seen under many pids is matched once.
MATCH_CACHE_SIZE = 32768
_match_caches: dict[tuple[int, str], object] = {}


def _per_catalogue(catalogue: Catalogue, match):
    """`match(catalogue, *key)` remembered per key for `catalogue`'s life, first match per tool."""
    key = (id(catalogue), match.__name__)
    cached = _match_caches.get(key)
    if cached is None:
        ref = weakref.ref(catalogue)  # the cache must not keep its catalogue alive

        @lru_cache(maxsize=MATCH_CACHE_SIZE)
        def cached(*args):
            return tuple(_first_per_tool(match(ref(), *args)))

        _match_caches[key] = cached
        weakref.finalize(catalogue, _match_caches.pop, key, None)
    return cached


def _identity_matches(catalogue: Catalogue, os, name, exe, bundle_id, signer) -> list[tuple[Tool, str, str]]:
    return _process_matches(catalogue, os, process_names(name, exe), exe, bundle_id, signer)


def _app_matches(catalogue: Catalogue, os: str | None, app: ApplicationView) -> list[tuple[Tool, str, str]]:
    found: list[tuple[Tool, str, str]] = []
    for key in app_name_keys(app.name):
        found += [(t, app.name, "app_names") for t in catalogue.app_names.get(key, [])]
    if app.bundle_id:
        found += [(t, app.bundle_id, "bundle_ids") for t in catalogue.bundle_ids.get(app.bundle_id.casefold(), [])]
    if app.source in SERVICE_SOURCES:
        found += [(t, v, f"services.{os or 'any'}") for t, v in catalogue.tools_for_service(os, app.name)]
        found += _service_executable_matches(catalogue, os, app)
    return found


def _service_executable_matches(catalogue: Catalogue, os: str | None,
                                app: ApplicationView) -> list[tuple[Tool, str, str]]:
    """A service is the tool whose executable it runs (`ToDesk_Service.exe`, or a file in the tool's own
    install folder), whatever the service is called: the process identity applied to its executable."""
    if not app.path:
        return []
    return list(_per_catalogue(catalogue, _identity_matches)(os, "", app.path, "", app.signer))


def _first_per_tool(found: list[tuple[Tool, str, str]]) -> list[tuple[Tool, str, str]]:
    seen: dict[str, tuple[Tool, str, str]] = {}
    for match in found:
        seen.setdefault(match[0].id, match)
    return list(seen.values())


def process_sightings(catalogue: Catalogue, os: str | None, proc: ProcessView) -> list[Sighting]:
    matches = _per_catalogue(catalogue, _identity_matches)(os, proc.name, proc.exe, proc.bundle_id, proc.signer)
    return [Sighting(tool, "process", field, value, proc.evidence(), proc.exe, proc.signer, proc)
            for tool, value, field in matches]


def application_sightings(catalogue: Catalogue, os: str | None, app: ApplicationView) -> list[Sighting]:
    how = "service" if app.source in SERVICE_SOURCES else "application"
    return [Sighting(tool, how, field, value, app.evidence(), app.path, app.signer)
            for tool, value, field in _per_catalogue(catalogue, _app_matches)(os, app)]


def find_sightings(view: ReportView, catalogue: Catalogue) -> list[Sighting]:
    """Processes first, then applications, each in report order."""
    return [s for proc in view.processes for s in process_sightings(catalogue, view.os, proc)] + \
        [s for app in view.applications for s in application_sightings(catalogue, view.os, app)]
