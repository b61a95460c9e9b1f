"""Windows's own remote access: Remote Desktop (RDP) and Remote Assistance.

RDP accepts connections when ``fDenyTSConnections`` is 0; a Group Policy value under
Policies overrides the local switch. Remote Assistance offers help when
``fAllowToGetHelp`` is 1.
"""

from __future__ import annotations

from farmwatch.v1 import report_pb2

from ..context import ProbeContext
from ._hives import registry

TERMINAL_SERVER = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server"
TERMINAL_SERVICES_POLICY = "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services"
REMOTE_ASSISTANCE = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Remote Assistance"


def collect(ctx: ProbeContext) -> list[report_pb2.RemoteAccessSetting]:
    reader = registry(ctx)
    if reader is None:
        return []
    policy = (reader.values(TERMINAL_SERVICES_POLICY) or {}).get("fDenyTSConnections")
    local = (reader.values(TERMINAL_SERVER) or {}).get("fDenyTSConnections", 1)
    deny = policy if isinstance(policy, int) else local
    assistance = (reader.values(REMOTE_ASSISTANCE) or {}).get("fAllowToGetHelp", 0)
    return [
        report_pb2.RemoteAccessSetting(service="rdp", enabled=deny == 0),
        report_pb2.RemoteAccessSetting(service="remote_assistance", enabled=assistance == 1),
    ]
