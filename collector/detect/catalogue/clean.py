"""How names, ids and paths are cleaned before they are compared: case-folded executable names
without `.exe`/`.app`, USB ids as lowercase hex, paths forward-slashed, and which install paths
name a folder of a tool's own."""

from __future__ import annotations

import fnmatch
import functools
import re
from typing import Any

# What a browser appends to a file downloaded twice: `AnyDesk (1).exe`.
DUPLICATE_SUFFIX = re.compile(r"\s*\(\d+\)$")


@functools.lru_cache(maxsize=65536)  # every process and socket name of every report: the same few thousand
def normalise_name(name: str | None) -> str:
    """Case-folded executable/app name without a trailing `.exe` or `.app` or a browser's ` (N)`."""
    text = (name or "").strip().casefold()
    for suffix in (".exe", ".app"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return DUPLICATE_SUFFIX.sub("", text) or text


def normalise_hex(value: Any, digits: int) -> str:
    """`"0x1D6B"`, `"1D6B"`, `7531` → `"1d6b"`; empty for missing or unreadable values."""
    if value is None or value == "":
        return ""
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().lower().removeprefix("0x")
        if not re.fullmatch(r"[0-9a-f]+", text):
            return ""
        number = int(text, 16)
    return format(number, f"0{digits}x")


def normalise_path(path: str | None) -> str:
    """Case-folded, forward-slashed path, so Windows and POSIX paths compare alike."""
    return (path or "").strip().replace("\\", "/").casefold()


def normalise_text(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def parse_product_code(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    return int(text, 16) if text.startswith("0x") else int(text)


def is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


# Folders that hold many programs: an install path naming one of these names no tool of its own.
SHARED_FOLDERS = {"", "bin", "sbin", "lib", "libexec", "share", "usr", "local", "opt", "etc", "var", "tmp", "temp",
                  "windows", "system32", "syswow64", "program files", "program files (x86)", "programdata", "users",
                  "appdata", "roaming", "downloads", "desktop", "documents", "applications", "library",
                  "application support", "launchagents", "launchdaemons", "privilegedhelpertools"}
# Folders that hold a tool's viewer, the side that drives other machines ("LiteManager Pro – Viewer",
# Splashtop's "Client for RMM"): a process there is no sign that this machine is driven.
VIEWER_FOLDER = re.compile(r"/[^/]*(?:viewer|client for)[^/]*/")


def is_own_folder(pattern: str) -> bool:
    """Does the install path name a folder of the tool's own (`C:\\Program Files\\AnyDesk\\*`), whose
    every file is the tool's, rather than a file, a glob of names, or a folder many programs share?"""
    pat = normalise_path(pattern)
    if pat.endswith(".app"):  # a macOS app bundle is a folder of the tool's own
        pat += "/*"
    if not pat.endswith("/*"):
        return False
    folder = pat[:-2].rsplit("/", 1)[-1]
    return not is_glob(folder) and folder not in SHARED_FOLDERS and not VIEWER_FOLDER.search(pat)


def path_matches(path: str, pattern: str) -> bool:
    """Does `path` lie at or under the catalogue/allow-list path `pattern` (glob allowed)?"""
    target, pat = normalise_path(path), normalise_path(pattern)
    if not target or not pat:
        return False
    if pat.startswith("~/"):
        pat = "*/" + pat[2:]
    if is_glob(pat):
        folder = pat.removesuffix("/*")  # "X/*" also names the install folder X itself
        return any(fnmatch.fnmatchcase(target, p) for p in (pat, pat.rstrip("/") + "/*", folder))
    return target == pat.rstrip("/") or target.startswith(pat.rstrip("/") + "/")
