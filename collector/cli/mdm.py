"""`mdm sync`, `mdm status`, `mdm history`: the roster read from the MDMs' APIs, verdicts written back.

There is no `mdm lock` or `mdm wipe`: farmwatch's evidence is a reason for a person to look, not
for a machine to act, and a locked laptop in a farm tells the facilitator he was seen. Lock from
the MDM's own console, where its audit and approvals apply (docs/deploy.md, "MDM integration").
"""
from __future__ import annotations

import logging

from farmwatch.collector import audit, mdm
from farmwatch.collector.cli.shared import EXIT_FAIL, CommandError, Commands, open_store
from farmwatch.collector.storage import mdm as mdm_storage
from farmwatch.collector.storage import roster as roster_storage
from farmwatch.common import output

STATUS_COLUMNS = ("source", "started_at", "finished_at", "outcome", "dry_run", "devices", "new", "reassigned",
                  "updated", "removed", "unchanged", "skipped", "held_removals", "detail")
_STATUS_TABLE = ("source", "started_at", "outcome", "devices", "new", "reassigned", "removed", "skipped", "detail")
HISTORY_COLUMNS = ("at", "change", "source", "user_name", "email", "previous_user_name", "previous_email", "fields")


def cmd_mdm_sync(args, config):
    settings = config.mdm
    if not settings.sources:
        raise CommandError(f"no MDM is configured: add an [mdm.jamf], [mdm.intune] or [mdm.kandji] table to "
                           f"{config.config_file} (docs/deploy.md, \"MDM integration\")")
    try:
        clients = mdm.clients(settings, args.only)
    except (mdm.MdmSettingsError, mdm.MdmError) as exc:
        raise CommandError(str(exc)) from exc
    if not clients:
        raise CommandError(f"no [mdm.{args.only}] table in {config.config_file}")
    if not args.verbose:  # the output says it all; serve's log is where these events go
        logging.getLogger("farmwatch.collector.mdm").setLevel(logging.ERROR)
    store = open_store(config)
    results, failed = [], False
    for client in clients:
        outcome = mdm.sync_source(store, client, mdm=settings, dry_run=args.dry_run,
                                  accept_removals=args.accept_removals)
        failed |= not outcome.ok
        written = _write_back(store, client, settings, args) if outcome.ok else None
        results.append({**outcome.to_dict(), "write_back": written.to_dict() if written else None})
        if args.format != "json":
            print("\n".join(outcome.describe() + (written.describe() if written else [])))
    if args.format == "json":
        output.emit(results, (), "json")
    return EXIT_FAIL if failed else None


def _write_back(store, client, settings, args):
    if not client.settings.write_back or args.no_write_back:
        return None
    if args.dry_run:
        due = mdm.due_writes(store, client.settings.source, settings)
        return mdm.WriteBackOutcome(client.settings.source, len(due))
    return mdm.write_back(store, client, mdm=settings)


def cmd_mdm_status(args, config):
    store = open_store(config)
    db = roster_storage.database(store)
    rows = [{**run, "dry_run": bool(run["dry_run"])} for run in mdm_storage.last_runs(db)]
    if args.format != "table":
        output.emit(rows, STATUS_COLUMNS, args.format)
        return
    configured = [s.source for s in config.mdm.sources]
    counts = mdm_storage.device_counts(db)
    for source in configured:
        listed, written = counts.get(source, (0, 0))
        print(f"{source}: {listed} devices listed at the last sync, {written} with a verdict written back")
    if not configured:
        print("no MDM is configured (docs/deploy.md, \"MDM integration\")")
    output.emit([{**row, "started_at": row["started_at"][:19],
                  "outcome": f"{row['outcome']} (dry run)" if row["dry_run"] else row["outcome"]} for row in rows],
                _STATUS_TABLE, "table")


def cmd_mdm_history(args, config):
    from farmwatch.collector import roster

    store = open_store(config)
    with audit.local_question(config.database, "roster history", args.serial) as entry:
        rows = roster.history(store, args.serial)
        entry.rows = len(rows)
    if not rows and args.format == "table":
        raise CommandError(f"no roster changes recorded for {args.serial!r}; `devices` lists the serials")
    output.emit(rows, HISTORY_COLUMNS, args.format)


def register(commands: Commands) -> None:
    group = commands.group("mdm", "the roster from Jamf, Intune or Kandji's API; verdicts written back",
                           "Read the roster from the MDMs configured in collector.toml ([mdm.jamf], [mdm.intune], "
                           "[mdm.kandji]) and write verdicts back to them. serve does it every "
                           "[mdm] sync_every_minutes.", dest="mdm_command")
    p = group.command(
        "sync", cmd_mdm_sync,
        "read each configured MDM's whole device list into the roster (all or nothing), then write changed "
        "verdicts back where write_back = true; exit 1 if any MDM failed",
        example="farmwatch-collector --home /srv/fw mdm sync --dry-run\n"
                "farmwatch-collector --home /srv/fw mdm sync --only jamf\n\n"
                "a failed sync changes nothing: the roster stays as the last completed sync left it.\n"
                "a listing that would remove more than [mdm] max_removed_percent of an MDM's rows is\n"
                "refused; check it with --dry-run, then pass --accept-removals.")
    p.add_argument("--only", choices=mdm.KINDS, help="sync this MDM only")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p.add_argument("--accept-removals", action="store_true",
                   help="apply a listing even if it removes more than max_removed_percent of the rows")
    p.add_argument("--no-write-back", action="store_true", help="sync the roster only")
    p.add_argument("--json", dest="format", action="store_const", const="json", default="table",
                   help="print a JSON array, one object per MDM: counts, changes, skipped records, write-back")
    p = group.command("status", cmd_mdm_status, "each MDM's last sync and last completed sync")
    output.add_format_flags(p)
    p = group.command("history", cmd_mdm_history, "who had this laptop when: its roster changes, oldest first",
                      example="farmwatch-collector --home /srv/fw mdm history C02XK1ABCDEF")
    p.add_argument("serial", metavar="SERIAL", help="the laptop's hardware serial number")
    output.add_format_flags(p)
