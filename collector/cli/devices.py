"""`devices`, `device`: what is known about each laptop, as the latest reports and the fleet say."""
from __future__ import annotations

from farmwatch.collector import audit, queries
from farmwatch.common import output, views
from farmwatch.collector.cli.shared import Commands, open_store, show_one
from farmwatch.common.vocabulary import VERDICTS


def cmd_devices(args, config):
    store = open_store(config)
    detail = audit.describe_filters(verdict=args.verdict, user=args.user, cluster=args.cluster)
    with audit.local_question(config.database, "devices", detail) as entry:
        rows = queries.devices(store, args.verdict, cluster=args.cluster, user=args.user)
        entry.rows = len(rows)
    output.emit(rows, queries.DEVICE_COLUMNS, args.format)


def cmd_device(args, config):
    show_one(args, config, "device", args.device_id, queries.device, "`devices` lists the known ones",
             views.DEVICE)


def register(commands: Commands) -> None:
    p = commands.command("devices", cmd_devices, "every known device with its current verdict",
                         example="farmwatch-collector --home /srv/fw devices --verdict relay --csv > relays.csv")
    p.add_argument("--verdict", choices=VERDICTS, help="only devices with this verdict")
    p.add_argument("--user", help="only devices the roster assigns to this e-mail or name")
    p.add_argument("--cluster", metavar="CLUSTER_ID", help="only members of this cluster")
    output.add_format_flags(p)
    p = commands.command("device", cmd_device, "one device: verdict with evidence, changes, recent reports",
                         example="farmwatch-collector --home /srv/fw device C02ZK1ABMD6R --json")
    p.add_argument("device_id", help="the device id (hardware serial) as `devices` shows it")
    output.add_format_flags(p, "print one JSON object (for scripts)")
