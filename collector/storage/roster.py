"""The `roster` table: its schema, and the reads and writes a roster import and a lookup need.

What to write is decided in `farmwatch.collector.roster.importer`; this module only reads and
writes. Callers pass a Store, a sqlite_utils.Database or a sqlite3.Connection (`database`).
"""
from __future__ import annotations

import sqlite3

import sqlite_utils

# Fields of a roster entry, in table order. `user_name`, not `user`: USER is reserved in
# PostgreSQL, the storage backend that comes later.
FIELDS = ("serial", "user_name", "email", "department", "city", "region", "country", "postal_code",
          "issue_date")

_ROW_COLUMNS = FIELDS + ("source_format", "source_file", "imported_at", "updated_at")


def create_schema(db: sqlite_utils.Database) -> None:
    db["roster"].create({name: str for name in _ROW_COLUMNS}, pk="serial", if_not_exists=True)
    # Fleet rules group devices by person (e-mail, else name) and compare countries.
    db["roster"].create_index(["email"], if_not_exists=True)
    db["roster"].create_index(["user_name"], if_not_exists=True)
    db["roster"].create_index(["country"], if_not_exists=True)


def find_row(db: sqlite_utils.Database, serial: str) -> dict | None:
    """The roster row of one normalised serial; None when there is none or no roster table yet."""
    if not db["roster"].exists():
        return None
    row = db.execute(f"SELECT {', '.join(_ROW_COLUMNS)} FROM roster WHERE serial = ?", (serial,)).fetchone()
    return dict(zip(_ROW_COLUMNS, row)) if row else None


def insert_row(conn: sqlite3.Connection, values: dict) -> None:
    _write(conn, "INSERT INTO roster ({names}) VALUES ({marks})", values)


def update_row(conn: sqlite3.Connection, serial: str, values: dict) -> None:
    _write(conn, "UPDATE roster SET {assignments} WHERE serial = ?", values, serial)


def _write(conn: sqlite3.Connection, template: str, values: dict, *key) -> None:
    # Column names come from FIELDS and fixed provenance names, never from the file.
    sql = template.format(names=", ".join(values), marks=", ".join("?" * len(values)),
                          assignments=", ".join(f"{name} = ?" for name in values))
    conn.execute(sql, (*values.values(), *key))


def existing_rows(conn: sqlite3.Connection, serials: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    columns = ", ".join(FIELDS)
    for start in range(0, len(serials), 500):
        chunk = serials[start:start + 500]
        cursor = conn.execute(f"SELECT {columns} FROM roster WHERE serial IN ({', '.join('?' * len(chunk))})", chunk)
        for row in cursor:
            found[row[0]] = dict(zip(FIELDS, row))
    return found


def database(conn_or_store) -> sqlite_utils.Database:
    if isinstance(conn_or_store, sqlite_utils.Database):
        return conn_or_store
    if isinstance(conn_or_store, sqlite3.Connection):
        return sqlite_utils.Database(conn_or_store)
    db = getattr(conn_or_store, "db", None)  # farmwatch.collector.ingest.Store
    if isinstance(db, sqlite_utils.Database) or getattr(db, "engine", None) == "postgresql":
        return db
    raise TypeError(f"import_roster needs a Store, sqlite_utils.Database or sqlite3.Connection, "
                    f"not {type(conn_or_store).__name__}")


class transaction:
    """BEGIN IMMEDIATE … COMMIT (a plain BEGIN on PostgreSQL), or join the caller's transaction
    when one is open."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.owned = False

    def __enter__(self):
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self.owned = True

    def __exit__(self, kind, value, traceback):
        if self.owned and self.conn.in_transaction:
            self.conn.execute("ROLLBACK" if kind else "COMMIT")
        return False
