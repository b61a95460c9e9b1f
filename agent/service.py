"""The agent as an operating-system service: read the package's settings file, then report forever.

Every package starts the agent through this module (systemd unit, launchd daemon, Windows
service), so a site tunes the service by editing one file instead of the unit, plist or
service definition:

    /etc/farmwatch/agent.toml                 Linux and macOS
    %ProgramData%\\farmwatch\\agent.toml        Windows

    state_dir = "/var/lib/farmwatch"   # key, certificate, outbox; the MDM's bootstrap.toml goes here
    interval = 300                     # optional: seconds between reports (default: the collector's)
    log_level = "info"                 # error, warning, info or debug

This is not the agent.toml inside the state dir: that one is written by `enroll`. A missing
settings file means the defaults above. The service starts without an enrollment and enrolls by
itself once bootstrap.toml appears in the state dir (see run/loop.py, run_forever).
"""
from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from farmwatch.agent.state import STATE_DIR_ENV, ConfigError, dump_toml, read_toml, windows_data_dir

LOG_LEVELS = {"error": -2, "warning": -1, "info": 0, "debug": 1}  # as -qq, -q, (none), -v
EXIT_BAD_SETTINGS = 2  # units set RestartPreventExitStatus=2: restarting cannot fix a bad file


def default_settings_path() -> Path:
    if sys.platform == "win32":
        return windows_data_dir() / "agent.toml"
    return Path("/etc/farmwatch/agent.toml")


def default_service_state_dir() -> Path:
    if sys.platform == "win32":
        return windows_data_dir() / "state"
    return Path("/var/lib/farmwatch")


@dataclass(frozen=True)
class ServiceSettings:
    state_dir: Path
    interval: float | None = None
    log_level: str = "info"

    @property
    def verbosity(self) -> int:
        return LOG_LEVELS[self.log_level]


def load_settings(path: Path) -> ServiceSettings:
    """The settings in `path`, or the defaults when there is no such file; ConfigError if unusable."""
    data = read_toml(path) if path.exists() else {}
    unknown = set(data) - {"state_dir", "interval", "log_level"}
    if unknown:
        raise ConfigError(f"{path}: unknown keys {', '.join(sorted(unknown))}; "
                          "expected state_dir, interval, log_level")
    return ServiceSettings(state_dir=_state_dir(data, path), interval=_interval(data, path),
                           log_level=_log_level(data, path))


def _state_dir(data: dict, path: Path) -> Path:
    value = data.get("state_dir", str(default_service_state_dir()))
    if not isinstance(value, str) or not Path(value).is_absolute():
        raise ConfigError(f"{path}: state_dir {value!r} must be an absolute path")
    return Path(value)


def _interval(data: dict, path: Path) -> float | None:
    value = data.get("interval")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1):
        raise ConfigError(f"{path}: interval {value!r} is not a number of seconds >= 1")
    return value


def _log_level(data: dict, path: Path) -> str:
    value = data.get("log_level", "info")
    if not isinstance(value, str) or value not in LOG_LEVELS:
        raise ConfigError(f"{path}: log_level {value!r} is not one of {', '.join(LOG_LEVELS)}")
    return value


def settings_toml(settings: ServiceSettings) -> str:
    values = {"state_dir": str(settings.state_dir), "interval": settings.interval,
              "log_level": settings.log_level}
    return dump_toml({key: value for key, value in values.items() if value is not None})


def serve(settings: ServiceSettings, stop: threading.Event) -> None:
    """Enroll when a bootstrap file appears, then report every interval until `stop` is set."""
    # The CLI's default-state-dir lookup uses os.geteuid, which Windows lacks; the environment
    # variable is consulted first, so setting it keeps every later lookup on our folder.
    os.environ[STATE_DIR_ENV] = str(settings.state_dir)
    from farmwatch.agent.run.loop import run_forever
    from farmwatch.agent.cli import configure_logging
    from farmwatch.agent.state import StateDir

    configure_logging(settings.verbosity)
    run_forever(StateDir(settings.state_dir), stop, interval=settings.interval)


class RotatingLogFile(io.TextIOBase):
    """A text stream for the agent's log where no service manager keeps one (Windows): appends to
    `path` and, when it would pass `max_bytes`, moves it to `path`.1 (dropping the older one)."""

    def __init__(self, path: Path, max_bytes: int = 5_000_000):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._file = open(self.path, "a", encoding="utf-8")

    def write(self, text: str) -> int:
        if self._file.tell() and self._file.tell() + len(text.encode()) > self.max_bytes:
            self._rotate()
        written = self._file.write(text)
        self._file.flush()
        return written

    def _rotate(self) -> None:
        self._file.close()
        os.replace(self.path, self.path.with_name(self.path.name + ".1"))
        self._file = open(self.path, "a", encoding="utf-8")

    def close(self) -> None:
        self._file.close()
        super().close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m farmwatch.agent.service",
        description="Run farmwatch-agent as a service, with the settings of the installed package.",
    )
    parser.add_argument("--config", type=Path, default=default_settings_path(), metavar="FILE",
                        help="service settings (default: %(default)s)")
    parser.add_argument("--log-file", type=Path, metavar="FILE",
                        help="log there (rotated at 5 MB) instead of stderr; for hosts that keep no "
                             "service log, e.g. a Windows scheduled task")
    parser.add_argument("--check", action="store_true",
                        help="print the settings that would be used, as TOML, and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"farmwatch-agent service: error: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    if args.check:
        print(settings_toml(settings), end="")
        return 0
    if args.log_file is not None:
        sys.stderr = RotatingLogFile(args.log_file)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    from farmwatch.agent.state import AlreadyRunning

    try:
        serve(settings, stop)
    except AlreadyRunning as exc:
        print(f"farmwatch-agent service: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
