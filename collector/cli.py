"""`farmwatch-collector`: set up the PKI, hand out tokens, serve agents, and ask what they said."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import re
import signal
import sqlite3
import sys
import textwrap
import threading
from pathlib import Path

from farmwatch.collector import audit, output, pki, queries, roster
from farmwatch.collector.config import CollectorConfig, ConfigError, default_home

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

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


class CommandError(Exception):
    """A failure to report in one line, with what to do next."""


def _store(config: CollectorConfig):
    from farmwatch.collector.ingest import Store

    if not config.database.exists() and not config.pki_dir.exists():
        raise CommandError(f"no collector in {config.home}: run `farmwatch-collector --home {config.home} pki init`")
    return Store(config.database)


# -- pki ----------------------------------------------------------------------------------

def cmd_pki_init(args, config):
    ca = pki.CertificateAuthority.create(config.pki_dir, force=args.force)
    names = args.san or config.server_names
    server = ca.issue_server(names)
    _store(config).close()
    print(f"CA certificate:     {config.pki_dir / ca.CA_CERT}  (give this to agents: --ca-cert)")
    print(f"server certificate: {config.pki_dir / ca.SERVER_CERT}  names: {', '.join(names)}"
          f"  expires {server.not_valid_after_utc:%Y-%m-%d}")
    if not config.config_file.exists():
        _write_settings(config.config_file, names)
        print(f"settings:           {config.config_file}  (every setting, documented, at its default)")
    print(f"next: farmwatch-collector --home {config.home} token create")


def _write_settings(path, server_names: list[str]) -> None:
    """The documented example as the home's collector.toml, with the names just certified."""
    from importlib.resources import files

    text = files("farmwatch.collector").joinpath("collector.example.toml").read_text(encoding="utf-8")
    lines = [f"server_names = {json.dumps(server_names)}" if line.startswith("server_names = ") else line
             for line in text.splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def cmd_pki_revoke(args, config):
    from farmwatch.collector import enrollment

    count = enrollment.revoke_subject(_store(config), args.device_id, args.reason or "")
    if not count:
        raise CommandError(f"no live certificate for {args.device_id!r}; see `devices` for known ids")
    print(f"revoked {count} certificate(s) of {args.device_id}; its calls are refused from now on")


def cmd_pki_issue_analyst(args, config):
    from farmwatch.common.files import write_private
    from farmwatch.collector import enrollment

    store = _store(config)
    ca = pki.CertificateAuthority.load(config.pki_dir)
    key, cert = enrollment.Enrollment(store, ca, cert_lifetime=pki.DEFAULT_CLIENT_LIFETIME).issue_analyst(
        args.name, dt.timedelta(days=args.days))
    out = Path(args.out or config.pki_dir / "analysts")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(out / f"{args.name}.key", key, replace=True)
    (out / f"{args.name}.crt").write_bytes(cert)
    print(f"analyst certificate: {out / (args.name + '.crt')}\nkey (mode 0600):     {out / (args.name + '.key')}")


# -- tokens -------------------------------------------------------------------------------

def cmd_token_create(args, config):
    from farmwatch.collector import enrollment

    token = enrollment.create_token(_store(config), uses=args.uses, expires=args.expires,
                                    allow_reenroll=args.allow_reenroll, note=args.note or "")
    print(f"# token {token.token_id}: {token.uses_allowed} use(s), expires {token.expires_at}"
          f"{', may re-enroll known devices' if token.allow_reenroll else ''}")
    print(token.secret)


def cmd_token_list(args, config):
    rows = _store(config).rows(
        "SELECT token_id, created_at, expires_at, uses, uses_allowed, allow_reenroll, revoked_at, note "
        "FROM tokens ORDER BY created_at")
    output.emit(rows, ("token_id", "created_at", "expires_at", "uses", "uses_allowed", "allow_reenroll",
                       "revoked_at", "note"), args.format)


def cmd_token_revoke(args, config):
    from farmwatch.collector import enrollment

    if not enrollment.revoke_token(_store(config), args.token_id):
        raise CommandError(f"no active token {args.token_id!r}; see `token list`")
    print(f"token {args.token_id} revoked")


# -- serving and ingest -------------------------------------------------------------------

def cmd_serve(args, config):
    from farmwatch.collector.server import CollectorServer

    _store(config).close()
    CollectorServer(config).serve_until_signal()


def cmd_ingest(args, config):
    from farmwatch.collector import ingest
    from farmwatch.collector.progress import Progress

    store = _store(config)
    classify = _classifier(config, store)
    stored = duplicates = failed = 0
    progress = Progress(len(args.files), "ingested")
    for path in args.files:
        try:
            loaded = _load_report(path)
            item = ingest.prepare(loaded.report, peer_ip=loaded.peer_ip, received_at=loaded.received_at,
                                  classify=classify)
        except ingest.InvalidReport as exc:
            progress.say(_skipped(path, exc))
            failed += 1
        else:
            new = store.ingest([item])[0]
            stored += new
            duplicates += not new
        progress.advance()
    print(f"stored {stored}, duplicates {duplicates}, failed {failed}")
    return EXIT_FAIL if failed else EXIT_OK


def _load_report(path: str):
    """A report or envelope file; anything wrong with it is an InvalidReport naming the file."""
    from farmwatch.collector import ingest

    try:
        return ingest.load_report_file(path)
    except OSError as exc:
        raise ingest.InvalidReport(f"{path}: cannot read it ({exc.strerror or exc})") from exc


def _skipped(path: str, exc: Exception) -> str:
    return f"skipped {path}: {str(exc).removeprefix(f'{path}: ')}"  # the message may name the file too


def _classifier(config, store=None):
    """The allow-list's classifier; with a store, group entries apply by each device's roster department."""
    from farmwatch.collector import ingest
    from farmwatch.collector.detect import Policy

    if store is None and config.database.exists():
        store = _store(config)
    group_of = ingest.DeviceGroups(store) if store is not None else None
    return ingest.classifier(Policy.from_config({"allow": config.allow}), group_of)


def cmd_classify(args, config):
    from farmwatch.collector import ingest

    classify = _classifier(config)
    failed = 0
    for path in args.files:
        try:
            loaded = _load_report(path)
        except ingest.InvalidReport as exc:
            print(_skipped(path, exc), file=sys.stderr)
            failed += 1
            continue
        print(json.dumps(classify(loaded.report), ensure_ascii=False))
    return EXIT_FAIL if failed else EXIT_OK


def cmd_reclassify(args, config):
    from farmwatch.collector.progress import Progress

    store = _store(config)
    classify = _classifier(config, store)
    progress = Progress(store.count("reports"), "reclassified")
    for report_id, device_id, report in store.stored_reports():
        verdict = classify(report)
        if verdict is not None:
            store.replace_verdict(report_id, device_id, verdict)
        progress.advance()
    after = {r["verdict"]: r["n"] for r in store.rows("SELECT verdict, count(*) AS n FROM devices GROUP BY verdict")}
    print(f"reclassified {progress.done} report(s); devices now: "
          + ", ".join(f"{after.get(v, 0)} {v}" for v in ("relay", "suspicious", "clean")))


def cmd_roster_import(args, config):
    try:
        result = roster.parse(args.file, args.roster_format)
    except roster.RosterError as exc:
        raise CommandError(str(exc)) from exc
    summary = roster.import_roster(_store(config), result)
    print("\n".join(summary.describe()))


# -- questions ----------------------------------------------------------------------------

def cmd_devices(args, config):
    store = _store(config)
    detail = audit.describe_filters(verdict=args.verdict, user=args.user, cluster=args.cluster)
    with audit.local_question(config.database, "devices", detail) as entry:
        rows = queries.devices(store, args.verdict, cluster=args.cluster, user=args.user)
        entry.rows = len(rows)
    output.emit(rows, queries.DEVICE_COLUMNS, args.format)


def cmd_device(args, config):
    _show_one(args, config, "device", args.device_id, queries.device, "`devices` lists the known ones",
              ("device_id", "hostname", "os", "os_version", "hardware_model", "verdict", "score",
               "first_seen", "last_seen", "last_peer_ip", "report_count"),
              (("findings (latest report)", "findings", ("severity", "rule", "summary", "allowed")),
               ("fleet findings", "fleet_findings", ("severity", "rule", "summary", "cluster_id")),
               ("clusters", "clusters", ("cluster_id", "kind", "value", "score", "status", "first_seen", "last_seen")),
               ("verdict changes", "verdict_changes", ("changed_at", "old_verdict", "new_verdict", "score")),
               ("recent reports", "reports", ("received_at", "sequence", "peer_ip", "verdict", "score", "replay"))))


def _show_one(args, config, what: str, key: str, lookup, hint: str, fields: tuple, sections: tuple) -> None:
    """One record (audited): `fields` as `name: value` lines, then each section as a table."""
    store = _store(config)
    with audit.local_question(config.database, what, key) as entry:
        info = lookup(store, key)
        entry.rows = int(info is not None)
    if info is None:
        raise CommandError(f"no {what} {key!r}; {hint}")
    if args.format != "table":
        output.emit(info, (), args.format)
        return
    width = max(map(len, fields))
    for name in fields:
        print(f"{name:>{width}}: {output.one_line(info.get(name))}")
    for title, name, columns in sections:
        print(f"\n{title}:")
        output.emit(info[name], columns, "table")


def cmd_correlate(args, config):
    from farmwatch.collector import fleet

    result = fleet.correlate(_store(config), config)
    found = [{**c, "status": "active"} for c in result.clusters]  # what a run finds is active by definition
    if args.format == "csv":  # the clusters it found, one row each, with the columns of `clusters --csv`
        output.emit(found, queries.CLUSTER_COLUMNS, "csv")
        return
    if args.format == "json":
        output.emit(result.to_dict(), (), "json")
        return
    print(f"correlated in {result.seconds:.2f}s: {len(result.clusters)} active cluster(s), "
          f"{sum(result.findings.values())} fleet finding(s), {len(result.verdict_changes)} verdict change(s)")
    output.emit(found, queries.CLUSTER_COLUMNS, "table")


def cmd_clusters(args, config):
    store = _store(config)
    with audit.local_question(config.database, "clusters", audit.describe_filters(min_score=args.min_score)) as entry:
        rows = queries.clusters(store, include_inactive=args.all, min_score=args.min_score)
        entry.rows = len(rows)
    output.emit(rows, queries.CLUSTER_COLUMNS, args.format)


def cmd_cluster(args, config):
    _show_one(args, config, "cluster", args.cluster_id, queries.cluster, "`clusters --all` lists them",
              ("cluster_id", "kind", "value", "score", "severity", "people", "devices", "first_seen",
               "last_seen", "status"),
              (("members", "members", ("device_id", "hostname", "person", "verdict", "own_verdict", "city",
                                       "region", "country", "first_seen", "last_seen")),
               ("history", "events", ("at", "event", "device_id", "detail"))))


def cmd_flags(args, config):
    store = _store(config)
    with audit.local_question(config.database, "flags") as entry:
        rows = queries.flags(store)
        entry.rows = len(rows)
    output.emit(rows, queries.FLAG_COLUMNS, args.format)


def cmd_query(args, config):
    from farmwatch.collector.storage import analyst_sql as sql

    _store(config).close()  # the database exists and has the current schema
    with audit.local_question(config.database, "sql", args.sql) as entry:
        try:
            result = sql.run(config.database, args.sql, max_rows=args.max_rows, timeout=args.timeout)
        except sql.SqlError as exc:
            raise CommandError(str(exc)) from exc
        entry.rows = len(result.rows)
    output.emit(result.dicts(), result.columns, args.format)
    if result.truncated:
        print(f"(stopped at {args.max_rows} rows; raise --max-rows or narrow the query)", file=sys.stderr)


# -- exports ------------------------------------------------------------------------------

def cmd_export(args, config):
    from farmwatch.collector import exports
    from farmwatch.collector.exports import settings as export_settings

    try:
        settings = export_settings.load(args.config or config.config_file)
        sink = export_settings.build_sink(args.kind, settings, _sink_overrides(args))
    except export_settings.ExportConfigError as exc:
        raise CommandError(str(exc)) from exc
    store = _store(config)
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


# -- parser -------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="farmwatch-collector", description="Enroll farmwatch agents, store their reports, flag relays.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common_options(parser)
    common = argparse.ArgumentParser(add_help=False)  # the same options after the command name too
    _add_common_options(common, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, func, help, parent=sub, example: str | None = None, **kw):
        description = help
        if example:  # kept as written; the description is wrapped here as argparse would
            kw.update(epilog="example:\n" + "\n".join(f"  {line}" if line else "" for line in example.splitlines()),
                      formatter_class=argparse.RawDescriptionHelpFormatter)
            description = textwrap.fill(help, 79)
        p = parent.add_parser(name, help=help, description=description, parents=[common], **kw)
        p.set_defaults(func=func)
        return p

    pki_cmd = sub.add_parser("pki", help="the collector's certificate authority", parents=[common],
                             description="The collector's certificate authority: make it, revoke a device, "
                                         "issue analysts' certificates.").add_subparsers(
        dest="pki_command", metavar="ACTION", required=True)
    p = command("init", cmd_pki_init, "make the CA and the server certificate", pki_cmd,
                example="farmwatch-collector --home /srv/fw pki init --san collector.example.com --san 10.0.0.5")
    p.add_argument("--san", action="append", metavar="NAME",
                   help="host name or IP agents use to reach the collector (repeat; default localhost, 127.0.0.1)")
    p.add_argument("--force", action="store_true", help="replace an existing CA (every agent must re-enroll)")
    p = command("revoke", cmd_pki_revoke, "refuse every call from a device's certificates from now on", pki_cmd,
                example="farmwatch-collector --home /srv/fw pki revoke C02ZK1ABMD6R --reason 'reported stolen'")
    p.add_argument("device_id", help="the device id (hardware serial) as `devices` shows it")
    p.add_argument("--reason", help="kept with the revocation, e.g. 'laptop reported stolen'")
    p = command("issue-analyst", cmd_pki_issue_analyst,
                "make a certificate for a security analyst (for the gRPC Query service)", pki_cmd,
                example="farmwatch-collector --home /srv/fw pki issue-analyst alice@example.com --days 30")
    p.add_argument("name", type=_analyst_name,
                   help="who it is for (letters, digits, . _ @ -); names the files and the audit trail")
    p.add_argument("--days", type=_positive_int, default=90, help="how long it is valid (default 90)")
    p.add_argument("--out", metavar="DIR", help="folder for NAME.crt and NAME.key (default HOME/pki/analysts)")

    token_cmd = sub.add_parser("token", help="enrollment tokens for agents", parents=[common],
                               description="Enrollment tokens: what IT gives the agent (with ca.crt) so it "
                                           "can enroll once; they expire and count their uses.").add_subparsers(
        dest="token_command", metavar="ACTION", required=True)
    p = command("create", cmd_token_create, "make a token; printed on the last line", token_cmd,
                example="TOKEN=$(farmwatch-collector --home /srv/fw token create --uses 50 --expires 7d "
                        "--note 'batch 7' | tail -1)")
    p.add_argument("--uses", type=_positive_int, default=1, help="how many agents may enroll with it (default 1)")
    p.add_argument("--expires", type=_duration, default="7d", metavar="DURATION",
                   help="lifetime like 30m, 12h, 7d, 2w (default 7d)")
    p.add_argument("--allow-reenroll", action="store_true",
                   help="may replace the certificate of an already enrolled device id")
    p.add_argument("--note", help="what the token is for (shown in `token list`)")
    p = command("list", cmd_token_list, "list tokens (secrets are never shown again)", token_cmd)
    output.add_format_flags(p)
    p = command("revoke", cmd_token_revoke, "make a token unusable", token_cmd)
    p.add_argument("token_id", help="the id `token list` shows (the part after fwt_, before the next _)")

    roster_cmd = sub.add_parser("roster", help="the MDM roster: who got which laptop", parents=[common],
                                description="The MDM roster: who got which laptop, and where it was "
                                            "shipped.").add_subparsers(
        dest="roster_command", metavar="ACTION", required=True)
    p = command("import", cmd_roster_import,
                "import a Jamf, Intune or Kandji CSV export, or a plain CSV; rows are matched by serial number "
                "and updated, never deleted", roster_cmd,
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

    p = command("serve", cmd_serve, "serve agents over mutual TLS until SIGTERM",
                example="farmwatch-collector --home /srv/fw serve --listen 0.0.0.0:7443")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="address to listen on (default: listen in collector.toml, else 127.0.0.1:7443)")
    p = command("ingest", cmd_ingest, "store report or envelope files as if received over gRPC; exits 1 if "
                "any file was skipped", example="farmwatch-collector --home /srv/fw ingest backfill/*.json")
    p.add_argument("files", nargs="+", metavar="FILE", help="a report JSON (as `farmwatch-agent scan` prints it) "
                   "or an envelope; - reads standard input")
    p = command("classify", cmd_classify, "print a verdict (one JSON line) per report or envelope file, store "
                "nothing; exits 1 if any file was skipped",
                example="farmwatch-agent scan | farmwatch-collector classify -")
    p.add_argument("files", nargs="+", metavar="FILE", help="a report JSON or an envelope; - reads standard input")
    p.add_argument("--json", action="store_true", help="JSON lines, as always (accepted like on the other commands)")

    command("reclassify", cmd_reclassify,
            "re-run the rules over every stored report (after a catalogue or rule update)")

    p = command("devices", cmd_devices, "every known device with its current verdict",
                example="farmwatch-collector --home /srv/fw devices --verdict relay --csv > relays.csv")
    p.add_argument("--verdict", choices=("clean", "suspicious", "relay"), help="only devices with this verdict")
    p.add_argument("--user", help="only devices the roster assigns to this e-mail or name")
    p.add_argument("--cluster", metavar="CLUSTER_ID", help="only members of this cluster")
    output.add_format_flags(p)
    p = command("device", cmd_device, "one device: verdict with evidence, changes, recent reports",
                example="farmwatch-collector --home /srv/fw device C02ZK1ABMD6R --json")
    p.add_argument("device_id", help="the device id (hardware serial) as `devices` shows it")
    output.add_format_flags(p, "print one JSON object (for scripts)")
    p = command("correlate", cmd_correlate,
                "correlate the fleet now: clusters, fleet findings, combined verdicts (serve does it periodically)")
    output.add_format_flags(p, "print the run's summary as one JSON object (--csv: the clusters)")
    p = command("clusters", cmd_clusters, "location keys shared by laptops of different people (laptop farms)")
    p.add_argument("--all", action="store_true", help="include clusters that are no longer active")
    p.add_argument("--min-score", type=int, default=0, metavar="N", help="only clusters scoring at least N")
    output.add_format_flags(p)
    p = command("cluster", cmd_cluster, "one cluster: its key, members with their people, history",
                example="farmwatch-collector --home /srv/fw cluster ip-3b61f4f3c35b")
    p.add_argument("cluster_id", help="as `clusters` shows it")
    output.add_format_flags(p, "print one JSON object (for scripts)")
    p = command("flags", cmd_flags, "findings of every suspicious or relay device, worst first")
    output.add_format_flags(p)
    p = command("query", cmd_query, "run one read-only SQL statement over the database (audited)",
                example='farmwatch-collector --home /srv/fw query "SELECT device_id, name FROM current_processes '
                        'WHERE name LIKE \'%anydesk%\'" --csv\n'
                        '(tables and views: README.md "The database")')
    p.add_argument("sql", metavar="SQL", type=_statement,
                   help='e.g. "SELECT device_id, verdict FROM devices LIMIT 10"')
    p.add_argument("--max-rows", type=_positive_int, default=10_000, metavar="N",
                   help="rows to print at most (default 10000)")
    p.add_argument("--timeout", type=_positive_seconds, default=30.0, metavar="SECONDS",
                   help="seconds before the query is stopped (default 30)")
    output.add_format_flags(p)
    _add_export_commands(sub, command)
    return parser


def _add_common_options(parser, default=None) -> None:
    parser.add_argument("--home", type=Path, default=default, metavar="DIR",
                        help=f"collector folder (default: $FARMWATCH_HOME, else {default_home()})")
    parser.add_argument("--config", type=Path, default=default, metavar="FILE",
                        help="settings file (default: HOME/collector.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", default=default or False,
                        help="log debug detail to stderr")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


_ANALYST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def _analyst_name(text: str) -> str:
    if not _ANALYST_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a name of letters, digits and . _ @ - (at most 64, "
                                         "not starting with a dot), e.g. alice or alice@example.com")
    return text


def _duration(text: str) -> dt.timedelta:
    from farmwatch.collector import enrollment

    try:
        lifetime = enrollment.parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if lifetime <= dt.timedelta(0):
        raise argparse.ArgumentTypeError(f"{text!r} would expire at once; give a lifetime like 30m, 12h, 7d or 2w")
    return lifetime


def _statement(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the SQL statement is empty; e.g. \"SELECT device_id, verdict FROM devices\"")
    return text


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return seconds


def _add_export_commands(sub, command) -> None:
    export_cmd = sub.add_parser(
        "export", help="send new, changed and cleared flags to a file, syslog (CEF) or a webhook",
        description="Send each sink the flags it has not had yet, or whose severity or verdict changed, "
                    "or that cleared. Each sink's cursor is kept in the database; settings in the "
                    "[export] section of collector.toml, flags win.").add_subparsers(
        dest="export_command", metavar="SINK", required=True)

    def sink(name, help, example):
        p = command(name, cmd_export, help, export_cmd, example=example)
        p.set_defaults(kind=name)
        p.add_argument("--follow", action="store_true", help="keep polling until SIGINT or SIGTERM")
        p.add_argument("--interval", type=_positive_seconds, metavar="SECONDS",
                       help="seconds between polls with --follow (default 5)")
        p.add_argument("--sink", help="name of this sink's cursor (default: kind and destination)")
        p.add_argument("--reset", action="store_true", help="forget what this sink was sent; send every flag again")
        p.add_argument("--retries", type=_positive_int, metavar="N", help="delivery attempts per event (default 5)")
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
    p.add_argument("--timeout", type=_positive_seconds, metavar="SECONDS", help="seconds per request (default 10)")


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(fmt: str, level: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter() if fmt == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    home = args.home or default_home()
    try:
        config = CollectorConfig.load(home, args.config, listen=getattr(args, "listen", None))
        setup_logging(config.log_format, logging.DEBUG if args.verbose else logging.INFO)
        return args.func(args, config) or EXIT_OK
    except (CommandError, ConfigError, pki.PkiError, audit.AuditUnavailable) as exc:
        print(f"farmwatch-collector: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_FAIL
    except BrokenPipeError:  # e.g. `devices | head`: the reader has gone; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAIL
    except sqlite3.Error as exc:
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
