"""User accounts of the machine, from its /etc/passwd."""

from __future__ import annotations

from dataclasses import dataclass

from .context import ProbeContext

_FIRST_HUMAN_UID = 1000
_NOBODY_UID = 65534


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    home: str


def read_accounts(ctx: ProbeContext) -> list[Account]:
    text = ctx.read_text("/etc/passwd") or ""
    accounts = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 7 or not fields[2].isdigit():
            continue
        accounts.append(Account(name=fields[0], uid=int(fields[2]), home=fields[5]))
    return accounts


def user_names_by_uid(ctx: ProbeContext) -> dict[int, str]:
    names: dict[int, str] = {}
    for account in read_accounts(ctx):
        names.setdefault(account.uid, account.name)
    return names


def human_homes(ctx: ProbeContext) -> list[str]:
    """Home directories of root and of regular users, where per-user software lives."""
    homes = []
    for account in read_accounts(ctx):
        is_person = account.uid == 0 or _FIRST_HUMAN_UID <= account.uid < _NOBODY_UID
        if is_person and account.home not in ("", "/") and account.home not in homes:
            homes.append(account.home)
    return homes
