"""A complete device list from one MDM's API against the roster rows that MDM last supplied:
what is new, reassigned (the person changed), updated (other fields), unchanged and removed.

`plan_sync` only reads; `apply_sync` writes the plan and its history (`roster_changes`) inside the
caller's transaction, so the roster moves from one complete listing to the next and never shows a
half-applied one. Rows another source wrote (a CSV import, another MDM) are taken over when this
MDM lists their serial (their `source_format` becomes this MDM's, changed or not) and are never
removed by it otherwise.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from farmwatch.collector.roster.entries import Problem, RosterEntry
from farmwatch.collector.storage import roster as storage
from farmwatch.collector.storage.roster import FIELDS

NEW, REASSIGNED, UPDATED, REMOVED = "new", "reassigned", "updated", "removed"


@dataclass(frozen=True)
class RosterChange:
    serial: str
    change: str
    before: dict | None  # the stored row (None when new)
    after: dict | None  # the values written (None when removed)
    fields: tuple[str, ...] = ()

    def person(self, row: dict | None) -> str:
        return (row or {}).get("email") or (row or {}).get("user_name") or "nobody"

    def describe(self) -> str:
        if self.change == REASSIGNED:
            return f"{self.serial}: reassigned from {self.person(self.before)} to {self.person(self.after)}"
        if self.change == UPDATED:
            return f"{self.serial}: {', '.join(self.fields)} changed"
        return f"{self.serial}: {self.change} ({self.person(self.after or self.before)})"


@dataclass
class SyncPlan:
    source: str
    listed: int
    listed_serials: list[str] = field(default_factory=list)
    changes: list[RosterChange] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)
    held_removals: int = 0  # rows not seen, kept because a malformed record might have been one of them
    owned: int = 0  # rows this source held before the sync

    def count(self, change: str) -> int:
        return sum(1 for c in self.changes if c.change == change)

    def counts(self) -> dict[str, int]:
        return {"devices": self.listed, **{kind: self.count(kind) for kind in (NEW, REASSIGNED, UPDATED, REMOVED)},
                "unchanged": self.unchanged, "skipped": len(self.skipped), "held_removals": self.held_removals}


def plan_sync(conn: sqlite3.Connection, source: str, entries: list[RosterEntry], provided: tuple[str, ...], *,
              keep: set[str] = frozenset(), hold_removals: bool = False, skipped=()) -> SyncPlan:
    """What writing `entries` (this source's whole listing, one per serial) would change. `keep`:
    serials listed but unreadable, left as they are; `hold_removals`: remove nothing this time."""
    owned = storage.rows_from(conn, source)
    stored = storage.existing_rows(conn, [e.serial for e in entries])
    plan = SyncPlan(source, len(entries), [e.serial for e in entries], skipped=list(skipped), owned=len(owned))
    for entry in entries:
        change = change_for(entry, stored.get(entry.serial), provided)
        if change:
            plan.changes.append(change)
        else:
            plan.unchanged += 1
    listed = {e.serial for e in entries} | set(keep)
    gone = sorted(set(owned) - listed)
    if hold_removals:
        plan.held_removals = len(gone)
    else:
        plan.changes += [RosterChange(serial, REMOVED, owned[serial], None) for serial in gone]
    return plan


def change_for(entry: RosterEntry, stored: dict | None, provided: tuple[str, ...]) -> RosterChange | None:
    """What writing `entry` over the `stored` row changes; `provided`: the fields the source has
    (the others are left alone)."""
    if stored is None:
        return RosterChange(entry.serial, NEW, None, entry.values(FIELDS))
    new = entry.values(f for f in provided if f != "serial")
    changed = tuple(name for name, value in new.items() if stored[name] != value)
    if not changed:
        return None
    after = {**stored, **new}
    kind = REASSIGNED if _person(stored) != _person(after) else UPDATED
    return RosterChange(entry.serial, kind, stored, after, changed)


def _person(row: dict) -> str:
    return (row.get("email") or "").lower() or (row.get("user_name") or "").casefold()


def apply_sync(conn: sqlite3.Connection, plan: SyncPlan, *, source_file: str, stamp: str, run_id: str) -> None:
    """Write the plan and its history; the caller holds the transaction."""
    provenance = {"source_format": plan.source, "source_file": source_file, "updated_at": stamp}
    for change in plan.changes:
        if change.change == NEW:
            storage.insert_row(conn, {**change.after, **provenance, "imported_at": stamp})
        elif change.change == REMOVED:
            storage.delete_row(conn, change.serial)
        else:
            storage.update_row(conn, change.serial, {**{f: change.after[f] for f in change.fields}, **provenance})
    storage.record_changes(conn, [history_row(c, plan.source, stamp, run_id) for c in plan.changes])
    storage.claim_rows(conn, plan.listed_serials, plan.source, source_file)


def history_row(change: RosterChange, source: str, stamp: str, run_id: str) -> dict:
    before, after = change.before or {}, change.after or {}
    return {"serial": change.serial, "at": stamp, "change": change.change, "source": source, "run_id": run_id,
            "user_name": after.get("user_name"), "email": after.get("email"),
            "previous_user_name": before.get("user_name"), "previous_email": before.get("email"),
            "fields": ",".join(change.fields) or None}


def history(conn_or_store, serial: str) -> list[dict]:
    """Who had this laptop when: its roster changes, oldest first (`roster_changes`)."""
    from farmwatch.collector.roster.normalise import normalise_serial

    key = normalise_serial(serial)
    return storage.history(storage.database(conn_or_store), serial=key) if key else []
