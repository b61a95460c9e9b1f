"""One running process per folder: an OS lock on a file that holds the holder's pid.

The lock is the operating system's (flock, or msvcrt on Windows), so it is released when the process
ends however it ends; a stale file from a killed process locks nothing. The pid is for people.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)


class LockHeld(RuntimeError):
    """Another process holds the lock; `holder` is the pid it wrote, or "unknown"."""

    def __init__(self, path: Path, holder: str):
        super().__init__(f"{path} is held by pid {holder}")
        self.path, self.holder = path, holder


def hold(path: Path) -> BinaryIO:
    """Lock `path` (created 0600) without waiting and write our pid into it. Returns the open file:
    keep it open while running, close it to release. LockHeld when another process holds it; OSError
    when the file cannot be made."""
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+b")
    try:
        _lock_exclusively(handle)
    except OSError:
        handle.seek(0)
        holder = handle.read().decode(errors="replace").strip() or "unknown"
        handle.close()
        raise LockHeld(Path(path), holder) from None
    try:  # the pid is for people; a full disk must not stop the program here
        os.ftruncate(handle.fileno(), 0)  # unbuffered: nothing left to fail again at close
        os.lseek(handle.fileno(), 0, os.SEEK_SET)
        os.write(handle.fileno(), f"{os.getpid()}\n".encode())
    except OSError as exc:
        log.warning("cannot write the pid to the lock file path=%s error=%r", path, str(exc))
    return handle


def _lock_exclusively(handle) -> None:
    """Non-blocking exclusive lock on an open file; OSError when someone else holds it."""
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
