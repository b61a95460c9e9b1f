"""Which systemd units are enabled, read from the ``*.wants`` link farms.

``systemctl enable`` makes a symlink in ``<target>.wants/``; reading the links needs no
running systemd, so it works on a sysroot too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._accounts import human_homes
from .context import ProbeContext

SYSTEM_CONFIG_DIR = "/etc/systemd/system"
GLOBAL_USER_CONFIG_DIR = "/etc/systemd/user"
UNIT_FILE_DIRS = (
    "/etc/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/etc/systemd/user",
    "/usr/lib/systemd/user",
)


@dataclass(frozen=True)
class EnabledUnit:
    name: str  # e.g. "ssh.service", "vncserver@:1.service"
    link: str  # the machine path of the symlink that enables it
    target: str  # what the link points at


def enabled_units(ctx: ProbeContext, config_dir: str = SYSTEM_CONFIG_DIR) -> list[EnabledUnit]:
    units = []
    for wants in ctx.list_dir(config_dir):
        if not wants.endswith((".wants", ".requires")):
            continue
        wants_dir = f"{config_dir}/{wants}"
        for name in ctx.list_dir(wants_dir):
            link = f"{wants_dir}/{name}"
            units.append(EnabledUnit(name=name, link=link, target=ctx.readlink(link) or ""))
    return units


def user_enabled_units(ctx: ProbeContext) -> list[EnabledUnit]:
    """Units enabled for every user (/etc/systemd/user) or by one user in their home."""
    units = enabled_units(ctx, GLOBAL_USER_CONFIG_DIR)
    for home in human_homes(ctx):
        units += enabled_units(ctx, f"{home}/.config/systemd/user")
    return units


def installed_unit_files(ctx: ProbeContext) -> set[str]:
    names: set[str] = set()
    for unit_dir in UNIT_FILE_DIRS:
        names.update(ctx.list_dir(unit_dir))
    return names
