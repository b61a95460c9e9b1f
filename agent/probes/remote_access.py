"""Remote-access features of the OS itself: SSH, RDP and VNC servers set to start.

On Linux "enabled" means a systemd unit linked into a target's ``.wants`` (system-wide
or per user), or for KDE's krfb an XDG autostart entry. A server that is installed but
not enabled is reported with enabled=False.
"""

from __future__ import annotations

import fnmatch
import re

from farmwatch.v1 import report_pb2

from ._accounts import human_homes
from ._platform import dispatch
from ._probe import OPERATING_SYSTEMS, Probe
from ._systemd import enabled_units, installed_unit_files, user_enabled_units
from .context import ProbeContext

# service → unit-name patterns that provide it
LINUX_SERVICES: dict[str, tuple[str, ...]] = {
    "sshd": ("ssh.service", "sshd.service", "ssh.socket", "sshd.socket", "sshd@*.service"),
    "xrdp": ("xrdp.service", "xrdp-sesman.service"),
    "gnome-remote-desktop": ("gnome-remote-desktop.service", "gnome-remote-desktop-headless.service"),
    "vino": ("vino-server.service",),
    "x11vnc": ("x11vnc.service", "x11vnc@*.service"),
    "vnc": ("vncserver@*.service", "tigervncserver@*.service", "vncserver-x11-serviced.service"),
    "krfb": ("*krfb*.desktop",),
}
_AUTOSTART_DIRS = ("/etc/xdg/autostart",)
_USER_AUTOSTART_DIR = ".config/autostart"


def collect(ctx: ProbeContext) -> list[report_pb2.RemoteAccessSetting]:
    return dispatch(ctx, list, linux=_linux, macos="macos.remote_access", windows="windows.remote_access")


PROBE = Probe("remote_access", collect, field="remote_access", platforms=OPERATING_SYSTEMS)


def _linux(ctx: ProbeContext) -> list[report_pb2.RemoteAccessSetting]:
    enabled_names = {u.name for u in enabled_units(ctx)} | {u.name for u in user_enabled_units(ctx)}
    enabled = _services_named(_ENABLING, enabled_names | _autostart_entries(ctx))
    installed = _services_named(_INSTALLING, installed_unit_files(ctx))
    return [
        report_pb2.RemoteAccessSetting(service=service, enabled=service in enabled)
        for service in LINUX_SERVICES
        if service in enabled or service in installed
    ]


def _autostart_entries(ctx: ProbeContext) -> set[str]:
    directories = [*_AUTOSTART_DIRS, *(f"{home}/{_USER_AUTOSTART_DIR}" for home in human_homes(ctx))]
    return {name for directory in directories for name in ctx.list_dir(directory)}


def _services_named(matcher: re.Pattern[str], names: set[str]) -> set[str]:
    services = set()
    for name in names:
        match = matcher.fullmatch(name)
        if match:
            services.add(_SERVICES[int(match.lastgroup.removeprefix("s"))])
    return services


def _matcher(patterns_by_service: list[tuple[str, ...]]) -> re.Pattern[str]:
    """One regex for every service's unit patterns; the group that matched names the service."""
    return re.compile(
        "|".join(
            f"(?P<s{index}>{'|'.join(fnmatch.translate(p) for p in patterns)})"
            for index, patterns in enumerate(patterns_by_service)
        )
    )


def _template_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """An instance pattern "vncserver@*.service" is installed as the template "vncserver@.service"."""
    return tuple(p.replace("@*", "@") for p in patterns) + patterns


_SERVICES = list(LINUX_SERVICES)
_ENABLING = _matcher(list(LINUX_SERVICES.values()))
_INSTALLING = _matcher([_template_patterns(patterns) for patterns in LINUX_SERVICES.values()])
