"""Turn what an MDM delivered into the agent's bootstrap.toml, with the collector's CA beside it.

The service polls its state dir for bootstrap.toml and enrolls once it appears (run/loop.py); this
module writes that file from whichever form the MDM can deliver:

* macOS: a configuration profile whose payload type is `com.farmwatch.agent` lands in
  /Library/Managed Preferences/com.farmwatch.agent.plist with the keys in PROFILE_KEYS. A launchd
  job that watches that path runs `--from-plist` whenever the profile is installed or changed.
* Windows (Intune script), Linux (apt + config management): the values on the command line.

Both files are written owner-only and atomically, and only when their content changes, so
running this on every profile refresh is harmless. An enrolled agent ignores bootstrap.toml.
"""
from __future__ import annotations

import argparse
import plistlib
import sys
from dataclasses import dataclass
from pathlib import Path

from farmwatch.agent.identity import IdentityError, parse_certificate
from farmwatch.agent.state import ConfigError, StateDir, dump_toml
from farmwatch.agent.transport import check_address
from farmwatch.common.device_id import valid_device_id
from farmwatch.common.files import write_private

PROFILE_DOMAIN = "com.farmwatch.agent"
MANAGED_PREFERENCES = Path("/Library/Managed Preferences") / f"{PROFILE_DOMAIN}.plist"
BOOTSTRAP_CA_NAME = "bootstrap-ca.crt"  # not ca.crt: that one is written by a completed enrollment

# profile key -> bootstrap.toml key
PROFILE_KEYS = {
    "Collector": "collector",
    "CACertificate": "ca_cert",
    "EnrollmentToken": "token",
    "ServerName": "server_name",
    "DeviceID": "device_id",
}
REQUIRED = ("collector", "ca_cert", "token")


class ProvisionError(ValueError):
    """Values an agent could not enroll with; the message names the value and the fix."""


@dataclass(frozen=True)
class EnrollmentSettings:
    collector: str
    ca_pem: bytes
    token: str
    server_name: str = ""
    device_id: str = ""

    def check(self) -> "EnrollmentSettings":
        try:
            check_address(self.collector)
            parse_certificate(self.ca_pem)
        except (ValueError, IdentityError) as exc:
            raise ProvisionError(f"{exc}") from None
        if self.device_id and not valid_device_id(self.device_id):
            raise ProvisionError(f"device id {self.device_id!r} is not usable: letters, digits and ._:@/+- only")
        if not self.token.strip():
            raise ProvisionError("the enrollment token is empty")
        return self

    def bootstrap_toml(self) -> str:
        values = {"collector": self.collector, "ca_cert": BOOTSTRAP_CA_NAME, "token": self.token.strip(),
                  "server_name": self.server_name, "device_id": self.device_id}
        return dump_toml({key: value for key, value in values.items() if value})


def settings_from_profile(path: Path) -> EnrollmentSettings:
    """The enrollment values in a managed-preferences plist (or the payload dict of a profile)."""
    with open(path, "rb") as handle:
        try:
            data = plistlib.load(handle)
        except plistlib.InvalidFileException as exc:
            raise ProvisionError(f"{path} is not a property list: {exc}") from None
    values = {ours: str(data[theirs]).strip() for theirs, ours in PROFILE_KEYS.items() if data.get(theirs)}
    missing = [theirs for theirs, ours in PROFILE_KEYS.items() if ours in REQUIRED and ours not in values]
    if missing:
        raise ProvisionError(f"{path} lacks {', '.join(missing)}")
    ca_pem = values.pop("ca_cert").encode() + b"\n"
    return EnrollmentSettings(ca_pem=ca_pem, **values).check()


def write_bootstrap(state: StateDir, settings: EnrollmentSettings) -> bool:
    """Write bootstrap.toml and its CA into `state`; False when both already say exactly this."""
    ca_file = state.root / BOOTSTRAP_CA_NAME
    text = settings.bootstrap_toml().encode()
    if _holds(ca_file, settings.ca_pem) and _holds(state.bootstrap_file, text):
        return False
    state.ensure()
    write_private(ca_file, settings.ca_pem, replace=True)
    write_private(state.bootstrap_file, text, replace=True)  # last: the agent acts on this one
    return True


def _holds(path: Path, content: bytes) -> bool:
    try:
        return path.read_bytes() == content
    except OSError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m farmwatch.agent.provision",
        description="Write <state-dir>/bootstrap.toml from MDM-delivered settings, so the agent "
                    "service enrolls by itself.",
    )
    parser.add_argument("--state-dir", type=Path, metavar="DIR",
                        help="default: state_dir of the service settings file, as the service uses")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-plist", type=Path, metavar="FILE",
                        help=f"managed preferences of the {PROFILE_DOMAIN} profile "
                             f"(on macOS: {MANAGED_PREFERENCES}); nothing happens while it is absent")
    source.add_argument("--collector", metavar="HOST:PORT")
    parser.add_argument("--ca-cert", type=Path, metavar="FILE", help="with --collector: the collector's CA")
    parser.add_argument("--token-file", type=Path, metavar="FILE", help="with --collector: the token")
    parser.add_argument("--server-name", default="", metavar="NAME")
    parser.add_argument("--device-id", default="", metavar="ID", help="default: the hardware serial")
    return parser


def service_state_dir() -> Path:
    """The folder the installed service reads, so the two can never disagree."""
    from farmwatch.agent.service import default_settings_path, load_settings

    return load_settings(default_settings_path()).state_dir


def settings_from_arguments(args) -> EnrollmentSettings:
    if args.ca_cert is None or args.token_file is None:
        raise ProvisionError("--collector needs --ca-cert and --token-file")
    try:
        ca_pem, token = args.ca_cert.read_bytes(), args.token_file.read_text()
    except OSError as exc:
        raise ProvisionError(f"{exc.filename}: {exc.strerror}") from None
    return EnrollmentSettings(collector=args.collector, ca_pem=ca_pem, token=token,
                              server_name=args.server_name, device_id=args.device_id).check()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        state = StateDir(args.state_dir or service_state_dir())
    except ConfigError as exc:
        print(f"farmwatch provision: error: {exc}", file=sys.stderr)
        return 1
    if args.from_plist is not None and not args.from_plist.exists():
        print(f"nothing to do: {args.from_plist} does not exist (the profile is not installed yet)")
        return 0
    try:
        settings = (settings_from_profile(args.from_plist) if args.from_plist is not None
                    else settings_from_arguments(args))
        changed = write_bootstrap(state, settings)
    except ProvisionError as exc:
        print(f"farmwatch provision: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {state.bootstrap_file}" if changed else f"{state.bootstrap_file} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
