"""The agent's state directory and its configuration file.

One folder holds everything the agent keeps between runs:

    agent.key       the private key, made here, mode 0600; it never leaves the laptop
    agent.crt       the client certificate the collector signed for it
    ca.crt          the collector's CA, the only root the agent trusts
    agent.toml      collector address, device id, report interval, spool bounds
    spool.sqlite    the outbox (see spool.py), plus the sequence counter and delivery times
    bootstrap.toml  optional, dropped by the MDM: collector, ca_cert, token for unattended enrollment

The folder itself is 0700. Which folder: `--state-dir`, else `$FARMWATCH_STATE_DIR`, else
`/var/lib/farmwatch` for root, else the per-user state folder (`$XDG_STATE_HOME/farmwatch`,
normally `~/.local/state/farmwatch`).
"""
from __future__ import annotations

import json
import logging
import os
import sys
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from farmwatch.common import lock
from farmwatch.common.files import write_private
from farmwatch.agent.spool import SpoolLimits

log = logging.getLogger(__name__)

STATE_DIR_ENV = "FARMWATCH_STATE_DIR"
SYSTEM_STATE_DIR = Path("/var/lib/farmwatch")
DEFAULT_REPORT_INTERVAL = 300  # never below MIN_REPORT_INTERVAL (farmwatch.common.intervals)


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the fix."""


class AlreadyRunning(RuntimeError):
    """Another `run` reports from this state dir."""


def windows_data_dir() -> Path:
    return Path(os.environ.get("ProgramData", r"C:\ProgramData")) / "farmwatch"


def default_state_dir() -> Path:
    from_env = os.environ.get(STATE_DIR_ENV)
    if from_env:
        return Path(from_env)
    if sys.platform == "win32":  # Windows has no euid; the service keeps its state here
        return windows_data_dir() / "state"
    if os.geteuid() == 0:
        return SYSTEM_STATE_DIR
    xdg_state = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg_state) if xdg_state else Path.home() / ".local" / "state"
    return base / "farmwatch"


@dataclass
class SpoolBounds:
    """How much the outbox may hold while the collector is out of reach; oldest go first."""

    max_reports: int = SpoolLimits.max_reports
    max_age_days: float = SpoolLimits.max_age_seconds / 86400
    max_bytes: int = SpoolLimits.max_bytes

    def limits(self) -> SpoolLimits:
        return SpoolLimits(self.max_reports, self.max_age_days * 86400, self.max_bytes)


@dataclass
class AgentConfig:
    """What `enroll` learned; `agent.toml` is this, as TOML. Edit the spool bounds freely."""

    collector: str
    device_id: str
    server_name: str = ""  # TLS name to expect from the collector when it differs from the host
    report_interval_seconds: int = DEFAULT_REPORT_INTERVAL
    enrolled_at: str = ""
    spool: SpoolBounds = field(default_factory=SpoolBounds)

    @classmethod
    def from_toml(cls, path: Path) -> "AgentConfig":
        data = read_toml(path)
        missing = [key for key in ("collector", "device_id") if not data.get(key)]
        if missing:
            raise ConfigError(f"{path} lacks {' and '.join(missing)}: it is written by enrollment, so enroll "
                              "again (`farmwatch-agent enroll --force …`, or restore the file)")
        try:
            spool = SpoolBounds(**data.pop("spool", {}))
            return cls(spool=spool, **data)
        except TypeError as exc:
            raise ConfigError(f"{path}: {exc}; compare it with `farmwatch-agent --help`") from exc

    def to_toml(self) -> str:
        return dump_toml(asdict(self))


@dataclass(frozen=True)
class Bootstrap:
    """What an MDM drops into `bootstrap.toml` so that `run` can enroll on its own."""

    collector: str
    ca_cert: Path
    token: str
    device_id: str = ""
    server_name: str = ""

    @classmethod
    def from_toml(cls, path: Path) -> "Bootstrap":
        data = read_toml(path)
        missing = [key for key in ("collector", "ca_cert", "token") if not data.get(key)]
        if missing:
            raise ConfigError(f"{path} lacks {', '.join(missing)}; it needs collector, ca_cert and token")
        unknown = set(data) - {"collector", "ca_cert", "token", "device_id", "server_name"}
        if unknown:
            raise ConfigError(f"{path}: unknown keys {', '.join(sorted(unknown))}")
        ca_cert = Path(data.pop("ca_cert"))
        # A relative CA path is relative to the bootstrap file, so the MDM can drop both together.
        return cls(ca_cert=ca_cert if ca_cert.is_absolute() else path.parent / ca_cert, **data)


class StateDir:
    """Paths inside the state directory, and creating it owner-only."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.key = self.root / "agent.key"
        self.certificate = self.root / "agent.crt"
        self.ca_certificate = self.root / "ca.crt"
        self.config_file = self.root / "agent.toml"
        self.spool_file = self.root / "spool.sqlite"
        self.bootstrap_file = self.root / "bootstrap.toml"
        self.run_lock = self.root / "run.lock"

    def ensure(self) -> None:
        """Create the directory 0700, or tighten an existing one that others can enter."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = self.root.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning("state dir was open to others; tightening path=%s mode=%o", self.root, mode)
            self.root.chmod(0o700)

    def is_enrolled(self) -> bool:
        return all(p.exists() for p in (self.config_file, self.key, self.certificate, self.ca_certificate))

    def load_config(self) -> AgentConfig:
        return AgentConfig.from_toml(self.config_file)

    def save_config(self, config: AgentConfig) -> None:
        write_private(self.config_file, config.to_toml().encode(), replace=True)

    def lock_for_run(self):
        """Hold `run.lock` (farmwatch.common.lock) so that a second `run`, or a `run --once` beside a
        running one, refuses to start: two would scan and send every report twice and race each
        other's certificate renewals, each revoking the other's new certificate.
        Returns the open file; keep it open while running. AlreadyRunning when it is taken."""
        try:
            return lock.hold(self.run_lock)
        except lock.LockHeld as held:
            raise AlreadyRunning(f"another farmwatch-agent run (pid {held.holder}) already reports from {self.root}; "
                                 "stop it first (it may be the service), or pass another --state-dir") from None
        except OSError as exc:  # a read-only state dir: the outbox cannot work either, run says so
            log.warning("cannot create run.lock; running without it path=%s error=%r", self.run_lock, str(exc))
            return None

    def load_bootstrap(self) -> Bootstrap | None:
        if not self.bootstrap_file.exists():
            return None
        return Bootstrap.from_toml(self.bootstrap_file)


def read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def dump_toml(data: dict) -> str:
    """TOML for flat tables of strings, numbers and booleans (all agent.toml needs)."""
    scalars = [f"{key} = {_toml_value(value)}" for key, value in data.items() if not isinstance(value, dict)]
    lines = scalars
    for name, table in data.items():
        if isinstance(table, dict):
            lines += ["", f"[{name}]"] + [f"{key} = {_toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # JSON's string escapes are a subset of TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
