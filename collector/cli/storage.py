"""`storage migrate`: copy this collector's SQLite database into PostgreSQL (docs/scale.md)."""
from __future__ import annotations

import sys

from farmwatch.collector.cli.shared import CommandError, Commands
from farmwatch.common import output


def cmd_storage_migrate(args, config):
    from farmwatch.collector.config import DATABASE_NAME
    from farmwatch.collector.storage import Unavailable, is_url, open_storage
    from farmwatch.collector.storage.copy import TargetNotEmpty, copy_all

    sqlite_file = config.home / DATABASE_NAME
    if not sqlite_file.exists():
        raise CommandError(f"no SQLite database at {sqlite_file}: nothing to migrate")
    if not is_url(args.to):
        raise CommandError(f"--to must be a postgresql:// URL, not {args.to!r}")
    source = open_storage(sqlite_file)
    try:
        try:
            target = open_storage(args.to)
        except Unavailable as exc:
            raise CommandError(str(exc)) from exc
        try:
            copies = copy_all(source, target)
        except TargetNotEmpty as exc:
            raise CommandError(str(exc)) from exc
        finally:
            target.close()
    finally:
        source.close()
    rows = [{"table": c.table, "sqlite": c.source_rows, "postgresql": c.copied_rows,
             "same": "yes" if c.ok else "NO"} for c in copies]
    output.emit(rows, ["table", "sqlite", "postgresql", "same"], args.format)
    if not all(c.ok for c in copies):
        raise CommandError("the counts differ for the tables marked NO (the copy was committed); see above")
    print(f"copied {len(copies)} tables; now set [storage] url in collector.toml (or FARMWATCH_DATABASE_URL) "
          "and start the collectors", file=sys.stderr)


def register(commands: Commands) -> None:
    storage_cmd = commands.group("storage", "the collector's database: move it to PostgreSQL",
                                 "Copy this home's SQLite database into PostgreSQL (docs/scale.md).", dest="action")
    p = storage_cmd.command(
        "migrate", cmd_storage_migrate,
        "copy the SQLite database (reports, inventory, findings, roster, certificates, audit) into an empty "
        "PostgreSQL database, then compare the row counts of every table",
        example="farmwatch-collector --home /srv/fw storage migrate --to postgresql://farmwatch@db.internal/farmwatch\n"
                "(stop the collector first; agents keep their reports spooled meanwhile)")
    p.add_argument("--to", required=True, metavar="URL", help="postgresql://USER@HOST[:PORT]/DATABASE (password "
                   "from ~/.pgpass or PGPASSWORD)")
    output.add_format_flags(p)
