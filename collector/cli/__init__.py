"""`farmwatch-collector`: set up the PKI, hand out tokens, serve agents, and ask what they said.

One module per command group declares its commands in `register(commands)` (see shared.Commands);
COMMAND_MODULES lists them in the order `--help` shows them. Adding a command touches its module.
"""
from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from pathlib import Path

from farmwatch.collector import audit
from farmwatch.collector.cli import (console, devices, export, flags, fleet, mdm, pki, query, reports, roster,
                                     serve, storage, tokens, triage)
from farmwatch.collector.cli.shared import EXIT_FAIL, EXIT_OK, CommandError, Commands, setup_logging
from farmwatch.collector.config import CollectorConfig, ConfigError, default_home
from farmwatch.collector.pki import PkiError
from farmwatch.collector.storage import StoreFull
from farmwatch.common.names import COLLECTOR_PROGRAM, installed_version

COMMAND_MODULES = (pki, tokens, roster, mdm, serve, console, reports, devices, fleet, flags, triage, query, export,
                   storage)

EPILOG = """\
first steps:
  farmwatch-collector --home /srv/fw pki init --san collector.example.com
  farmwatch-collector --home /srv/fw token create --uses 50 --expires 7d
  farmwatch-collector --home /srv/fw serve --listen 0.0.0.0:7443
  farmwatch-collector --home /srv/fw devices --verdict relay
  farmwatch-collector --home /srv/fw query "SELECT device_id, verdict FROM devices"
  farmwatch-collector --home /srv/fw export jsonl --follow --output /var/log/farmwatch/flags.jsonl

exit codes: 0 success; 1 the command failed (the message says why); 2 bad usage.
--home defaults to $FARMWATCH_HOME, else ~/.local/share/farmwatch; it holds pki/, the database
and collector.toml (settings; see collector.example.toml in the source).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="farmwatch-collector", description="Enroll agents, store their reports, flag relays.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{COLLECTOR_PROGRAM} {installed_version()}")
    _add_common_options(parser)
    common = argparse.ArgumentParser(add_help=False)  # the same options after the command name too
    _add_common_options(common, default=argparse.SUPPRESS)
    commands = Commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True), common)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def _add_common_options(parser, default=None) -> None:
    parser.add_argument("--home", type=Path, default=default, metavar="DIR",
                        help=f"collector folder (default: $FARMWATCH_HOME, else {default_home()})")
    parser.add_argument("--config", type=Path, default=default, metavar="FILE",
                        help="settings file (default: HOME/collector.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", default=default or False,
                        help="log debug detail to stderr")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    home = args.home or default_home()
    try:
        config = CollectorConfig.load(home, args.config, listen=getattr(args, "listen", None))
        setup_logging(config.log_format, logging.DEBUG if args.verbose else logging.INFO)
        return args.func(args, config) or EXIT_OK
    except (CommandError, ConfigError, PkiError, audit.AuditUnavailable) as exc:
        print(f"farmwatch-collector: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_FAIL
    except BrokenPipeError:  # e.g. `devices | head`: the reader has gone; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAIL
    except (sqlite3.Error, StoreFull) as exc:  # StoreFull: the disk filled during a write
        print(f"farmwatch-collector: the database in {home} cannot be used ({exc}); check that the file is "
              "farmwatch's (not damaged or replaced), the disk has room, and you run as its owner", file=sys.stderr)
        return EXIT_FAIL
    except OSError as exc:
        where = exc.filename or home
        advice = ("--home must be a folder" if isinstance(exc, (NotADirectoryError, FileExistsError))
                  else "run as the collector's user, or pass another --home" if isinstance(exc, PermissionError)
                  else "check the path and free disk space")
        print(f"farmwatch-collector: {where}: {exc.strerror or exc}; {advice}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
