"""`farmwatch-analyst`: the collector's read commands, asked remotely over the Query API.

Each command prints what `farmwatch-collector COMMAND` prints on the collector's host (tables,
--json, --csv through farmwatch.common.output), so scripts move from one to the other unchanged.
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path

from farmwatch.analyst import identity
from farmwatch.analyst.client import Client, QueryFailed
from farmwatch.common import output, triage_view, views
from farmwatch.common.vocabulary import TRIAGE_STATES, VERDICTS

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2  # as farmwatch-collector's

EPILOG = """\
examples:
  farmwatch-analyst --connect collector.example.com:7443 --identity alice.pem devices --verdict relay
  export FARMWATCH_ANALYST=~/alice.pem
  farmwatch-analyst --connect collector.example.com:7443 device C02ZK1ABMD6R --json
  farmwatch-analyst --connect collector.example.com:7443 query "SELECT device_id, verdict FROM devices" --csv
  farmwatch-analyst --connect collector.example.com:7443 triage PFWCWBL5 --state investigating --note "asked IT"
  farmwatch-analyst --connect collector.example.com:7443 follow >> flags.jsonl

exit codes: 0 success; 1 the command failed: the collector cannot be reached, refused the
certificate (revoked, expired, another CA's, an agent's), refused the question, or the bundle is
missing or damaged (the message says which, and what to do next); 2 bad usage.
BUNDLE is the NAME.pem `farmwatch-collector pki issue-analyst NAME` writes (key, certificate and
CA certificate; a folder holding them as PEM files works too). Every question is audited on the
collector under the certificate's name.
"""


def cmd_devices(args, client: Client) -> None:
    rows, columns, truncated = client.devices(args.verdict or "", args.user or "", args.cluster or "")
    _emit(rows, columns, truncated, args.format)


def cmd_device(args, client: Client) -> None:
    views.show(client.device(args.device_id), views.DEVICE, args.format)


def cmd_flags(args, client: Client) -> None:
    _emit(*client.flags(), args.format)


def cmd_clusters(args, client: Client) -> None:
    _emit(*client.clusters(args.all, args.min_score), args.format)


def cmd_cluster(args, client: Client) -> None:
    views.show(client.cluster(args.cluster_id), views.CLUSTER, args.format)


def cmd_query(args, client: Client) -> None:
    rows, columns, truncated = client.sql(args.sql, args.max_rows)
    output.emit(rows, columns, args.format)
    if truncated:
        print(f"(stopped after {len(rows)} rows: the collector's row limit or what one answer may carry; "
              "raise --max-rows, select fewer or smaller columns, or add a LIMIT)", file=sys.stderr)


def cmd_triage(args, client: Client) -> None:
    views.show(client.triage(args.device_id, **triage_view.changes_given(args)), views.TRIAGE, args.format)


def cmd_follow(args, client: Client) -> None:
    for line in client.follow(skip_current=args.skip_current):
        print(line, flush=True)


def _emit(rows: list[dict], columns: list[str], truncated: bool, fmt: str) -> None:
    output.emit(rows, columns, fmt)
    if truncated:
        print(f"(only the first {len(rows)} rows: more than one answer carries; narrow with filters or use "
              "`query` with a LIMIT)", file=sys.stderr)


def _text(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _address(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT, e.g. collector.example.com:7443")
    return text


def _whole(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="farmwatch-analyst", description=textwrap.fill("Ask a farmwatch collector what its agents reported, "
                                                            "from your own machine, with the bundle "
                                                            "`farmwatch-collector pki issue-analyst NAME` wrote.", 79),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connect", required=True, type=_address, metavar="HOST:PORT",
                        help="the collector's address, as agents reach it")
    parser.add_argument("--identity", type=Path, metavar="BUNDLE", default=_env_path("FARMWATCH_ANALYST"),
                        help="your bundle: NAME.pem from `pki issue-analyst NAME` (default $FARMWATCH_ANALYST)")
    parser.add_argument("--server-name", default="", metavar="NAME",
                        help="the name in the collector's certificate, when HOST is not one of them")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _declare(commands)
    return parser


def _declare(commands) -> None:
    p = commands.add_parser("devices", help="every known device with its current verdict")
    p.add_argument("--verdict", choices=VERDICTS, help="only devices with this verdict")
    p.add_argument("--user", help="only devices the roster assigns to this e-mail or name")
    p.add_argument("--cluster", metavar="CLUSTER_ID", help="only members of this cluster")
    _formats(p, cmd_devices)
    p = commands.add_parser("device", help="one device: verdict with evidence, changes, recent reports")
    p.add_argument("device_id", type=_text, help="the device id (hardware serial) as `devices` shows it")
    _formats(p, cmd_device, "print one JSON object (for scripts)")
    _formats(commands.add_parser("flags", help="findings of every suspicious or relay device, worst first"),
             cmd_flags)
    p = commands.add_parser("clusters", help="location keys shared by laptops of different people (laptop farms)")
    p.add_argument("--all", action="store_true", help="include clusters that are no longer active")
    p.add_argument("--min-score", type=int, default=0, metavar="N", help="only clusters scoring at least N")
    _formats(p, cmd_clusters)
    p = commands.add_parser("cluster", help="one cluster: its key, members with their people, history")
    p.add_argument("cluster_id", type=_text, help="as `clusters` shows it")
    _formats(p, cmd_cluster, "print one JSON object (for scripts)")
    p = commands.add_parser("query", help="run one read-only SQL statement on the collector (audited)")
    p.add_argument("sql", metavar="SQL", type=_text, help='e.g. "SELECT device_id, verdict FROM devices LIMIT 10"')
    p.add_argument("--max-rows", type=_whole, default=0, metavar="N",
                   help="rows at most (default and ceiling: the collector's, 10000)")
    _formats(p, cmd_query)
    p = commands.add_parser("triage", help="show or change where the security team stands on a device (state, "
                            "assignee, notes; every change kept, under your name)")
    triage_view.add_arguments(p, TRIAGE_STATES)
    _formats(p, cmd_triage, "print one JSON object (for scripts)")
    p = commands.add_parser("follow", help="new, changed and cleared flags as JSON lines, until interrupted")
    p.add_argument("--skip-current", action="store_true", help="only changes, not the flags already there")
    p.set_defaults(func=cmd_follow)


def _formats(parser, func, json_help: str = "print a JSON array (for scripts)") -> None:
    output.add_format_flags(parser, json_help)
    parser.set_defaults(func=func)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "")
    return Path(value).expanduser() if value else None


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        bundle = identity.load(args.identity)
        with Client(args.connect, bundle, args.server_name) as client:
            args.func(args, client)
        return EXIT_OK
    except (identity.BundleError, QueryFailed) as exc:
        print(f"farmwatch-analyst: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:  # the way `follow` ends
        return EXIT_OK if args.command == "follow" else EXIT_FAIL
    except BrokenPipeError:  # e.g. `devices | head`: the reader has gone; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
