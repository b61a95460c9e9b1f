"""`import_roster` and `find`: what an import changes in the roster table, decided here and
written through `farmwatch.collector.storage.roster`."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from farmwatch.collector.roster.entries import ParseResult, Problem, RosterEntry
from farmwatch.collector.roster.normalise import normalise_serial
from farmwatch.collector.roster.sync import NEW, change_for, history_row
from farmwatch.collector.storage import roster as storage
from farmwatch.common.clock import now_rfc3339


@dataclass(frozen=True)
class Change:
    serial: str
    fields: tuple[str, ...]


@dataclass
class ImportSummary:
    source_file: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def describe(self) -> list[str]:
        """Lines for a person: the totals, then every skipped row and warning."""
        lines = [f"{self.source_file}: {self.inserted} new, {self.updated} updated, "
                 f"{self.unchanged} unchanged, {len(self.skipped)} skipped"]
        lines += [f"  skipped {problem}" for problem in self.skipped]
        lines += [f"  warning {problem}" for problem in self.warnings]
        return lines


def import_roster(conn_or_store, result: ParseResult, *, now: str | None = None) -> ImportSummary:
    """Upsert the parsed entries in one transaction; see "Re-import" in the package docstring."""
    db = storage.database(conn_or_store)
    stamp = now or now_rfc3339()
    summary = ImportSummary(source_file=result.source_file, skipped=list(result.skipped),
                            warnings=list(result.warnings))
    with storage.transaction(db.conn):
        storage.create_schema(db)
        existing = storage.existing_rows(db.conn, [entry.serial for entry in result.entries])
        history = [_upsert(db.conn, entry, existing.get(entry.serial), result, stamp, summary)
                   for entry in result.entries]
        storage.record_changes(db.conn, [row for row in history if row])
    return summary


def find(conn_or_store, device_id: str) -> dict | None:
    """The roster row of a reporting device (its id is the hardware serial, compared normalised)."""
    serial = normalise_serial(device_id)
    db = storage.database(conn_or_store)
    if serial is None:
        return None
    return storage.find_row(db, serial)


def _upsert(conn: sqlite3.Connection, entry: RosterEntry, stored: dict | None, result: ParseResult,
            stamp: str, summary: ImportSummary) -> dict | None:
    """Write one entry; its `roster_changes` row (who had the laptop from now), None when unchanged."""
    provenance = {"source_format": result.source_format, "source_file": result.source_file, "updated_at": stamp}
    change = change_for(entry, stored, result.provided)
    if change is None:
        summary.unchanged += 1
        return None
    if change.change == NEW:
        storage.insert_row(conn, {**change.after, **provenance, "imported_at": stamp})
        summary.inserted += 1
    else:
        storage.update_row(conn, entry.serial, {**{name: change.after[name] for name in change.fields}, **provenance})
        summary.updated += 1
        summary.changes.append(Change(entry.serial, change.fields))
    return history_row(change, result.source_format, stamp, run_id=None)

