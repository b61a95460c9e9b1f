"""Who is logged in, and from where: the machine's utmp file, else systemd-logind's
session records.

Reading the files ourselves (rather than getutent via psutil) lets a sysroot carry the
logins, including a remote SSH one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from farmwatch.v1 import report_pb2

from . import _psutil_tables
from ._envfile import parse_assignments
from ._platform import dispatch
from ._probe import OPERATING_SYSTEMS, Probe
from .context import ProbeContext

UTMP_PATHS = ("/run/utmp", "/var/run/utmp")
LOGIND_SESSIONS_DIR = "/run/systemd/sessions"
# glibc struct utmp on Linux (64-bit and 32-bit alike: times are 32-bit there):
# ut_type, pad, ut_pid, ut_line[32], ut_id[4], ut_user[32], ut_host[256],
# ut_exit{short,short}, ut_session, ut_tv{sec,usec}, ut_addr_v6[4], unused[20]
UTMP_RECORD = struct.Struct("<hxxi32s4s32s256shhiii16s20s")
USER_PROCESS = 7


@dataclass(frozen=True)
class UtmpLogin:
    user: str
    terminal: str
    host: str
    started: int  # seconds since the epoch
    pid: int


def collect(ctx: ProbeContext) -> list[report_pb2.Session]:
    return dispatch(ctx, list, linux=_linux, macos=_psutil_tables.sessions, windows=_psutil_tables.sessions)


PROBE = Probe("sessions", collect, field="sessions", platforms=OPERATING_SYSTEMS)


def _linux(ctx: ProbeContext) -> list[report_pb2.Session]:
    for path in UTMP_PATHS:
        data = ctx.read_bytes(path)
        if data is not None:
            return [_session(login) for login in parse_utmp(data)]
    # Distributions built without utmp still have systemd-logind's own session records.
    if ctx.is_dir(LOGIND_SESSIONS_DIR):
        return logind_sessions(ctx)
    ctx.gap("neither utmp (/run/utmp) nor logind sessions: logins unknown")
    return []


def logind_sessions(ctx: ProbeContext) -> list[report_pb2.Session]:
    sessions = []
    for name in ctx.list_dir(LOGIND_SESSIONS_DIR):
        if name.endswith(".ref"):
            continue  # the FIFOs that keep a session alive
        fields = parse_assignments(ctx.read_text(f"{LOGIND_SESSIONS_DIR}/{name}") or "")
        if fields.get("CLASS", "user") != "user" or "USER" not in fields:
            continue  # greeters, lock screens, the user manager
        session = report_pb2.Session(
            user=fields["USER"], terminal=fields.get("TTY", ""), remote_host=fields.get("REMOTE_HOST", "")
        )
        if fields.get("REALTIME", "").isdigit():
            session.started_at.FromMicroseconds(int(fields["REALTIME"]))
        sessions.append(session)
    return sessions


def parse_utmp(data: bytes) -> list[UtmpLogin]:
    logins = []
    usable = len(data) - len(data) % UTMP_RECORD.size  # a torn last record is ignored
    for fields in UTMP_RECORD.iter_unpack(data[:usable]):
        ut_type, pid, line, _id, user, host, _term, _exit, _session, seconds, _usec, _addr, _ = fields
        if ut_type == USER_PROCESS:
            logins.append(
                UtmpLogin(user=_c_string(user), terminal=_c_string(line), host=_c_string(host), started=seconds,
                          pid=pid)
            )
    return logins


def _c_string(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def remote_host(utmp_host: str) -> str:
    """utmp's host field also labels local logins: an X display (":0") or a terminal
    multiplexer ("tmux(1234).%0"); only a host name or address is remote."""
    if utmp_host.startswith(":") or "(" in utmp_host:
        return ""
    return utmp_host


def _session(login: UtmpLogin) -> report_pb2.Session:
    session = report_pb2.Session(user=login.user, terminal=login.terminal, remote_host=remote_host(login.host))
    session.started_at.FromSeconds(login.started)
    return session
