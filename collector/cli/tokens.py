"""`token create | list | revoke`: the enrollment tokens IT gives agents."""
from __future__ import annotations

import argparse
import datetime as dt

from farmwatch.common import output
from farmwatch.collector.cli.shared import CommandError, Commands, open_store, positive_int


def cmd_token_create(args, config):
    from farmwatch.collector import enrollment

    token = enrollment.create_token(open_store(config), uses=args.uses, expires=args.expires,
                                    allow_reenroll=args.allow_reenroll, note=args.note or "")
    print(f"# token {token.token_id}: {token.uses_allowed} use(s), expires {token.expires_at}"
          f"{', may re-enroll known devices' if token.allow_reenroll else ''}")
    print(token.secret)


def cmd_token_list(args, config):
    rows = open_store(config).tokens()
    output.emit(rows, ("token_id", "created_at", "expires_at", "uses", "uses_allowed", "allow_reenroll",
                       "revoked_at", "note"), args.format)


def cmd_token_revoke(args, config):
    from farmwatch.collector import enrollment

    if not enrollment.revoke_token(open_store(config), args.token_id):
        raise CommandError(f"no active token {args.token_id!r}; see `token list`")
    print(f"token {args.token_id} revoked")


def _duration(text: str) -> dt.timedelta:
    from farmwatch.collector import enrollment

    try:
        lifetime = enrollment.parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if lifetime <= dt.timedelta(0):
        raise argparse.ArgumentTypeError(f"{text!r} would expire at once; give a lifetime like 30m, 12h, 7d or 2w")
    return lifetime


def register(commands: Commands) -> None:
    token_cmd = commands.group("token", "enrollment tokens for agents",
                               "Enrollment tokens: what IT gives the agent (with ca.crt) so it "
                               "can enroll once; they expire and count their uses.", dest="token_command")
    p = token_cmd.command("create", cmd_token_create, "make a token; printed on the last line",
                          example="TOKEN=$(farmwatch-collector --home /srv/fw token create --uses 50 --expires 7d "
                                  "--note 'batch 7' | tail -1)")
    p.add_argument("--uses", type=positive_int, default=1, help="how many agents may enroll with it (default 1)")
    p.add_argument("--expires", type=_duration, default="7d", metavar="DURATION",
                   help="lifetime like 30m, 12h, 7d, 2w (default 7d)")
    p.add_argument("--allow-reenroll", action="store_true",
                   help="may replace the certificate of an already enrolled device id")
    p.add_argument("--note", help="what the token is for (shown in `token list`)")
    p = token_cmd.command("list", cmd_token_list, "list tokens (secrets are never shown again)")
    output.add_format_flags(p)
    p = token_cmd.command("revoke", cmd_token_revoke, "make a token unusable")
    p.add_argument("token_id", help="the id `token list` shows (the part after fwt_, before the next _)")
