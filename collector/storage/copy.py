"""Copy a SQLite home's database into an empty PostgreSQL database (`storage migrate`), and count.

Every table the two have in common is copied whole, in one PostgreSQL transaction, column by
column by name (a `rowid` is carried over, so reports keep their order); the count of each table
is then compared. The trigger that keeps `location_keys` is held off while rows are copied, as
those counts are copied too. Nothing is written to the SQLite file.
"""
from __future__ import annotations

from dataclasses import dataclass

_BATCH = 2000
_NUMBERED = {"audit", "triage_events", "roster_changes"}  # an integer `id` key: an identity column on PostgreSQL


@dataclass
class TableCopy:
    table: str
    source_rows: int
    copied_rows: int | None  # None: the target has no such table (made by a newer collector?)

    @property
    def ok(self) -> bool:
        return self.copied_rows == self.source_rows


class TargetNotEmpty(Exception):
    """The PostgreSQL database already holds reports or devices; nothing was copied."""


def copy_all(source, target) -> list[TableCopy]:
    """Copy `source` (a SqliteStorage) into `target` (a PostgresStorage); one TableCopy per source table."""
    held = [t for t in ("devices", "reports", "certificates") if target.count(t)]
    if held:
        raise TargetNotEmpty(f"{target} already holds {', '.join(held)}: migrate into an empty database")
    tables = [t for t in source.db.table_names() if not t.startswith("sqlite_")]
    present = set(target.db.table_names())
    with target.transaction() as conn:
        conn.execute("ALTER TABLE device_locations DISABLE TRIGGER device_locations_count")
        for table in tables:
            if table in present:
                _copy_table(source, conn, target, table)
        conn.execute("ALTER TABLE device_locations ENABLE TRIGGER device_locations_count")
        for table in _NUMBERED & present:  # their ids go on from the copied ones
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")
    return [TableCopy(t, source.count(t), target.count(t) if t in present else None) for t in tables]


def _copy_table(source, conn, target, table: str) -> None:
    wanted = set(target.db[table].columns_dict)
    columns = [c for c in source.db[table].columns_dict if c in wanted]
    with_rowid = "rowid" in wanted  # tables made WITHOUT ROWID have none on PostgreSQL either
    names = (["rowid"] if with_rowid else []) + columns
    quoted = ", ".join(f'"{c}"' for c in names)
    select = ", ".join((["rowid"] if with_rowid else []) + [f'"{c}"' for c in columns])
    insert = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join('?' * len(names))})"
    cursor = source.reader().execute(f"SELECT {select} FROM {table}" + (" ORDER BY rowid" if with_rowid else ""))
    while rows := cursor.fetchmany(_BATCH):
        conn.executemany(insert, rows)
    if with_rowid:  # new rows number on from the copied ones
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'rowid'), "
                     f"coalesce((SELECT max(rowid) FROM {table}), 0) + 1, false)")
