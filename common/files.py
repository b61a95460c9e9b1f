"""Writing files that hold secrets or state: owner-only from the first byte, replaced atomically."""
from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write `data` to `path` with mode 0600, never readable by others even for an instant.

    With `replace`, an existing file is swapped for the new one atomically (temp file + rename),
    so a crash leaves either the old or the new content, never half of one.
    """
    path = Path(path)
    target = path.with_name(path.name + ".tmp") if replace else path
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    if replace and target.exists():
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
