"""First come, first served turns at writing one SQLite file, across threads and processes.

SQLite lets one writer in at a time and has the others retry (`busy_timeout`) after sleeps that
grow. A writer that has just committed and comes straight back wins against one asleep: with
several serving processes, plain busy-retry starved one of them (p99 8.7 s). So every write
transaction first takes a turn, and turns are served in the order they were asked for.

The turns are record locks on a small file beside the database (`<database>-turns`), held by the
kernel: a ticket counter sits at the file's start, guarded by a lock on byte 0; ticket t holds
byte BASE+t from the moment it is taken until its turn ends, and waits for byte BASE+t-1, its
predecessor's. Each waiter watches only the one before it (a CLH queue), so the end of a turn
wakes one waiter, not all of them. The locks are open file description locks: every turn opens
the file for itself, so two threads of one process queue like two processes do, and the kernel
lets go of a killed process's turns.

Turns order the writers; SQLite's lock still keeps them apart. A waiter that dies before its
turn lets its successor go early, into SQLite's busy wait: that costs the order of one turn,
never data. The same holds where turns cannot be taken (no such locks on this system, a file
that cannot be made): writers fall back to SQLite's own lock, as before turns.
"""
from __future__ import annotations

import logging
import os
import struct
import threading
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

log = logging.getLogger("farmwatch.collector.storage")

SUFFIX = "-turns"
_AVAILABLE = hasattr(fcntl, "F_OFD_SETLKW")  # Linux 3.15 and later
_GUARD = 0  # byte 0 guards the counter, which is the file's first 8 bytes
_BASE = 1 << 32  # ticket t's byte
_COUNTER = struct.Struct("<Q")
_FLOCK = "@hhqqi0q"  # struct flock: type, whence, start, length, pid (0 for these locks), padded
_held = threading.local()  # .paths: the turns files this thread holds a turn of, whatever the instance


def _lock(fd: int, kind: int, offset: int, wait: bool = True) -> None:
    command = fcntl.F_OFD_SETLKW if wait else fcntl.F_OFD_SETLK
    fcntl.fcntl(fd, command, struct.pack(_FLOCK, kind, os.SEEK_SET, offset, 1, 0))


class WriteTurns:
    """`turn()`: a context manager held around one write transaction on `database`."""

    def __init__(self, database: Path):
        self.path = Path(f"{database}{SUFFIX}")
        self._warned = False

    @contextmanager
    def turn(self):
        held = _held.__dict__.setdefault("paths", set())
        if self.path in held:  # it would wait for itself for ever
            raise RuntimeError(f"this thread already has a write transaction open on {self.path.name[:-len(SUFFIX)]}")
        fd = self._open()
        held.add(self.path)
        try:
            if fd is not None:
                self._wait(fd)
            yield
        finally:
            held.discard(self.path)
            if fd is not None:
                os.close(fd)  # ends the turn: the kernel lets go of our byte, and the next waiter goes

    def _open(self) -> int | None:
        if not _AVAILABLE:
            return None
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            self._warn(exc)
            return None

    def _wait(self, fd: int) -> None:
        """Take a ticket and wait until the turn before it has ended. On a failure of the locks
        themselves the write goes ahead on SQLite's lock alone (see the module docstring)."""
        try:
            ticket = self._ticket(fd)
            _lock(fd, fcntl.F_WRLCK, _BASE + ticket - 1)  # granted once the predecessor's turn is over
            _lock(fd, fcntl.F_UNLCK, _BASE + ticket - 1)
        except OSError as exc:
            self._warn(exc)

    @staticmethod
    def _ticket(fd: int) -> int:
        _lock(fd, fcntl.F_WRLCK, _GUARD)
        try:
            counted = os.pread(fd, _COUNTER.size, 0)
            ticket = (_COUNTER.unpack(counted)[0] if len(counted) == _COUNTER.size else 0) + 1
            os.pwrite(fd, _COUNTER.pack(ticket), 0)
            _lock(fd, fcntl.F_WRLCK, _BASE + ticket, wait=False)  # nobody else can have this ticket yet
        finally:
            _lock(fd, fcntl.F_UNLCK, _GUARD)
        return ticket

    def _warn(self, exc: OSError) -> None:
        if not self._warned:
            self._warned = True
            log.warning("event=write_turns_unavailable path=%s error=%r: writers wait on SQLite's lock alone",
                        self.path, str(exc))
