"""One analyst statement, run in a process of its own: `python -I analyst_worker.py` reads the
request as JSON on stdin and writes the answer as JSON on stdout (`analyst_sql.run` is the caller).

Why a process: some SQL functions run long inside one C call, where neither the progress handler
nor `sqlite3_interrupt()` reaches them. On SQLite 3.40 `printf('%.*c', 2147483647, 'a')` takes
about 25 s even with values bounded at 4 MB, and `trim(x, y)` is quadratic (162 s for 200 KB).
A process can be killed at the deadline or when its caller goes away, whatever it is doing, and
its memory can be bounded (`resource.RLIMIT_AS`).

Writes are refused by SQLite itself, in three independent layers: the file is opened read-only
(`mode=ro`), the connection is `query_only`, and an authorizer allows only reading actions
(SELECT, reading columns, calling functions other than `load_extension`, introspection pragmas).
ATTACH and DETACH are denied, so a query cannot reach any other file. No value may be larger than
`max_bytes` (SQLITE_LIMIT_LENGTH), and rows stop being fetched once they hold that many bytes.

This file imports nothing but the standard library: it runs as a script, without the package.
"""
from __future__ import annotations

import base64
import json
import sqlite3
import sys
import time
from pathlib import Path

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


def execute(database: Path, query: str, params, *, max_rows: int, timeout: float, max_bytes: int) -> dict:
    """The answer: {"columns", "rows" (values JSON can carry), "truncated"}; SqlError when the
    statement is refused, fails or runs past `timeout` seconds."""
    conn = open_readonly(database)
    try:
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(1, max_bytes))
        deadline = time.monotonic() + timeout
        conn.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_EVERY)
        try:
            cursor = conn.execute(query, params)
            rows, over_budget = rows_within(cursor, max_rows + 1, max_bytes)
        except sqlite3.DatabaseError as exc:
            if "interrupted" in str(exc) and time.monotonic() > deadline:
                raise SqlError(too_long(timeout)) from exc
            raise SqlError(_explain(exc)) from exc
        except (sqlite3.ProgrammingError, sqlite3.Warning) as exc:  # e.g. two statements at once
            raise SqlError(str(exc)) from exc
        if cursor.description is None:
            raise SqlError("the statement returns no rows; only queries (SELECT, WITH, PRAGMA table_info) are allowed")
        return {"columns": _unique([d[0] for d in cursor.description]),
                "rows": [[_plain(v) for v in row] for row in rows[:max_rows]],
                "truncated": len(rows) > max_rows or over_budget}
    finally:
        conn.close()


def too_long(timeout: float) -> str:
    return f"the query ran longer than {timeout:g}s and was stopped; narrow it or add a LIMIT"


def rows_within(cursor, limit: int, max_bytes: int) -> tuple[list, bool]:
    """Up to `limit` rows of `cursor` (any iterable of rows), and whether rows were left unfetched
    because those fetched hold `max_bytes`. One row at a time: 10,000 rows of a 4 MB BLOB each would
    otherwise be held in memory before any is sent (and `fetchmany(256)` held 256 of them before the first check)."""
    rows: list = []
    size = 0
    for row in cursor:
        size += sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)
        if size > max_bytes and rows:
            return rows, True
        rows.append(row)
        if len(rows) == limit:
            break
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


def _bound_memory(limit: int) -> None:
    try:
        import resource
    except ImportError:  # not on Windows; the collector serves from Linux
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> None:
    request = json.load(sys.stdin)
    _bound_memory(request.pop("max_memory"))
    try:
        answer = execute(Path(request.pop("database")), request.pop("query"), request.pop("params"), **request)
    except SqlError as exc:
        answer = {"error": str(exc)}
    except MemoryError:
        answer = {"error": "the query needed more memory than an analyst query may use; narrow it or add a LIMIT"}
    json.dump(answer, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main()
