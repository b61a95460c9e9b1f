"""`flags`: the findings of every suspicious or relay device, worst first."""
from __future__ import annotations

from farmwatch.collector import audit, queries
from farmwatch.common import output
from farmwatch.collector.cli.shared import Commands, open_store


def cmd_flags(args, config):
    store = open_store(config)
    with audit.local_question(config.database, "flags") as entry:
        rows = queries.flags(store)
        entry.rows = len(rows)
    output.emit(rows, queries.FLAG_COLUMNS, args.format)


def register(commands: Commands) -> None:
    p = commands.command("flags", cmd_flags, "findings of every suspicious or relay device, worst first")
    output.add_format_flags(p)
