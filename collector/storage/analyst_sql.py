"""Ad-hoc read-only SQL over the collector's database, for analysts.

Writes are refused by SQLite itself, in three independent layers: the file is opened read-only
(`mode=ro`), the connection is `query_only`, and an authorizer allows only reading actions
(SELECT, reading columns, calling functions other than `load_extension`, introspection pragmas).
ATTACH and DETACH are denied, so a query cannot reach any other file. A progress handler stops a
query that runs past its time budget, and only a bounded number of rows is fetched.
"""
from __future__ import annotations

import base64
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_ROWS = 10_000
DEFAULT_TIMEOUT = 10.0  # seconds
_PROGRESS_EVERY = 10_000  # SQLite VM instructions between deadline checks (~ a millisecond)

_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
_DENIED_FUNCTIONS = {"load_extension", "fts3_tokenizer"}
# Pragmas that only describe the schema; their argument names a table or index, never a new value.
_INTROSPECTION_PRAGMAS = {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
                          "foreign_key_list", "collation_list", "function_list", "pragma_list", "database_list",
                          "compile_options"}
# Pragmas that report a setting; with an argument they would change it.
_READABLE_PRAGMAS = {"user_version", "schema_version", "page_count", "page_size", "freelist_count",
                     "journal_mode", "encoding", "application_id"}


class SqlError(Exception):
    """The query was refused, failed, or ran out of time; the message says which."""


@dataclass
class SqlResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool  # more rows existed than were fetched

    def __len__(self) -> int:
        return len(self.rows)

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in self.rows]


def open_readonly(database: Path) -> sqlite3.Connection:
    """A connection that cannot change `database` or reach any other file."""
    database = Path(database)
    if not database.exists():
        raise SqlError(f"no database at {database}")
    conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    if hasattr(conn, "enable_load_extension"):  # absent when Python was built without it
        conn.enable_load_extension(False)
    conn.text_factory = _text
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA query_only=1")
    conn.set_authorizer(_authorize)
    return conn


def _text(data: bytes):
    """TEXT as str; TEXT that is not UTF-8 (SQLite stores what it is given) comes back as its bytes,
    shown like a BLOB, instead of failing the whole query."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return bytes(data)


def _authorize(action, arg1, arg2, _database, _trigger):
    if action in _READ_ACTIONS:
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in _INTROSPECTION_PRAGMAS or (name in _READABLE_PRAGMAS and arg2 is None):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def run(database: Path, query: str, params=(), *, max_rows: int = DEFAULT_MAX_ROWS,
        timeout: float = DEFAULT_TIMEOUT, abandoned=None, max_bytes: int | None = None) -> SqlResult:
    """Run one read-only statement; at most `max_rows` rows, at most `timeout` seconds.

    `abandoned()`, if given, is asked now and then; once it says True (the caller has gone away)
    the query stops at once instead of running out its time for nobody.

    `max_bytes`, if given, bounds memory as the other two bound time: no string or BLOB the query
    makes may be larger (`SELECT zeroblob(900000000)` fails at once instead of taking gigabytes),
    and rows stop being fetched (truncated) once those fetched hold about that many bytes."""
    conn = open_readonly(database)
    if max_bytes is not None:
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(1, max_bytes))
    try:
        return _execute(conn, query, params, max_rows, timeout, abandoned or (lambda: False), max_bytes)
    finally:
        conn.close()


def _execute(conn: sqlite3.Connection, query: str, params, max_rows: int, timeout: float,
             abandoned, max_bytes: int | None = None) -> SqlResult:
    deadline = time.monotonic() + timeout
    conn.set_progress_handler(lambda: time.monotonic() > deadline or abandoned(), _PROGRESS_EVERY)
    try:
        cursor = conn.execute(query, params)
        rows, over_budget = _fetch(cursor, max_rows + 1, max_bytes)
    except sqlite3.DatabaseError as exc:
        if "interrupted" in str(exc) and time.monotonic() > deadline:
            raise SqlError(f"the query ran longer than {timeout:g}s and was stopped; "
                           "narrow it or add a LIMIT") from exc
        if "interrupted" in str(exc) and abandoned():
            raise SqlError("the query was stopped: the caller cancelled it or its deadline passed") from exc
        raise SqlError(_explain(exc)) from exc
    except (sqlite3.ProgrammingError, sqlite3.Warning) as exc:  # e.g. two statements at once
        raise SqlError(str(exc)) from exc
    if cursor.description is None:
        raise SqlError("the statement returns no rows; only queries (SELECT, WITH, PRAGMA table_info) are allowed")
    columns = _unique([d[0] for d in cursor.description])
    truncated = len(rows) > max_rows or over_budget
    return SqlResult(columns, [tuple(_plain(v) for v in row) for row in rows[:max_rows]], truncated=truncated)


def _fetch(cursor: sqlite3.Cursor, limit: int, max_bytes: int | None) -> tuple[list, bool]:
    """Up to `limit` rows, and whether rows were left unfetched because those fetched hold
    `max_bytes` (10,000 rows of a 4 MB BLOB each would otherwise all be held in memory before any
    is sent)."""
    rows: list = []
    size = 0
    while len(rows) < limit:
        chunk = cursor.fetchmany(min(256, limit - len(rows)))
        if not chunk:
            break
        for row in chunk:
            if max_bytes is not None:
                size += sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)
                if size > max_bytes and rows:
                    return rows, True
            rows.append(row)
    return rows, False


def _explain(exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "too big" in text:
        return (f"{text}: no value may be larger than one response can carry; select fewer or smaller "
                "columns (e.g. length(raw) instead of raw)")
    if "not authorized" in text or "readonly" in text or "read-only" in text:
        return f"{text}: this connection is read-only; ATTACH and extensions are not allowed"
    return text


def _unique(names: list[str]) -> list[str]:
    """Column names as given, with a repeated one numbered (`id`, `id:2`) so no value is lost."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}:{seen[name]}")
    return out


def _plain(value):
    """A value JSON can carry: BLOBs become {"$base64": true, "encoded": ...} (as datasette does)."""
    if isinstance(value, bytes):
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value
