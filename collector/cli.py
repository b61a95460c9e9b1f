"""`farmwatch-collector`: set up the PKI, hand out tokens, serve agents, and ask what they said."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path

from farmwatch.collector import output, pki, queries, roster
from farmwatch.collector.config import CollectorConfig, ConfigError, default_home

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

EPILOG = """\
first steps:
  farmwatch-collector --home /srv/fw pki init --san collector.example.com
  farmwatch-collector --home /srv/fw token create --uses 50 --expires 7d
  farmwatch-collector --home /srv/fw serve --listen 0.0.0.0:7443
  farmwatch-collector --home /srv/fw devices --verdict relay

exit codes: 0 success; 1 the command failed (the message says why); 2 bad usage.
--home defaults to $FARMWATCH_HOME, else ~/.local/share/farmwatch; it holds pki/, the database
and collector.toml (settings; see collector.example.toml in the source).
"""


class CommandError(Exception):
    """A failure to report in one line, with what to do next."""


def _store(config: CollectorConfig):
    from farmwatch.collector.store import Store

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
    print(f"next: farmwatch-collector --home {config.home} token create")


def cmd_pki_revoke(args, config):
    from farmwatch.collector import enrollment

    count = enrollment.revoke_subject(_store(config), args.device_id, args.reason or "")
    if not count:
        raise CommandError(f"no live certificate for {args.device_id!r}; see `devices` for known ids")
    print(f"revoked {count} certificate(s) of {args.device_id}; its calls are refused from now on")


def cmd_pki_issue_analyst(args, config):
    from farmwatch.agent.files import write_private
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

    try:
        expires = enrollment.parse_duration(args.expires)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    token = enrollment.create_token(_store(config), uses=args.uses, expires=expires,
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

    store = _store(config)
    classify = _classifier(config)
    stored = duplicates = failed = 0
    for path in args.files:
        try:
            loaded = ingest.load_report_file(path)
            item = ingest.prepare(loaded.report, peer_ip=loaded.peer_ip, received_at=loaded.received_at,
                                  classify=classify)
        except (ingest.InvalidReport, OSError) as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        new = store.ingest([item])[0]
        stored += new
        duplicates += not new
    print(f"stored {stored}, duplicates {duplicates}, failed {failed}")
    return EXIT_FAIL if failed else EXIT_OK


def _classifier(config):
    from farmwatch.collector import ingest
    from farmwatch.collector.detect import Policy

    return ingest.classifier(Policy.from_config({"allow": config.allow}))


def cmd_classify(args, config):
    from farmwatch.collector import ingest

    classify = _classifier(config)
    failed = 0
    for path in args.files:
        try:
            loaded = ingest.load_report_file(path)
        except (ingest.InvalidReport, OSError) as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(json.dumps(classify(loaded.report), ensure_ascii=False))
    return EXIT_FAIL if failed else EXIT_OK


def cmd_reclassify(args, config):
    from farmwatch.collector.progress import Progress

    store = _store(config)
    classify = _classifier(config)
    progress = Progress(store.count("reports"), "reclassified")
    changed = 0
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
    output.emit(queries.devices(_store(config), args.verdict), queries.DEVICE_COLUMNS, args.format)


def cmd_device(args, config):
    info = queries.device(_store(config), args.device_id)
    if info is None:
        raise CommandError(f"no device {args.device_id!r}; `devices` lists the known ones")
    if args.format == "json":
        output.emit(info, (), "json")
        return
    for key in ("device_id", "hostname", "os", "os_version", "hardware_model", "verdict", "score",
                "first_seen", "last_seen", "last_peer_ip", "reports"):
        print(f"{key:>15}: {info.get(key) if info.get(key) is not None else ''}")
    print("\nfindings (latest report):")
    output.emit(info["findings"], ("severity", "rule", "summary", "allowed"), "table")
    print("\nverdict changes:")
    output.emit(info["verdict_changes"], ("changed_at", "old_verdict", "new_verdict", "score"), "table")
    print("\nrecent reports:")
    output.emit(info["reports"], ("received_at", "sequence", "peer_ip", "verdict", "score", "replay"), "table")


def cmd_flags(args, config):
    output.emit(queries.flags(_store(config)), queries.FLAG_COLUMNS, args.format)


# -- parser -------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="farmwatch-collector", description="Enroll farmwatch agents, store their reports, flag relays.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help=f"collector folder (default: $FARMWATCH_HOME, else {default_home()})")
    parser.add_argument("--config", type=Path, help="settings file (default: HOME/collector.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, func, help, parent=sub, **kw):
        p = parent.add_parser(name, help=help, description=help, **kw)
        p.set_defaults(func=func)
        return p

    pki_cmd = sub.add_parser("pki", help="the collector's certificate authority").add_subparsers(
        dest="pki_command", metavar="ACTION", required=True)
    p = command("init", cmd_pki_init, "make the CA and the server certificate", pki_cmd)
    p.add_argument("--san", action="append", metavar="NAME",
                   help="host name or IP agents use to reach the collector (repeat; default localhost, 127.0.0.1)")
    p.add_argument("--force", action="store_true", help="replace an existing CA (every agent must re-enroll)")
    p = command("revoke", cmd_pki_revoke, "refuse every call from a device's certificates from now on", pki_cmd)
    p.add_argument("device_id")
    p.add_argument("--reason")
    p = command("issue-analyst", cmd_pki_issue_analyst, "make a certificate for a security analyst", pki_cmd)
    p.add_argument("name")
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--out", help="folder for NAME.crt and NAME.key (default HOME/pki/analysts)")

    token_cmd = sub.add_parser("token", help="enrollment tokens for agents").add_subparsers(
        dest="token_command", metavar="ACTION", required=True)
    p = command("create", cmd_token_create, "make a token; printed on the last line", token_cmd)
    p.add_argument("--uses", type=int, default=1, help="how many agents may enroll with it (default 1)")
    p.add_argument("--expires", default="7d", help="lifetime like 30m, 12h, 7d, 2w (default 7d)")
    p.add_argument("--allow-reenroll", action="store_true",
                   help="may replace the certificate of an already enrolled device id")
    p.add_argument("--note", help="what the token is for (shown in `token list`)")
    p = command("list", cmd_token_list, "list tokens (secrets are never shown again)", token_cmd)
    output.add_format_flags(p)
    p = command("revoke", cmd_token_revoke, "make a token unusable", token_cmd)
    p.add_argument("token_id")

    roster_cmd = sub.add_parser("roster", help="the MDM roster: who got which laptop").add_subparsers(
        dest="roster_command", metavar="ACTION", required=True)
    p = command("import", cmd_roster_import,
                "import a Jamf, Intune or Kandji export, or a plain CSV (see the roster module's docs)", roster_cmd)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", dest="roster_format", required=True, choices=roster.FORMATS)

    p = command("serve", cmd_serve, "serve agents over mutual TLS until SIGTERM")
    p.add_argument("--listen", help="address:port (default from collector.toml, else 127.0.0.1:7443)")
    p = command("ingest", cmd_ingest, "store report or envelope files as if received over gRPC")
    p.add_argument("files", nargs="+", metavar="FILE")
    p = command("classify", cmd_classify, "print a verdict (one JSON line) per report or envelope file")
    p.add_argument("files", nargs="+", metavar="FILE")

    command("reclassify", cmd_reclassify,
            "re-run the rules over every stored report (after a catalogue or rule update)")

    p = command("devices", cmd_devices, "every known device with its current verdict")
    p.add_argument("--verdict", choices=("clean", "suspicious", "relay"))
    output.add_format_flags(p)
    p = command("device", cmd_device, "one device: verdict with evidence, changes, recent reports")
    p.add_argument("device_id")
    output.add_format_flags(p)
    p = command("flags", cmd_flags, "findings of every suspicious or relay device, worst first")
    output.add_format_flags(p)
    return parser


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
    try:
        config = CollectorConfig.load(args.home or default_home(), args.config,
                                      listen=getattr(args, "listen", None))
        setup_logging(config.log_format, logging.DEBUG if args.verbose else logging.INFO)
        return args.func(args, config) or EXIT_OK
    except (CommandError, ConfigError, pki.PkiError) as exc:
        print(f"farmwatch-collector: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
