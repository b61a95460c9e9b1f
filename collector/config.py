"""Where the collector keeps its state, and its settings (flags over `collector.toml` over defaults)."""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from farmwatch.collector.fleet.settings import FleetSettings, FleetSettingsError
from farmwatch.collector.mdm.settings import MdmSettings, MdmSettingsError
from farmwatch.collector.setting_types import type_problem
from farmwatch.common.intervals import MIN_REPORT_INTERVAL  # the agent's floor, so the collector asks no less

CONFIG_NAME = "collector.toml"
DATABASE_NAME = "farmwatch.sqlite"
# A PostgreSQL database shared by several collectors (docs/scale.md); over `[storage] url`.
DATABASE_URL_VARIABLE = "FARMWATCH_DATABASE_URL"


def default_home() -> Path:
    """`$FARMWATCH_HOME`, else the per-user data folder (XDG on Linux)."""
    if os.environ.get("FARMWATCH_HOME"):
        return Path(os.environ["FARMWATCH_HOME"])
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "farmwatch"


class ConfigError(Exception):
    pass


@dataclass
class CollectorConfig:
    """Every setting, with its default. `collector.example.toml` documents each one."""

    home: Path
    listen: str = "127.0.0.1:7443"
    server_names: list[str] = field(default_factory=lambda: ["localhost", "127.0.0.1"])
    client_cert_days: int = 30
    report_interval_seconds: int = 300
    max_message_bytes: int = 4 * 1024 * 1024
    workers: int = 16  # threads per serving process
    worker_processes: int = 0  # `serve --workers`: serving processes; 0 = one per CPU core
    # reports waiting for the database; beyond this the collector answers RESOURCE_EXHAUSTED
    max_pending_reports: int = 2048
    max_batch_reports: int = 256
    # what one device may send (collector/budget.py); 0 turns a budget off
    device_reports_per_hour: int = 60
    device_report_burst: int = 2000
    device_bytes_per_day: int = 256 * 1024 * 1024
    device_byte_burst: int = 64 * 1024 * 1024
    trusted_proxies: list[str] = field(default_factory=list)
    # the web console (collector/console): where it listens, and the SSO proxies whose identity header it takes
    console_listen: str = "127.0.0.1:8443"
    console_trusted_proxies: list[str] = field(default_factory=list)
    console_identity_header: str = "X-Forwarded-Email"
    raw_report_retention_days: int = 90
    allow: list[dict] = field(default_factory=list)
    log_format: str = "text"
    fleet: FleetSettings = field(default_factory=FleetSettings)  # the `[fleet]` table
    # `[storage] url`: "" is the SQLite file in home; "postgresql://..." a shared database
    database_url: str = ""
    mdm: MdmSettings = field(default_factory=MdmSettings)  # the `[mdm]` tables (collector/mdm/settings.py)

    @property
    def pki_dir(self) -> Path:
        return self.home / "pki"

    @property
    def database(self) -> Path | str:
        """What `storage.open_storage` opens: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.database_url or self.home / DATABASE_NAME

    @property
    def database_exists(self) -> bool:
        """Whether there is a database to open (a PostgreSQL database is made or migrated on opening)."""
        return bool(self.database_url) or (self.home / DATABASE_NAME).exists()

    @property
    def config_file(self) -> Path:
        return self.home / CONFIG_NAME

    @classmethod
    def load(cls, home: Path | None = None, config_file: Path | None = None, **overrides) -> "CollectorConfig":
        home = Path(home) if home else default_home()
        path = Path(config_file) if config_file else home / CONFIG_NAME
        values = _read_toml(path) if path.exists() else {}
        if config_file and not path.exists():
            raise ConfigError(f"config file {path} does not exist")
        known = {f.name for f in fields(cls)} - {"home"}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        if os.environ.get(DATABASE_URL_VARIABLE):
            values["database_url"] = os.environ[DATABASE_URL_VARIABLE]
        _check_types(cls, values, path)
        _check_database_url(values.get("database_url", ""), path)
        if values.get("report_interval_seconds", MIN_REPORT_INTERVAL) < MIN_REPORT_INTERVAL:
            raise ConfigError(f"{path}: report_interval_seconds must be at least {MIN_REPORT_INTERVAL} (agents "
                              f"would not scan more often anyway), not {values['report_interval_seconds']}")
        for key in ("listen", "console_listen"):
            if key in values:
                _check_listen(values[key])
        _check_byte_burst(values, path)
        if values.get("worker_processes", 0) < 0:
            raise ConfigError(f"{path}: worker_processes must be 0 (one per CPU core) or more, "
                              f"not {values['worker_processes']}")
        if not isinstance(values.get("fleet", FleetSettings()), FleetSettings):
            try:
                values["fleet"] = FleetSettings.from_dict(values["fleet"])
            except (FleetSettingsError, TypeError) as exc:
                raise ConfigError(f"{path}: {exc}") from exc
        if not isinstance(values.get("mdm", MdmSettings()), MdmSettings):
            try:
                values["mdm"] = MdmSettings.from_dict(values["mdm"])
            except (MdmSettingsError, TypeError) as exc:
                raise ConfigError(f"{path}: {exc}") from exc
        return cls(home=home, **values)


def _check_database_url(url: str, path: Path) -> None:
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"{path}: [storage] url (or ${DATABASE_URL_VARIABLE}) must be a postgresql:// URL, e.g. "
                          "postgresql://farmwatch@db.example.net/farmwatch (password from ~/.pgpass or PGPASSWORD), "
                          "or left out for the SQLite file in the collector's home")


_LISTEN = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")


def _check_listen(listen: str) -> None:
    match = _LISTEN.match(listen)
    if not match or int(match[1]) > 65535:
        raise ConfigError(f"listen address {listen!r} is not HOST:PORT with a port up to 65535 "
                          "(e.g. 0.0.0.0:7443, [::]:7443, 127.0.0.1:7443)")


def _check_byte_burst(values: dict, path: Path) -> None:
    """A report the transport accepts must fit a device's byte burst, or it could never be taken."""
    defaults = CollectorConfig(home=Path())
    burst = values.get("device_byte_burst", defaults.device_byte_burst)
    largest = values.get("max_message_bytes", defaults.max_message_bytes)
    if 0 < burst < largest:
        raise ConfigError(f"{path}: device_byte_burst ({burst}) must be at least max_message_bytes ({largest}), "
                          "or 0 for no byte budget")


