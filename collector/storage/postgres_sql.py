"""The storage modules' SQL, as PostgreSQL reads it: one spelling of each statement serves both engines.

The modules write `?` and `:name` placeholders and a few SQLite spellings; `translate` rewrites
them once per statement (cached): placeholders become psycopg's `%s` / `%(name)s`, a literal `%`
becomes `%%`, SQLite's scalar `min(a, b)` / `max(a, b)` become `least` / `greatest`,
`json_each(?)` over a JSON array becomes `json_array_elements_text(?)` (its column is `value` in
both), and SQLite's `CROSS JOIN ... ON` (a join-order hint) a plain `JOIN ... ON`. Quoted strings
and identifiers are left alone. `PgConnection` gives psycopg the interface the modules use on
sqlite3 (`execute` returning a cursor, `executemany`, `rowcount`, `description`, iteration).
"""
from __future__ import annotations

import functools
import re
from contextlib import contextmanager

_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|::|\?|:([A-Za-z_]\w*)|%|\bCROSS JOIN\b"""
                    r"""|\b(min|max|json_each)\s*\(""", re.IGNORECASE)
_RENAMED = {"json_each": "json_array_elements_text("}
_SCALAR = {"min": "least(", "max": "greatest("}


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    out, at = [], 0
    for match in _TOKEN.finditer(sql):
        out.append(sql[at:match.start()])
        at = match.end()
        token, name, function = match.group(0), match.group(1), match.group(2)
        if token == "?":
            out.append("%s")
        elif name:
            out.append(f"%({name})s")
        elif token == "%":
            out.append("%%")
        elif token.upper() == "CROSS JOIN":  # SQLite's join-order hint, written with ON; a plain JOIN here
            out.append("JOIN")
        elif function:
            function = function.lower()
            if function in _RENAMED:
                out.append(_RENAMED[function])
            else:  # two or more arguments: the scalar form; one: the aggregate, left as it is
                out.append(_SCALAR[function] if _has_top_level_comma(sql, match.end()) else token)
        else:  # a quoted string or name, `::`: psycopg reads `%` even inside quotes
            out.append(token.replace("%", "%%"))
    out.append(sql[at:])
    return "".join(out)


def _has_top_level_comma(sql: str, start: int) -> bool:
    """Whether the call whose arguments start at `start` has more than one argument."""
    depth, quote = 0, None
    for char in sql[start:]:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return False
            depth -= 1
        elif char == "," and depth == 0:
            return True
    return False


class PgConnection:
    """A psycopg connection that takes the storage modules' SQL (see the module docstring)."""

    def __init__(self, conn):
        self.raw = conn
        self._pipeline = None

    def execute(self, sql: str, params=None):
        if sql == "BEGIN IMMEDIATE":  # SQLite's write lock up front; PostgreSQL locks rows as it writes
            sql = "BEGIN"
        cursor = self.raw.execute(translate(sql), _params(params))
        return _PipelinedCursor(cursor, self._pipeline) if self._pipeline else cursor

    @contextmanager
    def pipeline(self):
        """psycopg's pipeline mode: statements are sent without waiting for their results, which
        come back when a result is read (a fetch, a `rowcount`) or the block ends; a failed
        statement raises there, and the statements after it in the block are not run."""
        with self.raw.pipeline() as pipeline:
            self._pipeline = pipeline
            try:
                yield self
            finally:
                self._pipeline = None

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def executemany(self, sql: str, rows):
        rows = [_params(row) for row in rows]
        cursor = self.raw.cursor()
        if rows:  # psycopg pipelines the statements: one round trip for them, none inside `pipeline()`
            cursor.executemany(translate(sql), rows)
        return cursor

    def close(self) -> None:
        self.raw.close()


class _PipelinedCursor:
    """A cursor of a pipelined statement: its `rowcount` waits for the results sent so far (one
    round trip for all of them); fetching and iterating wait in psycopg itself."""

    def __init__(self, cursor, pipeline):
        self._cursor, self._pipeline = cursor, pipeline

    @property
    def rowcount(self) -> int:
        if self._cursor.rowcount < 0:
            self._pipeline.sync()
        return self._cursor.rowcount

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return iter(self._cursor)


def _params(params):
    if params is None:
        return ()  # not None: psycopg then reads `%%` (what `translate` wrote for `%`) as `%`
    if isinstance(params, dict):
        return params
    return tuple(params)
