"""The one door through which probes see the machine.

Every file a probe reads goes through a ProbeContext rooted at a directory: "/" for the
live machine, or a fixture tree (``--sysroot``) that stands in for one. Reads that fail
for an expected reason (the file is simply absent) return None; reads that fail because
something is wrong (a dangling link, a directory where a file belongs, no permission)
also return None but leave a gap in the report, so a probe never raises for them.

Links inside a sysroot are followed by the host's kernel: an absolute link target leaves
the tree (as sysfs's own links are relative, fixture trees use relative links too).
Probes that only need a link's text (``/proc/<pid>/exe``, ``/etc/localtime``) readlink it.

Tools, the OS's tables and the Windows registry come from ``machine``: the live OS, nothing
for a plain sysroot, or a recording kept in the sysroot (``recording.py``), which also
names the recorded machine's OS.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from farmwatch.v1 import report_pb2

from .machine import FilesOnly, LiveMachine, Machine
from .recording import RecordedMachine, RecordingError, command_key, is_recording

_OS_NAMES = {"linux": "linux", "darwin": "macos", "win32": "windows"}
_COMMAND_TIMEOUT_SECONDS = 3.0


class SysrootError(ValueError):
    """The --sysroot given does not name a directory."""


def live_os_name() -> str:
    return _OS_NAMES.get(sys.platform, sys.platform)


@dataclasses.dataclass
class ProbeContext:
    root: Path
    os: str
    is_live: bool
    env: Mapping[str, str]
    now: datetime
    probe: str = ""
    machine: Machine = dataclasses.field(default_factory=FilesOnly)
    errors: list[report_pb2.ProbeError] = dataclasses.field(default_factory=list)

    @classmethod
    def create(cls, sysroot: str | os.PathLike | None = None, *, os_name: str | None = None) -> ProbeContext:
        """A context for the live machine (sysroot None) or for a tree standing in for one.
        A sysroot that is not a directory is a mistake of the caller's, not a gap of the
        machine's: it raises SysrootError rather than giving a report of nothing but gaps."""
        if sysroot is None:
            return cls(root=Path("/"), os=os_name or live_os_name(), is_live=True, env=os.environ,
                       now=datetime.now(timezone.utc), machine=LiveMachine())
        root = Path(sysroot)
        if not root.is_dir():
            raise SysrootError(f"sysroot {os.fspath(sysroot)!r} is not a directory")
        machine, recorded_os = _sysroot_machine(root)
        return cls(
            root=root,
            os=os_name or recorded_os,
            is_live=False,
            env={},
            now=datetime.now(timezone.utc),
            machine=machine,
        )

    def for_probe(self, name: str) -> ProbeContext:
        """A view of this context whose gaps are kept apart, so a probe that is abandoned
        for running too long cannot add to the report after the fact."""
        return dataclasses.replace(self, probe=name, errors=[])

    # -- recording gaps ---------------------------------------------------------------

    def error(self, probe: str, message: str) -> None:
        if any(e.probe == probe and e.error == message for e in self.errors):
            return
        self.errors.append(report_pb2.ProbeError(probe=probe, error=message))

    def gap(self, message: str) -> None:
        """Record a gap for the probe this context was made for."""
        self.error(self.probe, message)

    # -- reading the tree ---------------------------------------------------------------

    def path(self, machine_path: str) -> Path:
        """Where a path of the machine (e.g. "/proc/stat") lives under the root."""
        return self.root / machine_path.lstrip("/")

    def read_bytes(self, machine_path: str) -> bytes | None:
        try:
            return self.path(machine_path).read_bytes()
        except OSError as exc:
            self._note_failure(machine_path, exc)
            return None

    def read_text(self, machine_path: str) -> str | None:
        data = self.read_bytes(machine_path)
        return None if data is None else data.decode("utf-8", errors="replace")

    def read_lines(self, machine_path: str) -> Iterator[str]:
        """The file's lines with their line ends, read as they are used, so a big file (dpkg's
        status, ~1 MB) is never whole in memory; none, with the same gap as read_text, when
        it cannot be read."""
        try:
            with open(self.path(machine_path), encoding="utf-8", errors="replace", newline="") as file:
                yield from file
        except OSError as exc:
            self._note_failure(machine_path, exc)

    def read_value(self, machine_path: str) -> str | None:
        """A one-value file such as a sysfs attribute, without its trailing newline."""
        text = self.read_text(machine_path)
        return None if text is None else text.strip()

    def list_dir(self, machine_path: str) -> list[str]:
        try:
            return sorted(os.listdir(self.path(machine_path)))
        except OSError as exc:
            self._note_failure(machine_path, exc)
            return []

    def readlink(self, machine_path: str) -> str | None:
        try:
            return os.readlink(self.path(machine_path))
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # EINVAL: a plain file, not a link
                self._note_failure(machine_path, exc)
            return None

    def exists(self, machine_path: str) -> bool:
        return os.path.lexists(self.path(machine_path))

    def is_dir(self, machine_path: str) -> bool:
        return self.path(machine_path).is_dir()

    # -- running tools (the live machine or a recording; a plain sysroot has none) ------

    def has_tool(self, name: str) -> bool:
        return self.machine.has_tool(name)

    def run(self, argv: Sequence[str], *, missing_is_gap: bool = False,
            timeout: float = _COMMAND_TIMEOUT_SECONDS) -> str | None:
        """A tool's stdout; None when it is absent, fails or hangs. A failure is a gap, and
        so is an absent tool when the probe cannot do without it (``missing_is_gap``)."""
        try:
            done = self.machine.run(argv, timeout)
        except subprocess.TimeoutExpired:
            self.gap(f"{command_key(argv)}: no answer within {timeout:g} s")
            return None
        except (OSError, subprocess.SubprocessError) as exc:
            self.gap(f"{argv[0]}: {getattr(exc, 'strerror', None) or exc}")
            return None
        if done is None:
            if missing_is_gap:
                self.gap(f"{argv[0]}: not found")
            return None
        if done.returncode != 0:
            self.gap(f"{command_key(argv)} exited {done.returncode}: {done.stderr.strip()[:200]}")
            return None
        return done.stdout

    def table(self, name: str) -> list | dict | None:
        """One of the machine's tables (processes, connections, interfaces, users,
        services); None, with a gap, when this machine cannot give it."""
        rows = getattr(self.machine, name)()
        if rows is None:
            self.gap(f"{name}: not available on this machine")
        return rows

    def _note_failure(self, machine_path: str, exc: OSError) -> None:
        if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
            if not self.exists(machine_path):
                return  # plainly absent: the probe decides whether that matters
            self.gap(f"{machine_path}: dangling symlink")
            return
        self.gap(f"{machine_path}: {exc.strerror or exc}")


def _sysroot_machine(root: Path) -> tuple[Machine, str]:
    """What stands behind a sysroot's files, and the OS it is: a recording names its OS;
    a plain tree runs nothing and is taken for Linux."""
    if not is_recording(root):
        return FilesOnly(), "linux"
    try:
        machine = RecordedMachine(root)
    except RecordingError as exc:
        raise SysrootError(str(exc)) from exc
    return machine, machine.os_name
