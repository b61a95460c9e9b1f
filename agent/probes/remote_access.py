"""Remote-access features of the OS itself: SSH, RDP and VNC servers set to start.

On Linux "enabled" means a systemd unit linked into a target's ``.wants`` (system-wide
or per user), or for KDE's krfb an XDG autostart entry. A server that is installed but
not enabled is reported with enabled=False.
"""

from __future__ import annotations

import fnmatch

from farmwatch.v1 import report_pb2

from ._accounts import human_homes
from ._platform import dispatch
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
    return dispatch(ctx, list, linux=_linux)


def _linux(ctx: ProbeContext) -> list[report_pb2.RemoteAccessSetting]:
    enabled = {u.name for u in enabled_units(ctx)} | {u.name for u in user_enabled_units(ctx)}
    enabled |= _autostart_entries(ctx)
    installed = installed_unit_files(ctx)
    settings = []
    for service, patterns in LINUX_SERVICES.items():
        if _any_match(enabled, patterns):
            settings.append(report_pb2.RemoteAccessSetting(service=service, enabled=True))
        elif _any_match(installed, _template_patterns(patterns)):
            settings.append(report_pb2.RemoteAccessSetting(service=service, enabled=False))
    return settings


def _autostart_entries(ctx: ProbeContext) -> set[str]:
    directories = [*_AUTOSTART_DIRS, *(f"{home}/{_USER_AUTOSTART_DIR}" for home in human_homes(ctx))]
    return {name for directory in directories for name in ctx.list_dir(directory)}


def _any_match(names: set[str], patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in patterns)


def _template_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """An instance pattern "vncserver@*.service" is installed as the template "vncserver@.service"."""
    return tuple(p.replace("@*", "@") for p in patterns) + patterns
