"""`roster import`: the MDM roster, who got which laptop and where it was shipped."""
from __future__ import annotations

from farmwatch.collector import roster
from farmwatch.collector.cli.shared import CommandError, Commands, open_store


def cmd_roster_import(args, config):
    try:
        result = roster.parse(args.file, args.roster_format)
    except roster.RosterError as exc:
        raise CommandError(str(exc)) from exc
    summary = roster.import_roster(open_store(config), result)
    print("\n".join(summary.describe()))


def register(commands: Commands) -> None:
    roster_cmd = commands.group("roster", "the MDM roster: who got which laptop",
                                "The MDM roster: who got which laptop, and where it was shipped.",
                                dest="roster_command")
    p = roster_cmd.command(
        "import", cmd_roster_import,
        "import a Jamf, Intune or Kandji CSV export, or a plain CSV; rows are matched by serial number "
        "and updated, never deleted",
        example="farmwatch-collector --home /srv/fw roster import computers.csv --format jamf\n\n"
                "columns read:\n"
                "  jamf    Serial Number, Full Name or Username, Email Address, Department\n"
                "  intune  Serial number, Primary user display name, Primary user email address or UPN\n"
                "  kandji  Serial Number, User Name, User Email\n"
                "  csv     serial,user,email,department,city,region,country,postal_code,issue_date\n"
                "any format: Ship To City / Ship To State / Ship To Country / Ship To Postal Code and\n"
                "Issue Date columns, when added, say where and when the laptop was shipped.")
    p.add_argument("file", metavar="FILE", help="the CSV export")
    p.add_argument("--format", dest="roster_format", required=True, choices=roster.FORMATS,
                   help="which MDM exported FILE")
