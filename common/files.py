"""Writing files that hold secrets or state: owner-only from the first byte, replaced atomically,
never through a symbolic link, in folders no other user can change."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class UnsafeFolder(Exception):
    """A folder for keys or settings that another user could change; the message says the fix."""


def write_private(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write `data` to `path` with mode 0600, never readable by others even for an instant.

    The file is always created anew (O_CREAT | O_EXCL, O_NOFOLLOW), so a symbolic link planted at
    the name is never written through: without `replace` an existing name (link or not) fails
    with FileExistsError; with `replace`, a temp file is renamed over the name, which swaps the
    link itself, atomically, so a crash leaves either the old or the new content.
    """
    path = Path(path)
    target = path.with_name(path.name + ".tmp") if replace else path
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    if replace and (target.exists() or target.is_symlink()):
        target.unlink()
    fd = os.open(target, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if replace:
        os.replace(target, path)


def private_folder(path: Path) -> Path:
    """`path` as a folder only we can change: made 0700 if missing (its parents as the umask
    says), else checked like `check_private_folder`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    check_private_folder(path)
    return path


def check_private_folder(path: Path) -> None:
    """UnsafeFolder unless `path` is a folder of the current user that no other user may write to
    (a symbolic link to one counts only if the link is ours or root's: another user could
    re-point it)."""
    if os.name != "posix":
        return  # Windows: ACLs, not modes; the collector runs on Unix
    path = Path(path)
    me = os.geteuid()
    link = os.lstat(path)
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (me, 0):
        raise UnsafeFolder(f"{path} is a symbolic link made by {_user(link.st_uid)}, who could re-point it; "
                           f"use a folder of your own (or remove the link: `rm {path}`)")
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    if info.st_uid != me:
        raise UnsafeFolder(f"{path} belongs to {_user(info.st_uid)}, not to {_user(me)} who runs this: its owner "
                           "could replace the CA or read the keys. Use a folder of your own, or take this one "
                           f"over: `chown {_user(me)} {path} && chmod 700 {path}`")
    if info.st_mode & 0o022:
        raise UnsafeFolder(f"{path} can be written by other users (mode {stat.S_IMODE(info.st_mode):o}): they "
                           f"could plant files or links in it. Close it: `chmod 700 {path}`")


def _user(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)
