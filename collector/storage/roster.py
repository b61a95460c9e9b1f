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

# roster_changes (schema 12): who had which laptop when. One row per change a sync or an import
# made to a serial: `new`, `reassigned` (the person changed), `updated` (other fields), `removed`.
# previous_* hold the person before the change; user_name/email the person after (none when removed).
CHANGE_COLUMNS = ("serial", "at", "change", "source", "run_id", "user_name", "email", "previous_user_name",
                  "previous_email", "fields")


def create_schema(db: sqlite_utils.Database) -> None:
    db["roster"].create({name: str for name in _ROW_COLUMNS}, pk="serial", if_not_exists=True)
    # Fleet rules group devices by person (e-mail, else name) and compare countries.
    db["roster"].create_index(["email"], if_not_exists=True)
    db["roster"].create_index(["user_name"], if_not_exists=True)
    db["roster"].create_index(["country"], if_not_exists=True)
    db["roster_changes"].create({"id": int, **{name: str for name in CHANGE_COLUMNS}}, pk="id", if_not_exists=True)
    db["roster_changes"].create_index(["serial", "at"], if_not_exists=True)
    db["roster_changes"].create_index(["run_id"], if_not_exists=True)


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


def delete_row(conn: sqlite3.Connection, serial: str) -> None:
    conn.execute("DELETE FROM roster WHERE serial = ?", (serial,))


def claim_rows(conn: sqlite3.Connection, serials: list[str], source: str, source_file: str) -> None:
    """Make `source` the owner of these rows (those another source wrote), values unchanged."""
    for start in range(0, len(serials), 500):
        chunk = serials[start:start + 500]
        conn.execute(f"UPDATE roster SET source_format = ?, source_file = ? WHERE source_format <> ? AND serial IN "
                     f"({', '.join('?' * len(chunk))})", (source, source_file, source, *chunk))


def rows_from(conn: sqlite3.Connection, source: str) -> dict[str, dict]:
    """The rows a source (`jamf-api` …) last wrote, by serial: the ones its next sync may remove."""
    cursor = conn.execute(f"SELECT {', '.join(FIELDS)} FROM roster WHERE source_format = ?", (source,))
    return {row[0]: dict(zip(FIELDS, row)) for row in cursor}


def count_from(conn: sqlite3.Connection, source: str) -> int:
    return conn.execute("SELECT count(*) FROM roster WHERE source_format = ?", (source,)).fetchone()[0]


def record_changes(conn: sqlite3.Connection, rows: list[dict]) -> None:
    insert_rows(conn, "roster_changes", CHANGE_COLUMNS, rows)


def insert_rows(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], rows: list[dict]) -> None:
    """Insert `rows` (dicts; a missing key is NULL). Table and column names are the caller's constants."""
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                     [[row.get(c) for c in columns] for row in rows])


def history(db: sqlite_utils.Database, serial: str | None = None, run_id: str | None = None) -> list[dict]:
    """Changes, oldest first: of one serial (who had it when), or of one sync run."""
    if not db["roster_changes"].exists():
        return []
    where, args = ("serial = ?", (serial,)) if serial else ("run_id = ?", (run_id,))
    cursor = db.execute(f"SELECT {', '.join(CHANGE_COLUMNS)} FROM roster_changes WHERE {where} "
                        "ORDER BY at, id", args)
    return [dict(zip(CHANGE_COLUMNS, row)) for row in cursor]


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
