"""Read shell-style ``KEY=value`` files (/etc/os-release, /etc/default/locale, …)."""

from __future__ import annotations

import shlex


def parse_assignments(text: str) -> dict[str, str]:
    """Assignments of a sourced-shell file; comments, blank and malformed lines are
    skipped, quotes are removed. Later assignments win, as in the shell."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, raw = line.split("=", 1)
        key = key.removeprefix("export ").strip()
        if not key.isidentifier():
            continue
        values[key] = _unquote(raw.strip())
    return values


def _unquote(raw: str) -> str:
    try:
        words = shlex.split(raw, comments=True)
    except ValueError:  # an unbalanced quote: keep the text as written
        return raw.strip("\"'")
    return " ".join(words)