def _check_types(cls, values: dict, path: Path) -> None:
    """A setting of the wrong type (workers = "16") fails here, naming it, not deep inside serve."""
    problem = type_problem(cls, values)
    if problem:
        raise ConfigError(f"{path}: {problem}")


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    _check_top_level(data, path)
    # `[collector]` holds the scalar settings; `[[allow]]` and `[fleet]` tables sit at the top level
    settings = dict(data.get("collector", {}))
    for table in ("allow", "fleet", "mdm"):
        if table in data:
            settings[table] = data[table]
    storage = data.get("storage", {})
    unknown = set(storage) - {"url"}
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) in [storage]: {', '.join(sorted(unknown))} (it has `url`)")
    if "url" in storage:
        settings["database_url"] = storage["url"]
    return settings


# The top level of collector.toml; `[export]` is read by farmwatch.collector.exports.settings.
TOP_LEVEL = ("collector", "allow", "fleet", "export", "storage", "mdm")


def _check_top_level(data: dict, path: Path) -> None:
    """A key outside the known tables (a typo like `[colector]`, or a setting above `[collector]`)
    would be ignored without a word: refuse it, naming it and where settings go."""
    for key, value in data.items():
        if key not in TOP_LEVEL:
            where = (f"; `{key}` is a setting of [collector]: put it under that table" if _is_collector_setting(key)
                     else "")
            raise ConfigError(f"{path}: unknown top-level key {key!r}; the file has the tables "
                              f"{', '.join(f'[{t}]' for t in TOP_LEVEL if t != 'allow')} and [[allow]]{where}")
        if key in ("collector", "fleet", "export", "storage", "mdm") and not isinstance(value, dict):
            raise ConfigError(f"{path}: {key} must be a table ([{key}]), not {value!r}")


def _is_collector_setting(key: str) -> bool:
    return key in {f.name for f in fields(CollectorConfig)} - {"home", "allow", "fleet", "database_url", "mdm"}
