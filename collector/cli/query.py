"""`query`: one read-only SQL statement over the database, audited."""
from __future__ import annotations

import argparse
import sys

from farmwatch.collector import audit
from farmwatch.common import output
from farmwatch.collector.cli.shared import CommandError, Commands, open_store, positive_int, positive_seconds


def cmd_query(args, config):
    from farmwatch.collector.query_service import answer_budget
    from farmwatch.collector.storage import SqlError

    store = open_store(config)  # the database exists and has the current schema
    budget = answer_budget(config.max_message_bytes)  # what a gRPC answer may carry; the table printer too
    try:
        with audit.local_question(config.database, "sql", args.sql) as entry:
            try:
                result = store.analyst_query(args.sql, max_rows=args.max_rows, timeout=args.timeout,
                                             max_bytes=budget)
            except SqlError as exc:
                raise CommandError(str(exc)) from exc
            entry.rows = len(result.rows)
    finally:
        store.close()
    output.emit(result.dicts(), result.columns, args.format)
    if result.truncated and len(result.rows) >= args.max_rows:
        print(f"(stopped at {args.max_rows} rows; raise --max-rows or narrow the query)", file=sys.stderr)
    elif result.truncated:
        print(f"(stopped after {len(result.rows)} rows: they hold about {budget} bytes, as much as one answer may "
              "carry (max_message_bytes in collector.toml); select fewer or smaller columns, or add a LIMIT)",
              file=sys.stderr)


def _statement(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the SQL statement is empty; e.g. \"SELECT device_id, verdict FROM devices\"")
    return text


def register(commands: Commands) -> None:
    p = commands.command("query", cmd_query, "run one read-only SQL statement over the database (audited)",
                         example='farmwatch-collector --home /srv/fw query "SELECT device_id, name FROM '
                                 'current_processes WHERE name LIKE \'%anydesk%\'" --csv\n'
                                 '(tables and views: README.md "The database")')
    p.add_argument("sql", metavar="SQL", type=_statement,
                   help='e.g. "SELECT device_id, verdict FROM devices LIMIT 10"')
    p.add_argument("--max-rows", type=positive_int, default=10_000, metavar="N",
                   help="rows to print at most (default 10000)")
    p.add_argument("--timeout", type=positive_seconds, default=30.0, metavar="SECONDS",
                   help="seconds before the query is stopped (default 30)")
    output.add_format_flags(p)
