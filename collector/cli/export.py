"""`export jsonl | cef | webhook`: send each sink the flags that are new, changed or cleared for it."""
from __future__ import annotations

import signal
import sys
import threading

from farmwatch.collector import audit
from farmwatch.collector.cli.shared import CommandError, Commands, open_store, positive_int, positive_seconds


def cmd_export(args, config):
    from farmwatch.collector import exports
    from farmwatch.collector.exports import settings as export_settings

    try:
        settings = export_settings.load(args.config or config.config_file)
        sink = export_settings.build_sink(args.kind, settings, _sink_overrides(args))
    except export_settings.ExportConfigError as exc:
        raise CommandError(str(exc)) from exc
    store = open_store(config)
    cursor = exports.SinkCursor(store, args.sink or sink.name)
    if args.reset:
        cursor.reset()
    if args.retries is not None:
        settings.retry.attempts = args.retries
    try:
        with audit.local_question(config.database, f"export {args.kind}", cursor.sink) as entry:
            _run_export(args, settings, store, cursor, sink, entry)
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
    if args.kind == "jsonl":
        return {"output": args.output}
    if args.kind == "cef":
        return {"to": args.to, "transport": "tcp" if args.tcp else None, "format": args.syslog_format,
                "facility": args.facility}
    from farmwatch.collector.exports.webhook import parse_header

    try:
        headers = dict(parse_header(h) for h in args.header) if args.header else None
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    return {"url": args.url, "headers": headers, "timeout_seconds": args.timeout}


def register(commands: Commands) -> None:
    export_cmd = commands.group(
        "export", "send new, changed and cleared flags to a file, syslog (CEF) or a webhook",
        "Send each sink the flags it has not had yet, or whose severity or verdict changed, "
        "or that cleared. Each sink's cursor is kept in the database; settings in the "
        "[export] section of collector.toml, flags win.", dest="export_command", metavar="SINK", common=False)

    def sink(name, help, example):
        p = export_cmd.command(name, cmd_export, help, example=example)
        p.set_defaults(kind=name)
        p.add_argument("--follow", action="store_true", help="keep polling until SIGINT or SIGTERM")
        p.add_argument("--interval", type=positive_seconds, metavar="SECONDS",
                       help="seconds between polls with --follow (default 5)")
        p.add_argument("--sink", help="name of this sink's cursor (default: kind and destination)")
        p.add_argument("--reset", action="store_true", help="forget what this sink was sent; send every flag again")
        p.add_argument("--retries", type=positive_int, metavar="N", help="delivery attempts per event (default 5)")
        return p

    p = sink("jsonl", "one JSON object per line, to a file (appended) or stdout",
             "farmwatch-collector --home /srv/fw export jsonl --follow --output /var/log/farmwatch/flags.jsonl")
    p.add_argument("--output", metavar="FILE", help="file to append to (default stdout)")
    p = sink("cef", "CEF messages over syslog (RFC 5424, or 3164), UDP or TCP",
             "farmwatch-collector --home /srv/fw export cef --follow --to siem.example.com:514 --tcp")
    p.add_argument("--to", metavar="HOST:PORT", help="syslog receiver")
    p.add_argument("--tcp", action="store_true", help="TCP instead of UDP")
    p.add_argument("--rfc3164", dest="syslog_format", action="store_const", const="rfc3164",
                   help="BSD syslog lines instead of RFC 5424")
    p.add_argument("--facility", help="syslog facility (default auth)")
    p = sink("webhook", "an HTTP POST of JSON per event, retried with exponential backoff",
             "farmwatch-collector --home /srv/fw export webhook --follow --url https://hooks.example.com/fw "
             "--header 'Authorization: Bearer ...'")
    p.add_argument("--url", help="http(s) URL to POST to")
    p.add_argument("--header", action="append", metavar="'NAME: VALUE'", help="extra request header (repeat)")
    p.add_argument("--timeout", type=positive_seconds, metavar="SECONDS", help="seconds per request (default 10)")
