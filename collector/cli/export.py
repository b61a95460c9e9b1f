"""`export jsonl | cef | webhook`: send each sink the flags that are new, changed or cleared for it."""
from __future__ import annotations

import signal
import sys
import threading

from farmwatch.collector import audit
from farmwatch.collector.cli.shared import CommandError, Commands, open_store, positive_int, positive_seconds
from farmwatch.collector.storage import ExportBusy


def cmd_export(args, config):
    from farmwatch.collector import exports
    from farmwatch.collector.exports import settings as export_settings

    try:
        settings = export_settings.load(args.config or config.config_file)
        sink = export_settings.build_sink(args.kind, settings, _sink_overrides(args))
    except export_settings.ExportConfigError as exc:
        raise CommandError(str(exc)) from exc
    store = open_store(config)
    if args.retries is not None:
        settings.retry.attempts = args.retries
    try:
        with store.export_lease(args.sink or sink.name):  # the cursor is read once the lease is ours
            cursor = exports.SinkCursor(store, args.sink or sink.name)
            if args.reset:
                cursor.reset()
            with audit.local_question(config.database, f"export {args.kind}", cursor.sink) as entry:
                _run_export(args, settings, store, cursor, sink, entry)
    except ExportBusy as exc:
        raise CommandError(f"{exc}: each sink is sent by one run at a time, so that every event goes once; "
                           "stop the other run, or give this one its own cursor with --sink NAME") from exc
    except exports.DeliveryError as exc:
        raise CommandError(f"{exc}; {entry.rows} event(s) were delivered, the rest wait for the next run") from exc
    finally:
        sink.close()
    print(f"exported {entry.rows} event(s) to {cursor.sink}", file=sys.stderr)


def _run_export(args, settings, store, cursor, sink, entry) -> None:
    from farmwatch.collector import exports

    if not args.follow:
        exports.send_pending(store, cursor, sink, settings.retry, on_sent=entry.count)
        return
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        exports.follow(store, cursor, sink, settings.retry, interval=args.interval or settings.interval_seconds,
                       stop=stop, on_sent=entry.count)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _sink_overrides(args) -> dict:
    """The sink's settings given as flags (None: not given)."""
    from farmwatch.collector import exports

    spec = exports.sinks()[args.kind]
    try:
        return spec.from_flags({s.key: getattr(args, _dest(s)) for s in spec.settings if s.flag})
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def _dest(setting) -> str:
    return f"setting_{setting.key}"


_FLAG_VALUES = {"seconds": positive_seconds, "count": positive_int}  # what Flag.value may name


def register(commands: Commands) -> None:
    from farmwatch.collector import exports

    export_cmd = commands.group(
        "export", "send new, changed and cleared flags to a file, syslog (CEF) or a webhook",
        "Send each sink the flags it has not had yet, or whose severity or verdict changed, "
        "or that cleared. Each sink's cursor is kept in the database; settings in the "
        "[export] section of collector.toml, flags win.", dest="export_command", metavar="SINK", common=False)
    for spec in exports.sinks().values():
        p = export_cmd.command(spec.kind, cmd_export, spec.help, example=spec.example)
        p.set_defaults(kind=spec.kind)
        _add_run_flags(p)
        for setting in spec.settings:
            if setting.flag:
                _add_setting_flag(p, setting)


def _add_run_flags(p) -> None:
    """What every sink takes: how to run, not where to send."""
    p.add_argument("--follow", action="store_true", help="keep polling until SIGINT or SIGTERM")
    p.add_argument("--interval", type=positive_seconds, metavar="SECONDS",
                   help="seconds between polls with --follow (default 5)")
    p.add_argument("--sink", help="name of this sink's cursor (default: kind and destination)")
    p.add_argument("--reset", action="store_true", help="forget what this sink was sent; send every flag again")
    p.add_argument("--retries", type=positive_int, metavar="N", help="delivery attempts per event (default 5)")


def _add_setting_flag(p, setting) -> None:
    """A sink setting as a flag, as its SinkSpec declares it (exports/registry.py)."""
    flag = setting.flag
    help = flag.help or setting.help
    if flag.const is not None:
        p.add_argument(flag.option, dest=_dest(setting), action="store_const", const=flag.const, help=help)
        return
    p.add_argument(flag.option, dest=_dest(setting), metavar=setting.metavar, help=help,
                   action="append" if flag.repeat else "store", type=_FLAG_VALUES[flag.value] if flag.value else None)
