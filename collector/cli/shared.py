"""What every command module shares: exit codes, the one-line failure, the store, option checks, how
a command is declared, one record shown (common/views.py), and the log format."""
from __future__ import annotations

import argparse
import logging
import sys
import textwrap

from farmwatch.collector import audit
from farmwatch.common import views
from farmwatch.collector.config import CollectorConfig
from farmwatch.common.printable import json_text

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A failure to report in one line, with what to do next."""


def open_store(config: CollectorConfig, *, ingests: bool = False):
    """The collector's store; one that `ingests` reports hashes their Wi-Fi neighbours (fleet.neighbourhood)."""
    from farmwatch.collector.fleet.neighbourhood import hasher_for
    from farmwatch.collector.ingest import Store

    if not config.database_exists and not config.pki_dir.exists():
        raise CommandError(f"no collector in {config.home}: run `farmwatch-collector --home {config.home} pki init`")
    return Store(config.database, wifi=hasher_for(config) if ingests else None)


class Commands:
    """Where a command module declares its commands (`register(commands)` in each module), so adding a
    command touches one module. `common` holds the options accepted after the command name too."""

    def __init__(self, subparsers, common: argparse.ArgumentParser):
        self.subparsers, self.common = subparsers, common

    def command(self, name, func, help, example: str | None = None, **kw) -> argparse.ArgumentParser:
        description = help
        if example:  # kept as written; the description is wrapped here as argparse would
            kw.update(epilog="example:\n" + "\n".join(f"  {line}" if line else "" for line in example.splitlines()),
                      formatter_class=argparse.RawDescriptionHelpFormatter)
            description = textwrap.fill(help, 79)
        p = self.subparsers.add_parser(name, help=help, description=description, parents=[self.common], **kw)
        p.set_defaults(func=func)
        return p

    def group(self, name, help, description, dest, metavar="ACTION", common=True) -> Commands:
        """A command with actions of its own (`pki init`, `export jsonl`): declare them on the result."""
        parents = [self.common] if common else []
        actions = self.subparsers.add_parser(name, help=help, parents=parents, description=description)
        return Commands(actions.add_subparsers(dest=dest, metavar=metavar, required=True), self.common)


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return seconds


def show_one(args, config, what: str, key: str, lookup, hint: str, view: views.View) -> None:
    """One record (audited), shown as `views.show` shows it."""
    store = open_store(config)
    with audit.local_question(config.database, what, key) as entry:
        info = lookup(store, key)
        entry.rows = int(info is not None)
    if info is None:
        raise CommandError(f"no {what} {key!r}; {hint}")
    views.show(info, view, args.format)


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json_text(entry)


def setup_logging(fmt: str, level: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter() if fmt == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
