"""macOS's own remote access: Screen Sharing, Remote Management (Apple Remote Desktop)
and Remote Login (SSH).

Read from files a root daemon can see without a prompt, rather than from
``systemsetup -getremotelogin`` (which needs Full Disk Access on recent macOS):

* launchd's override database ``/var/db/com.apple.xpc.launchd/disabled.plist`` records
  the sharing switches: ``"com.apple.screensharing": false`` means Screen Sharing is on,
  ``"com.openssh.sshd": false`` that Remote Login is on; an absent key is the default, off.
* ``kickstart -activate`` turns Remote Management on by writing "enabled" into
  ``RemoteManagement.launchd``; a running ARDAgent says the same.
"""

from __future__ import annotations

from farmwatch.v1 import report_pb2

from ..context import ProbeContext
from ._plist import read_plist

LAUNCHD_OVERRIDES = "/var/db/com.apple.xpc.launchd/disabled.plist"
ARD_SWITCH = "/Library/Application Support/Apple/Remote Desktop/RemoteManagement.launchd"
ARD_AGENT = "ARDAgent"
LAUNCHD_SERVICES = {"screen_sharing": "com.apple.screensharing", "remote_login": "com.openssh.sshd"}


def collect(ctx: ProbeContext) -> list[report_pb2.RemoteAccessSetting]:
    overrides = read_plist(ctx, LAUNCHD_OVERRIDES)
    if overrides is None:
        ctx.gap(f"{LAUNCHD_OVERRIDES} unreadable: Screen Sharing and Remote Login assumed off")
        overrides = {}
    settings = [
        report_pb2.RemoteAccessSetting(service=service, enabled=overrides.get(label) is False)
        for service, label in LAUNCHD_SERVICES.items()
    ]
    settings.insert(1, report_pb2.RemoteAccessSetting(service="remote_management", enabled=_ard_enabled(ctx)))
    return settings


def _ard_enabled(ctx: ProbeContext) -> bool:
    if (ctx.read_value(ARD_SWITCH) or "").lower() == "enabled":
        return True
    return any(row.get("name") == ARD_AGENT for row in ctx.machine.processes() or [])
