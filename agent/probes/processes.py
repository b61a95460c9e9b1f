"""Running processes, read straight from /proc.

Parsing /proc ourselves (rather than psutil) lets a sysroot's /proc stand in for the
machine and keeps a scan of ~400 processes to four small reads each.
"""

from __future__ import annotations

import errno
import pwd
from collections import Counter

from farmwatch.v1 import report_pb2

from . import _psutil_tables
from ._accounts import user_names_by_uid
from ._platform import dispatch
from ._probe import OPERATING_SYSTEMS, Probe
from ._procfs import (CLOCK_TICKS_PER_SECOND, ProcessDir, boot_time, parse_cmdline, parse_stat, pids, proc_root,
                      process_name)
from .context import ProbeContext

_DELETED_SUFFIX = " (deleted)"
_NANOS = 1_000_000_000


def collect(ctx: ProbeContext) -> list[report_pb2.Process]:
    return dispatch(ctx, list, linux=_linux, macos="macos.processes", windows=_psutil_tables.processes)


PROBE = Probe("processes", collect, field="processes", platforms=OPERATING_SYSTEMS)


def _linux(ctx: ProbeContext) -> list[report_pb2.Process]:
    reader = _ProcessReader(ctx)
    processes = [p for p in (reader.read(pid) for pid in pids(ctx)) if p is not None]
    reader.report_denials()
    return processes


class _ProcessReader:
    def __init__(self, ctx: ProbeContext):
        self.ctx = ctx
        self.proc_root = proc_root(ctx)
        self.boot_time = boot_time(ctx)
        if self.boot_time is None:
            ctx.gap("no btime in /proc/stat: process start times unknown")
        self.user_names = user_names_by_uid(ctx)
        self.denied: Counter[str] = Counter()

    def read(self, pid: int) -> report_pb2.Process | None:
        try:
            with ProcessDir(self.proc_root, pid) as proc_dir:
                return self._process(pid, proc_dir)
        except OSError:
            return None  # exited while we looked, or not a process directory

    def _process(self, pid: int, proc_dir: ProcessDir) -> report_pb2.Process | None:
        raw_stat = self._read(proc_dir, "stat")
        if raw_stat is None:
            return None
        try:
            stat = parse_stat(raw_stat)
        except (ValueError, IndexError):
            self.ctx.gap(f"/proc/{pid}/stat: unparsable")
            return None
        cmdline = parse_cmdline(self._read(proc_dir, "cmdline") or b"")
        process = report_pb2.Process(
            pid=pid,
            ppid=stat.ppid,
            name=process_name(stat.comm, cmdline),
            exe=self._exe(pid, proc_dir),
            cmdline=cmdline,
            username=self._username(proc_dir),
        )
        if self.boot_time is not None:
            nanoseconds = self.boot_time * _NANOS + stat.start_ticks * _NANOS // CLOCK_TICKS_PER_SECOND
            # what Timestamp.FromNanoseconds does, minus its range checks (~10 % of this probe's time)
            process.create_time.seconds, process.create_time.nanos = divmod(nanoseconds, _NANOS)
        return process

    def report_denials(self) -> None:
        for what, count in sorted(self.denied.items()):
            noun = "process" if count == 1 else "processes"
            self.ctx.gap(f"{what} unreadable for {count} {noun} (permission denied)")

    def _read(self, proc_dir: ProcessDir, name: str) -> bytes | None:
        try:
            return proc_dir.read(name)
        except PermissionError:
            self.denied[name] += 1
        except OSError:
            pass  # the process exited, or a kernel thread has nothing to show
        return None

    def _exe(self, pid: int, proc_dir: ProcessDir) -> str:
        try:
            target = proc_dir.readlink("exe")
        except PermissionError:
            self.denied["exe"] += 1
            return ""
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ESRCH, errno.EINVAL):
                self.ctx.gap(f"{pid}/exe: {exc.strerror}")
            return ""  # kernel threads have no executable
        return target.removesuffix(_DELETED_SUFFIX)

    def _username(self, proc_dir: ProcessDir) -> str:
        uid = _real_uid(self._read(proc_dir, "status") or b"")
        if uid is None:
            return ""
        name = self.user_names.get(uid)
        if name is None and self.ctx.is_live:
            name = _name_from_nss(uid)  # LDAP/SSSD users are not in /etc/passwd
            self.user_names[uid] = name
        return name or str(uid)


def _real_uid(status: bytes) -> int | None:
    start = status.find(b"\nUid:")
    if start < 0:
        return None
    fields = status[start + 5 : status.find(b"\n", start + 1)].split()
    return int(fields[0]) if fields else None


def _name_from_nss(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""
