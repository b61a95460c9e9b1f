"""`farmwatch-agent`: scan this laptop, enroll with a collector, report to it, show the state."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
from pathlib import Path

# gRPC's own INFO lines (a refused handshake, say) would break our one-line-per-event logs on
# stderr; our error messages say what happened. GRPC_VERBOSITY=INFO brings them back.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

import farmwatch.agent.lean  # noqa: E402,F401  (first: keeps OpenSSL and spare malloc heaps out, see there)
import grpc  # noqa: E402  (after the setting above, which gRPC reads when it loads)

from farmwatch.agent import __version__
from farmwatch.agent.identity import IdentityError, read_certificate_info
from farmwatch.agent.spool import Spool
from farmwatch.agent.state import (SYSTEM_STATE_DIR, AlreadyRunning, ConfigError, StateDir, default_state_dir,
                                   windows_data_dir)
from farmwatch.agent.transport import CollectorError, check_address
from farmwatch.common.clock import utcnow
from farmwatch.common.names import COLLECTOR_PROGRAM

log = logging.getLogger("farmwatch.agent")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_ENROLLED = 3
EXIT_IDENTITY_REFUSED = 4
EXIT_UNREACHABLE = 5

DESCRIPTION = """\
Reports what this laptop sees (remote-control software, USB devices, displays, network,
sessions) to the company's collector over mutual TLS. Logs go to stderr, data to stdout.
"""

EPILOG = f"""\
examples:
  farmwatch-agent scan --compact > report.json       look, send nothing
  farmwatch-agent --state-dir /tmp/fw enroll --collector collector.example.com:7443 \\
      --token-file token.txt --ca-cert ca.crt         enroll this laptop (device id = its serial)
  farmwatch-agent --state-dir /tmp/fw run --once      one report, delivered or spooled
  farmwatch-agent run                                 report every interval until SIGTERM
  farmwatch-agent status --json                       enrollment, certificate, outbox

state dir (--state-dir, else $FARMWATCH_STATE_DIR, else /var/lib/farmwatch for root, else
~/.local/state/farmwatch): agent.key (0600, never leaves the laptop), agent.crt, ca.crt,
agent.toml (collector, device id, interval, [spool] bounds), spool.sqlite (the outbox).

unattended enrollment (MDM): put <state-dir>/bootstrap.toml with
  collector = "collector.example.com:7443"
  ca_cert = "ca.crt"          # relative to the bootstrap file
  token = "..."
  device_id = "..."           # optional; default: the hardware serial
and `run` enrolls by itself once the file appears.

exit codes:
  {EXIT_OK}  success (run --once: the report was delivered or is safely spooled)
  {EXIT_FAILURE}  failure: nothing delivered or spooled, enrollment refused, bad files
  {EXIT_USAGE}  usage error
  {EXIT_NOT_ENROLLED}  not enrolled (run `enroll`, or provide bootstrap.toml)
  {EXIT_IDENTITY_REFUSED}  the collector refuses this agent's certificate (revoked/expired), or the key,
     certificate or CA in the state dir is damaged: enroll again (run --once, status)
  {EXIT_UNREACHABLE}  enroll: the collector could not be reached
