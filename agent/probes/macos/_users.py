"""People's home folders on a Mac, where their preferences (locale, input sources) live."""

from __future__ import annotations

from ..context import ProbeContext

USERS_DIR = "/Users"
_NOT_PEOPLE = frozenset({"Shared", "Guest"})


def user_homes(ctx: ProbeContext) -> list[str]:
    """/Users/<name> folders that hold a Library, i.e. accounts that have logged in."""
    return [
        f"{USERS_DIR}/{name}"
        for name in ctx.list_dir(USERS_DIR)
        if not name.startswith(".") and name not in _NOT_PEOPLE and ctx.is_dir(f"{USERS_DIR}/{name}/Library")
    ]
