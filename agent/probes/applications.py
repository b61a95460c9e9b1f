"""Installed software: packages, desktop launchers, snaps, flatpaks and enabled services."""

from __future__ import annotations

from collections.abc import Iterable

from farmwatch.v1 import report_pb2

from ._accounts import human_homes
from ._platform import dispatch
from ._probe import OPERATING_SYSTEMS, Probe
from ._systemd import enabled_units
from .context import ProbeContext

_DPKG_STATUS = "/var/lib/dpkg/status"
_INSTALLED_STATES = ("install ok installed", "hold ok installed")
_DPKG_FIELDS = ("Package", "Status", "Version")
_SYSTEM_DESKTOP_DIRS = ("/usr/share/applications",)
_USER_DESKTOP_DIR = ".local/share/applications"
_FLATPAK_SYSTEM_DIR = "/var/lib/flatpak/app"
_FLATPAK_USER_DIR = ".local/share/flatpak/app"


def collect(ctx: ProbeContext) -> list[report_pb2.Application]:
    return dispatch(ctx, list, linux=_linux, macos="macos.applications", windows="windows.applications")


PROBE = Probe("applications", collect, field="applications", platforms=OPERATING_SYSTEMS)


def _linux(ctx: ProbeContext) -> list[report_pb2.Application]:
    homes = human_homes(ctx)
    return [
        *dpkg_packages(ctx),
        *desktop_entries(ctx, homes),
        *snaps(ctx),
        *flatpaks(ctx, homes),
        *systemd_services(ctx),
    ]


def dpkg_packages(ctx: ProbeContext) -> list[report_pb2.Application]:
    return [
        report_pb2.Application(name=name, version=version, source="dpkg")
        for name, version in parse_dpkg_status(ctx.read_lines(_DPKG_STATUS))
    ]


def parse_dpkg_status(lines: Iterable[str]) -> list[tuple[str, str]]:
    """(package, version) of each installed stanza of a dpkg status file, given line by line
    with line ends (stanzas end at an empty line)."""
    installed: list[tuple[str, str]] = []
    fields: dict[str, str] = {}
    for line in lines:
        if line == "\n":
            _keep_installed(fields, installed)
            fields = {}
        elif len(fields) < len(_DPKG_FIELDS):
            key, sep, value = line.partition(": ")
            if sep and key in _DPKG_FIELDS:
                fields[key] = value.strip()
    _keep_installed(fields, installed)
    return installed


def _keep_installed(fields: dict[str, str], installed: list[tuple[str, str]]) -> None:
    if fields.get("Status") in _INSTALLED_STATES and fields.get("Package"):
        installed.append((fields["Package"], fields.get("Version", "")))


def desktop_entries(ctx: ProbeContext, homes: list[str]) -> list[report_pb2.Application]:
    directories = [*_SYSTEM_DESKTOP_DIRS, *(f"{home}/{_USER_DESKTOP_DIR}" for home in homes)]
    apps = []
    for directory in directories:
        for file_name in ctx.list_dir(directory):
            if not file_name.endswith(".desktop"):
                continue
            path = f"{directory}/{file_name}"
            entry = parse_desktop_entry(ctx.read_text(path) or "")
            if entry.get("Hidden", "").lower() == "true":
                continue  # the spec's way of saying "deleted"
            name = entry.get("Name") or file_name.removesuffix(".desktop")
            apps.append(report_pb2.Application(name=name, path=path, source="desktop"))
    return apps


def parse_desktop_entry(text: str) -> dict[str, str]:
    """Unlocalised keys of the [Desktop Entry] group."""
    entry: dict[str, str] = {}
    in_main_group = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            in_main_group = line == "[Desktop Entry]"
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if in_main_group and sep and "[" not in key:
            entry.setdefault(key, value.strip())
    return entry


def snaps(ctx: ProbeContext) -> list[report_pb2.Application]:
    apps = []
    for name in ctx.list_dir("/snap"):
        if not ctx.exists(f"/snap/{name}/current"):
            continue  # /snap/bin, README
        meta = ctx.read_text(f"/snap/{name}/current/meta/snap.yaml") or ""
        apps.append(
            report_pb2.Application(
                name=name, version=_yaml_scalar(meta, "version"), path=f"/snap/{name}", source="snap"
            )
        )
    if apps:
        return apps
    # Snaps not mounted (a sysroot or an offline image): the downloaded squashfs files.
    seen = set()
    for file_name in ctx.list_dir("/var/lib/snapd/snaps"):
        name = file_name.rsplit("_", 1)[0]
        if file_name.endswith(".snap") and name not in seen:
            seen.add(name)
            apps.append(
                report_pb2.Application(
                    name=name, path=f"/var/lib/snapd/snaps/{file_name}", source="snap"
                )
            )
    return apps


def _yaml_scalar(text: str, key: str) -> str:
    """A top-level scalar of a simple YAML file, without a YAML parser."""
    prefix = f"{key}:"
    for line in text.splitlines():
        if line.startswith(prefix):
            return line[len(prefix) :].strip().strip("'\"")
    return ""


def flatpaks(ctx: ProbeContext, homes: list[str]) -> list[report_pb2.Application]:
    directories = [_FLATPAK_SYSTEM_DIR, *(f"{home}/{_FLATPAK_USER_DIR}" for home in homes)]
    apps = []
    for directory in directories:
        for app_id in ctx.list_dir(directory):
            path = f"{directory}/{app_id}"
            apps.append(
                report_pb2.Application(name=app_id, path=path, bundle_id=app_id, source="flatpak")
            )
    return apps


def systemd_services(ctx: ProbeContext) -> list[report_pb2.Application]:
    return [
        report_pb2.Application(name=unit.name, path=unit.target, source="systemd")
        for unit in enabled_units(ctx)
    ]