"""


class CliError(Exception):
    def __init__(self, exit_code: int, message: str):
        super().__init__(message)
        self.exit_code = exit_code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose - args.quiet)
    try:
        return args.handler(args)
    except BrokenPipeError:  # e.g. `scan | head`: the reader has gone; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except (CliError, ConfigError, IdentityError, sqlite3.Error, PermissionError, AlreadyRunning) as exc:
        failure = _as_cli_error(exc, args)
        print(f"farmwatch-agent: error: {failure}", file=sys.stderr)
        return failure.exit_code


def _as_cli_error(exc: Exception, args) -> CliError:
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return CliError(EXIT_FAILURE, f"the outbox in {_state(args).spool_file} cannot be used ({exc}); "
                                      "check free disk space and the file's owner")
    if isinstance(exc, PermissionError):
        return CliError(EXIT_FAILURE, f"{exc.filename}: permission denied; run as the agent's user (the "
                                      f"packages' `farmwatch` on Linux: sudo -u farmwatch farmwatch-agent …; "
                                      f"root on macOS) or pass --state-dir")
    return CliError(EXIT_FAILURE, str(exc))


def _folder(text: str) -> str:
    if not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder (a tree laid out like /, with proc, sys and etc)")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="farmwatch-agent", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"farmwatch-agent {__version__}")
    _add_common_options(parser)
    common = argparse.ArgumentParser(add_help=False)  # the same options after the command name too
    _add_common_options(common, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, example: str):
        return commands.add_parser(name, help=help, description=help, parents=[common],
                                   epilog="example:\n  " + example,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    scan = command("scan", "print one report as JSON, send nothing",
                   "farmwatch-agent scan --compact > report.json")
    scan.add_argument("--sysroot", metavar="DIR", type=_folder, help="read /sys, /proc, /etc under DIR (fixture trees)")
    scan.add_argument("--compact", action="store_true", help="one line of JSON instead of indented")
    scan.set_defaults(handler=cmd_scan)

    enroll = command("enroll", "get a client certificate from the collector (once per laptop)",
                     "farmwatch-agent --state-dir /var/lib/farmwatch enroll --collector collector.example.com:7443 \\\n"
                     "      --token-file token.txt --ca-cert ca.crt")
    enroll.add_argument("--collector", required=True, type=_address, metavar="HOST:PORT",
                        help="where the collector's `serve` listens")
    token = enroll.add_mutually_exclusive_group(required=True)
    token.add_argument("--token", metavar="TOKEN", help="enrollment token (visible in ps; prefer --token-file)")
    token.add_argument("--token-file", type=Path, metavar="FILE", help="file holding the enrollment token")
    enroll.add_argument("--ca-cert", required=True, type=Path, metavar="FILE",
                        help="the collector's CA certificate (its HOME/pki/ca.crt); the only root trusted")
    enroll.add_argument("--device-id", metavar="ID", help="default: this machine's hardware serial")
    enroll.add_argument("--server-name", default="", metavar="NAME",
                        help="TLS name on the collector's certificate, when it differs from HOST")
    enroll.add_argument("--force", action="store_true", help="enroll again although already enrolled")
    enroll.set_defaults(handler=cmd_enroll)

    run = command("run", "report every interval (or once) to the collector; an unsent report waits in the outbox",
                  "farmwatch-agent --state-dir /var/lib/farmwatch run --once")
    run.add_argument("--once", action="store_true", help="one report, then exit")
    run.add_argument("--interval", type=_seconds, metavar="SECONDS",
                     help="between reports, ±10%% jitter (default: the collector's, else agent.toml's)")
    run.add_argument("--sysroot", metavar="DIR", type=_folder, help="read /sys, /proc, /etc under DIR (fixture trees)")
    run.set_defaults(handler=cmd_run)

    status = command("status", "enrollment, certificate expiry, last delivery, outbox, and `problem`: what to fix; "
                               "exits 3 if not enrolled, 4 if it must enroll again, 1 if a state file is unusable",
                     "farmwatch-agent status --json")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(handler=cmd_status)
    return parser


def _add_common_options(parser, default=None) -> None:
    parser.add_argument("--state-dir", type=Path, default=default, metavar="DIR",
                        help=f"key, certificate, config and outbox (default here: {default_state_dir()})")
    parser.add_argument("-v", "--verbose", action="count", default=default or 0, help="more log output")
    parser.add_argument("-q", "--quiet", action="count", default=default or 0, help="less log output")


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (callers may swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging(verbosity: int) -> None:
    levels = [logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG]
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("ts=%(asctime)s level=%(levelname)s %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(levels[max(0, min(len(levels) - 1, 2 + verbosity))])


def _address(value: str) -> str:
    try:
        return check_address(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds >= 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds >= 1")
    return seconds


def _state(args) -> StateDir:
    return StateDir((args.state_dir or default_state_dir()).absolute())


# -- scan ---------------------------------------------------------------------------------------

def cmd_scan(args) -> int:
    from farmwatch.agent.scan import build_report, report_to_json

    print(report_to_json(build_report(sysroot=args.sysroot), indent=None if args.compact else 2))
    return EXIT_OK


# -- enroll -------------------------------------------------------------------------------------

def cmd_enroll(args) -> int:
    from farmwatch.agent.run import enrollment

    state = _state(args)
    if state.is_enrolled() and not args.force:
        config = state.load_config()
        raise CliError(EXIT_FAILURE, f"already enrolled as {config.device_id} with {config.collector}; "
                                     "pass --force to enroll again")
    ca_pem = _read_file(args.ca_cert, "--ca-cert")
    if b"-----BEGIN CERTIFICATE-----" not in ca_pem:
        raise CliError(EXIT_FAILURE, f"--ca-cert {args.ca_cert} is not a PEM certificate; pass the collector's CA "
                                     "certificate, HOME/pki/ca.crt on the collector (`pki init` prints its path)")
    params = enrollment.EnrollParams(
        collector=args.collector, token=_read_token(args), ca_pem=ca_pem,
        device_id=args.device_id or _hardware_serial(), server_name=args.server_name,
    )
    config = _enroll_or_explain(lambda: enrollment.enroll(state, params), args.collector)
    info = read_certificate_info(state.certificate)
    print(f"enrolled {config.device_id} with {config.collector}; certificate valid until "
          f"{info.not_after.isoformat(timespec='seconds')}; state in {state.root}")
    return EXIT_OK


def _read_token(args) -> str:
    token = args.token if args.token is not None else _read_file(args.token_file, "--token-file").decode()
    token = token.strip()
    if not token:
        raise CliError(EXIT_USAGE, "the enrollment token is empty")
    return token


def _read_file(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(EXIT_FAILURE, f"{option} {path}: {exc.strerror or exc}") from None


def _hardware_serial() -> str:
    from farmwatch.agent.run.enrollment import hardware_serial

    serial = hardware_serial()
    if not serial:
        raise CliError(EXIT_USAGE, "this machine reports no hardware serial number; pass --device-id "
                                   "with the id your MDM knows this laptop by")
    return serial


def _enroll_or_explain(enroll, address: str):
    """Run an enrollment; turn what can go wrong into one line that says what to do next."""
    try:
        return enroll()
    except CollectorError as exc:
        raise CliError(*_enrollment_advice(exc, address)) from None
    except ConfigError as exc:
        raise CliError(EXIT_FAILURE, str(exc)) from None
    except ValueError as exc:
        raise CliError(EXIT_USAGE, str(exc)) from None
    except IdentityError as exc:
        raise CliError(EXIT_FAILURE, f"enrollment failed: {exc}") from None


def _enrollment_advice(exc: CollectorError, address: str) -> tuple[int, str]:
    code, details = exc.code, exc.details

    def refused(what: str, advice: str) -> tuple[int, str]:  # the collector's words say what to do; ours if none
        return EXIT_FAILURE, (f"{what}: {details}" if details else f"{what}; {advice}")

    if code == grpc.StatusCode.PERMISSION_DENIED and "allow-reenroll" in details:
        return refused("the collector will not enroll this device", "ask the collector's admin for a "
                                                                    "re-enrollment token")
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
        return refused("the collector refused the enrollment token", "ask for a new token (tokens expire and "
                                                                     "can be used a limited number of times)")
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return refused("the collector rejected the enrollment request", "check --device-id")
    if code in (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION):
        return refused("the collector will not enroll this device", "a device that is already enrolled needs "
                                                                    "a token made for re-enrollment")
    said = f"({details})" if details else ""
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return EXIT_UNREACHABLE, (f"cannot reach the collector at {address} {said}; check the address and "
                                  "port, and that --ca-cert is the collector's CA")
    return EXIT_FAILURE, f"enrollment failed: {code.name} {said}"


# -- run ----------------------------------------------------------------------------------------

def cmd_run(args) -> int:
    from farmwatch.agent.run import run_forever

    state = _state(args)
    if not args.once:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        run_forever(state, stop, interval=args.interval, sysroot=args.sysroot)
        log.info("stopped")
        return EXIT_OK
    if not state.is_enrolled() and not state.bootstrap_file.exists():
        raise CliError(EXIT_NOT_ENROLLED, f"not enrolled in {state.root}: run `farmwatch-agent enroll` "
                                          f"first, or provide {state.bootstrap_file}")
    lock = state.lock_for_run()  # AlreadyRunning beside a running `run`, as for a second `run`
    try:
        result = _run_once_enrolling(state, args.sysroot)
    finally:
        if lock is not None:
            lock.close()
    print(json.dumps({
        "report_id": result.report_id, "sequence": result.sequence, "delivered": result.delivered,
        "spooled": result.spooled, "sent": result.sent, "pending": result.pending, "error": result.error,
    }))
    if result.identity_refused:
        return EXIT_IDENTITY_REFUSED
    return EXIT_OK if result.ok else EXIT_FAILURE


def _run_once_enrolling(state: StateDir, sysroot: str | None):
    from farmwatch.agent.run import Agent, enroll_from_bootstrap, run_once

    if not state.is_enrolled():
        bootstrap = state.load_bootstrap()
        _enroll_or_explain(lambda: enroll_from_bootstrap(state, sysroot=sysroot), bootstrap.collector)
    agent = Agent(state)
    try:
        return run_once(agent, sysroot=sysroot)
    finally:
        agent.close()


# -- status -------------------------------------------------------------------------------------

def cmd_status(args) -> int:
    state = _state(args)
    status = collect_status(state)
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print("\n".join(f"{key}: {_plain(value)}" for key, value in status.items()))
    if not status["enrolled"]:
        return EXIT_NOT_ENROLLED
    return {None: EXIT_OK, "identity": EXIT_IDENTITY_REFUSED}.get(status["problem_kind"], EXIT_FAILURE)


# What the collector says when it refuses our certificate (transport.py: Disposition.IDENTITY).
_REFUSALS = ("UNAUTHENTICATED:", "PERMISSION_DENIED:")


def collect_status(state: StateDir) -> dict:
    """Everything that can be read, never failing and never changing the state dir; `problem`
    says what is wrong and what to do (kind: identity → exit 4, state → exit 1)."""
    status: dict = {"state_dir": str(state.root), "enrolled": state.is_enrolled()}
    problems: list[tuple[str, str]] = []
    collector = "HOST:PORT"
    if not status["enrolled"]:
        problems.append(("enrollment", _not_enrolled_problem(state)))
    else:
        try:
            config = state.load_config()
            status.update(device_id=config.device_id, collector=config.collector)
            collector = config.collector
        except ConfigError as exc:
            problems.append(("state", f"{exc}; fix it, or enroll again with --force"))
        try:
            info = read_certificate_info(state.certificate)
        except (IdentityError, OSError) as exc:
            problems.append(("identity", str(exc)))
        else:
            now = utcnow()
            status.update(
                certificate_not_after=info.not_after.isoformat(timespec="seconds"),
                certificate_days_left=round(info.days_left(now), 1),
                certificate_renew_due=info.renew_due(now),
            )
            if info.expired(now):
                problems.append(("identity", f"the certificate expired at {status['certificate_not_after']}; "
                                             + _reenroll_advice(state, collector, "")))
    try:
        spool = _spool_status(state)
    except sqlite3.Error as exc:
        spool = {"last_error": None}
        problems.append(("state", f"the outbox {state.spool_file} cannot be read ({exc}); check free disk space "
                                  "and the file's owner"))
    status.update(spool)
    refused = spool.get("last_error") or ""
    if status["enrolled"] and refused.startswith(_REFUSALS) and not problems:
        problems.append(("identity", f"the collector refused this agent's certificate ({refused}); "
                                     + _reenroll_advice(state, collector, refused)))
    status["problem"] = "; ".join(text for _, text in problems) or None
    status["problem_kind"] = problems[0][0] if problems else None
    return status


def _not_enrolled_problem(state: StateDir) -> str:
    enroll = f"`farmwatch-agent --state-dir {state.root} enroll --collector HOST:PORT --token-file FILE --ca-cert FILE`"
    if not state.root.exists():
        return (f"{state.root} does not exist: nothing was enrolled here; enroll with {enroll}, or pass the "
                f"agent's --state-dir (the service's is {_service_state_dir()})")
    if state.bootstrap_file.exists():
        return f"not enrolled yet; `farmwatch-agent run` enrolls from {state.bootstrap_file} when it starts"
    return f"not enrolled: enroll with {enroll}, or provide {state.bootstrap_file}"


def _service_state_dir() -> Path:
    return windows_data_dir() / "state" if sys.platform == "win32" else SYSTEM_STATE_DIR


def _reenroll_advice(state: StateDir, collector: str, refusal: str) -> str:
    """What to run when the collector no longer takes this laptop's certificate. Revoked or expired,
    the device id holds no live certificate, so an ordinary token enrolls it again; superseded, another
    enrollment of the id holds one, and only a re-enrollment token replaces it."""
    enroll = f"`farmwatch-agent --state-dir {state.root} enroll --force --collector {collector} --token-file FILE " \
             f"--ca-cert FILE`"
    if "superseded" in refusal:
        return (f"another enrollment of this device id replaced it; if this laptop is the one that should report, "
                f"run {enroll} with a token made with `{COLLECTOR_PROGRAM} token create --allow-reenroll`")
    return f"enroll again: {enroll} with a new token (`{COLLECTOR_PROGRAM} token create`)"


def _spool_status(state: StateDir) -> dict:
    if not state.spool_file.exists():
        return {"last_delivery_at": None, "spool_depth": 0, "spool_dropped": 0, "last_error": None}
    with Spool(state.spool_file, read_only=True) as spool:
        stats = spool.stats()
    return {
        "last_delivery_at": _iso(stats.last_delivery_at),
        "spool_depth": stats.depth,
        "spool_bytes": stats.bytes,
        "spool_oldest_at": _iso(stats.oldest_created_at),
        "spool_dropped": stats.dropped_since_last_delivery,
        "spool_dropped_total": stats.dropped_total,
        "next_sequence": stats.next_sequence,
        "last_error": stats.last_error,
        "last_error_at": _iso(stats.last_error_at),
    }


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


def _plain(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
