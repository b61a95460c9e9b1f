"""Small readers for /proc shared by several probes."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .context import ProbeContext

CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
COMM_MAX_LENGTH = 15  # the kernel truncates a task's comm to 15 characters
_READ_SIZE = 65536


@dataclass(frozen=True)
class ProcStat:
    comm: str
    ppid: int
    start_ticks: int  # clock ticks after boot


def proc_root(ctx: ProbeContext) -> str:
    """Where the machine's /proc is, as a string to build paths on (cheaper than a Path per file)."""
    return str(ctx.path("/proc"))


def pids(ctx: ProbeContext) -> list[int]:
    return sorted(int(name) for name in ctx.list_dir("/proc") if name.isdigit())


def boot_time(ctx: ProbeContext) -> int | None:
    for line in (ctx.read_text("/proc/stat") or "").splitlines():
        if line.startswith("btime "):
            return int(line.split()[1])
    return None


def parse_stat(raw: bytes) -> ProcStat:
    """/proc/<pid>/stat: "pid (comm) state ppid …"; comm may itself hold spaces and
    parentheses, so it is bounded by the first "(" and the last ")"."""
    text = raw.decode("utf-8", errors="replace")
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, starttime field 22
    return ProcStat(comm=comm, ppid=int(fields[1]), start_ticks=int(fields[19]))


def process_name(comm: str, cmdline: list[str]) -> str:
    """comm, or the program's file name when comm was cut to 15 characters."""
    if len(comm) == COMM_MAX_LENGTH and cmdline:
        program = os.path.basename(cmdline[0])
        if program.startswith(comm):
            return program
    return comm


def parse_cmdline(raw: bytes) -> list[str]:
    if not raw:
        return []
    return [arg.decode("utf-8", errors="replace") for arg in raw.rstrip(b"\0").split(b"\0")]


def read_process_name(proc: str, pid: int) -> str:
    """The name the processes probe gives this pid, or "" when it is gone; ``proc`` is where the
    machine's /proc is (`proc_root(ctx)`)."""
    try:
        with ProcessDir(proc, pid) as proc_dir:
            comm = parse_stat(proc_dir.read("stat")).comm
            if len(comm) < COMM_MAX_LENGTH:
                return comm  # not cut short: the command line cannot change it
            try:
                cmdline = parse_cmdline(proc_dir.read("cmdline"))
            except OSError:
                cmdline = []
    except (OSError, ValueError, IndexError):
        return ""
    return process_name(comm, cmdline)


class ProcessDir:
    """/proc/PID opened once; its files are read relative to it, so the kernel looks up the pid
    once per process rather than once per file (and no Path is built per file)."""

    def __init__(self, proc: str, pid: int):
        self.fd = os.open(f"{proc}/{pid}", os.O_RDONLY | os.O_DIRECTORY)

    def __enter__(self) -> ProcessDir:
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)

    def read(self, name: str) -> bytes:
        fd = os.open(name, os.O_RDONLY, dir_fd=self.fd)
        try:
            chunks = [os.read(fd, _READ_SIZE)]
            # /proc (seq_file, cmdline) and plain files return less than asked for only at the end,
            # which spares the second read a loop-until-empty would make for every small file
            while len(chunks[-1]) == _READ_SIZE:
                chunks.append(os.read(fd, _READ_SIZE))
            return b"".join(chunks)
        finally:
            os.close(fd)

    def readlink(self, name: str) -> str:
        return os.readlink(name, dir_fd=self.fd)


@dataclass(frozen=True)
class Route:
    interface: str
    destination: str  # hex, as /proc/net/route writes addresses (see `_sockets.proc_ip`)
    gateway: str
    flags: int
    metric: int
    mask: str


def routes(ctx: ProbeContext) -> list[Route]:
    """The IPv4 routes of /proc/net/route; a line that does not parse is left out, not fatal."""
    found = []
    for line in (ctx.read_text("/proc/net/route") or "").splitlines()[1:]:
        fields = line.split()
        try:
            interface, destination, gateway, flags, _, _, metric, mask = fields[:8]
            if not all(len(a) == 8 and int(a, 16) >= 0 for a in (destination, gateway, mask)):
                continue
            found.append(Route(interface, destination, gateway, int(flags, 16), int(metric), mask))
        except ValueError:  # fewer than eight fields, or one that is not a number
            continue
    return found
