"""`pki init | issue-server | revoke | issue-analyst`: the collector's certificate authority."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path

from farmwatch.collector import pki
from farmwatch.collector.cli.shared import CommandError, Commands, open_store, positive_int
from farmwatch.common.files import write_private


def cmd_pki_init(args, config):
    ca = pki.CertificateAuthority.create(config.pki_dir, force=args.force)
    names = args.san or config.server_names
    server = ca.issue_server(names)
    open_store(config).close()
    print(f"CA certificate:     {config.pki_dir / ca.CA_CERT}  (give this to agents: --ca-cert)")
    _print_server_certificate(config, ca, server)
    if not config.config_file.exists():
        _write_settings(config.config_file, names)
        print(f"settings:           {config.config_file}  (every setting, documented, at its default)")
    print(f"next: farmwatch-collector --home {config.home} token create")


def cmd_pki_issue_server(args, config):
    ca = pki.CertificateAuthority.load(config.pki_dir)
    current = ca.server_certificate()
    names = args.san or (current and pki.names_of(current)) or config.server_names
    server = ca.issue_server(names)
    _print_server_certificate(config, ca, server)
    print("same CA: enrolled agents keep working. A running `serve` uses it from the next connection; "
          "agents make theirs again within the hour")


def _print_server_certificate(config, ca, server) -> None:
    print(f"server certificate: {config.pki_dir / ca.SERVER_CERT}  names: {', '.join(pki.names_of(server))}"
          f"  expires {server.not_valid_after_utc:%Y-%m-%d}")


def _write_settings(path, server_names: list[str]) -> None:
    """The documented example as the home's collector.toml, with the names just certified."""
    from importlib.resources import files

    text = files("farmwatch.collector").joinpath("collector.example.toml").read_text(encoding="utf-8")
    lines = [f"server_names = {json.dumps(server_names)}" if line.startswith("server_names = ") else line
             for line in text.splitlines()]
    write_private(path, ("\n".join(lines) + "\n").encode("utf-8"))  # webhook secrets may go in it: 0600


def cmd_pki_revoke(args, config):
    from farmwatch.collector import enrollment

    count = enrollment.revoke_subject(open_store(config), args.device_id, args.reason or "")
    if not count:
        raise CommandError(f"no live certificate for {args.device_id!r}; see `devices` for known ids")
    print(f"revoked {count} certificate(s) of {args.device_id}; its calls are refused from now on")


def cmd_pki_issue_analyst(args, config):
    from farmwatch.collector import enrollment

    store = open_store(config)
    ca = pki.CertificateAuthority.load(config.pki_dir)
    key, cert = enrollment.Enrollment(store, ca, cert_lifetime=pki.DEFAULT_CLIENT_LIFETIME).issue_analyst(
        args.name, dt.timedelta(days=args.days))
    out = Path(args.out or config.pki_dir / "analysts")
    pki.private_folders(out)
    write_private(out / f"{args.name}.key", key, replace=True)
    write_private(out / f"{args.name}.crt", cert, replace=True)
    bundle = out / f"{args.name}.pem"  # all an analyst needs: `farmwatch-analyst --identity NAME.pem`
    write_private(bundle, key + cert + (config.pki_dir / ca.CA_CERT).read_bytes(), replace=True)
    print(f"analyst certificate: {out / (args.name + '.crt')}\nkey (mode 0600):     {out / (args.name + '.key')}")
    print(f"bundle (mode 0600):  {bundle}  (key, certificate and CA certificate: give this one file to "
          f"{args.name}, for farmwatch-analyst --identity)")
    if args.p12:
        _write_p12(out / f"{args.name}.p12", key, cert, (config.pki_dir / ca.CA_CERT).read_bytes(), args.name)


def _write_p12(path: Path, key: bytes, cert: bytes, ca_pem: bytes, name: str) -> None:
    """The browser's copy (the web console): PKCS#12 under a passphrase made here and shown once."""
    import secrets

    passphrase = secrets.token_urlsafe(15)  # 120 bits, no characters a browser dialog might mangle
    write_private(path, pki.pkcs12(key, cert, ca_pem, name, passphrase.encode("ascii")), replace=True)
    print(f"browser (mode 0600): {path}  passphrase: {passphrase}\n"
          f"                     (import it in the browser's certificate settings for the web console; hand the "
          "passphrase over apart from the file, e.g. by phone: it is shown only now)")


_ANALYST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def _analyst_name(text: str) -> str:
    if not _ANALYST_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a name of letters, digits and . _ @ - (at most 64, "
                                         "not starting with a dot), e.g. alice or alice@example.com")
    return text


def register(commands: Commands) -> None:
    pki_cmd = commands.group("pki", "the collector's certificate authority",
                             "The collector's certificate authority: make it, reissue the server certificate, "
                             "revoke a device, issue analysts' certificates.", dest="pki_command")
    p = pki_cmd.command("init", cmd_pki_init, "make the CA and the server certificate",
                        example="farmwatch-collector --home /srv/fw pki init --san collector.example.com "
                                "--san 10.0.0.5")
    p.add_argument("--san", action="append", metavar="NAME",
                   help="host name or IP agents use to reach the collector (repeat; default localhost, 127.0.0.1)")
    p.add_argument("--force", action="store_true", help="replace an existing CA (every agent must re-enroll)")
    p = pki_cmd.command("issue-server", cmd_pki_issue_server,
                        "reissue the server certificate under the same CA (new names, or renewal before it expires)",
                        example="farmwatch-collector --home /srv/fw pki issue-server --san collector.example.com "
                                "--san 10.0.0.5")
    p.add_argument("--san", action="append", metavar="NAME",
                   help="host name or IP agents use to reach the collector (repeat; every name, not only new "
                        "ones; default: the names of the current server certificate)")
    p = pki_cmd.command("revoke", cmd_pki_revoke, "refuse every call from a device's certificates from now on",
                        example="farmwatch-collector --home /srv/fw pki revoke C02ZK1ABMD6R --reason "
                                "'reported stolen'")
    p.add_argument("device_id", help="the device id (hardware serial) as `devices` shows it")
    p.add_argument("--reason", help="kept with the revocation, e.g. 'laptop reported stolen'")
    p = pki_cmd.command("issue-analyst", cmd_pki_issue_analyst,
                        "make a certificate for a security analyst and the bundle farmwatch-analyst reads",
                        example="farmwatch-collector --home /srv/fw pki issue-analyst alice@example.com --days 30")
    p.add_argument("name", type=_analyst_name,
                   help="who it is for (letters, digits, . _ @ -); names the files and the audit trail")
    p.add_argument("--days", type=positive_int, default=90, help="how long it is valid (default 90)")
    p.add_argument("--out", metavar="DIR",
                   help="folder for NAME.crt, NAME.key and the bundle NAME.pem (default HOME/pki/analysts)")
    p.add_argument("--p12", action="store_true",
                   help="also write NAME.p12 for a browser (the web console), under a passphrase shown once")
