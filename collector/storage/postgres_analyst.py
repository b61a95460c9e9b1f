"""One analyst statement on PostgreSQL, in a process of its own (`python -I -m` this module; the
caller is `analyst_sql.run`, which kills it at its deadline or when its caller goes away, and
bounds its memory, exactly as for SQLite).

The server refuses writes and bounds time in independent layers: the statement runs in a READ
ONLY transaction, as the `farmwatch_analyst` role (SELECT on the collector's tables and nothing
else: it cannot signal the collectors' sessions, read server files or reach other databases),
with `statement_timeout` set to the budget; parameters go by the extended protocol, which takes
one statement only; `?` placeholders are read as on SQLite (`postgres_sql.translate`). Rows are
streamed one at a time (libpq's single-row mode), so a result is cut at `max_rows` or `max_bytes`
without the rest crossing the network.
"""
from __future__ import annotations

import json
import sys

from farmwatch.collector.storage.analyst_worker import (SqlError, _bound_memory, _plain, _unique, rows_within,
                                                        too_long)
from farmwatch.collector.storage.postgres_sql import translate

ROLE = "farmwatch_analyst"
_NO_ROWS = "the statement returns no rows; only queries (SELECT, WITH, PRAGMA table_info) are allowed"


def execute(url: str, query: str, params, *, max_rows: int, timeout: float, max_bytes: int) -> dict:
    import psycopg

    try:
        conn = psycopg.connect(url, application_name="farmwatch-analyst")
    except psycopg.OperationalError as exc:
        raise SqlError(f"the database cannot be reached: {str(exc).strip().splitlines()[0]}") from None
    try:
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
        try:
            conn.execute(f"SET LOCAL ROLE {ROLE}")
        except psycopg.errors.InvalidParameterValue:
            raise SqlError(f"the database has no {ROLE} role for analyst queries; a collector makes it when its "
                           "database user may create roles (docs/scale.md, \"Analyst SQL\")") from None
        cursor = conn.cursor()
        try:
            streamed = _bounded(cursor.stream(translate(query), tuple(params)), max_bytes)
            rows, over_budget = rows_within(streamed, max_rows + 1, max_bytes)
        except psycopg.errors.QueryCanceled as exc:
            raise SqlError(too_long(timeout)) from exc
        except psycopg.Error as exc:
            raise SqlError(_explain(exc)) from exc
        if cursor.description is None:
            raise SqlError(_NO_ROWS)
        return {"columns": _unique([d.name for d in cursor.description]),
                "rows": [[_plain(v) for v in row] for row in rows[:max_rows]],
                "truncated": len(rows) > max_rows or over_budget}
    finally:
        conn.close()


def _bounded(rows, max_bytes: int):
    """The rows, refusing a value larger than `max_bytes` as SQLite's length limit does."""
    for row in rows:
        if any(isinstance(v, (str, bytes)) and len(v) > max_bytes for v in row):
            raise SqlError(f"a value is larger than {max_bytes} bytes (string or blob too big): no value may be larger "
                           "than one response can carry; select fewer or smaller columns (e.g. length(raw) "
                           "instead of raw)")
        yield row


def _explain(exc) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "didn't produce a result" in text:
        return _NO_ROWS
    if "multiple commands" in text:
        return "You can only execute one statement at a time."
    if "read-only" in text or "permission denied" in text:
        return f"{text}: not authorized: this connection is read-only, as {ROLE}"
    return text


def main() -> None:
    request = json.load(sys.stdin)
    _bound_memory(request.pop("max_memory"))
    try:
        answer = execute(request.pop("database"), request.pop("query"), request.pop("params"), **request)
    except SqlError as exc:
        answer = {"error": str(exc)}
    except MemoryError:
        answer = {"error": "the query needed more memory than an analyst query may use; narrow it or add a LIMIT"}
    json.dump(answer, sys.stdout, ensure_ascii=True, default=str)


if __name__ == "__main__":
    main()
