"""The `[export]` section of collector.toml: poll interval, retries, and each sink's destination.

    [export]
    interval_seconds = 5
    retries = 5
    backoff_seconds = 1.0

    [export.jsonl]
    output = "/var/log/farmwatch/flags.jsonl"     # omitted: stdout

    [export.cef]
    to = "siem.example.com:514"
    transport = "udp"                             # or "tcp"
    format = "rfc5424"                            # or "rfc3164"
    facility = "auth"

    [export.webhook]
    url = "https://hooks.example.com/farmwatch"
    timeout_seconds = 10
    ca_file = "/etc/ssl/internal-ca.pem"          # optional
    headers = { Authorization = "Bearer ..." }

Command-line flags win over these values.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from farmwatch.collector.exports.registry import sinks as registered_sinks
from farmwatch.collector.exports.runner import RetryPolicy

_GENERAL = {"interval_seconds", "retries", "backoff_seconds", "backoff_cap_seconds"}


class ExportConfigError(ValueError):
    pass


@dataclass
class ExportSettings:
    interval_seconds: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sinks: dict[str, dict] = field(default_factory=dict)  # sink kind ("jsonl", "cef" ...) -> settings

    def sink(self, kind: str) -> dict:
        return dict(self.sinks.get(kind, {}))


def load(path: Path) -> ExportSettings:
    """The `[export]` settings in `path`; defaults when the file or the section is absent."""
    if not Path(path).exists():
        return ExportSettings()
    try:
        with open(path, "rb") as handle:
            section = tomllib.load(handle).get("export", {})
    except tomllib.TOMLDecodeError as exc:
        raise ExportConfigError(f"{path}: {exc}") from exc
    return _parse(section, path)


def _parse(section: dict, path: Path) -> ExportSettings:
    kinds = registered_sinks()
    unknown = set(section) - _GENERAL - set(kinds)
    if unknown:
        raise ExportConfigError(f"{path}: unknown [export] setting(s) {', '.join(sorted(unknown))}")
    sinks = {}
    for kind, spec in kinds.items():
        allowed = spec.setting_names()
        values = section.get(kind, {})
        if set(values) - allowed:
            raise ExportConfigError(f"{path}: unknown [export.{kind}] setting(s) "
                                    f"{', '.join(sorted(set(values) - allowed))}")
        sinks[kind] = values
    defaults = RetryPolicy()
    retry = RetryPolicy(attempts=int(section.get("retries", defaults.attempts)),
                        backoff_seconds=float(section.get("backoff_seconds", defaults.backoff_seconds)),
                        backoff_cap_seconds=float(section.get("backoff_cap_seconds", defaults.backoff_cap_seconds)))
    interval = float(section.get("interval_seconds", 5.0))
    if retry.attempts < 1 or retry.backoff_seconds < 0 or not interval > 0:
        raise ExportConfigError(f"{path}: [export] needs retries of at least 1, backoff_seconds not negative "
                                "and interval_seconds above 0")
    return ExportSettings(interval, retry, sinks)


def build_sink(kind: str, settings: ExportSettings, overrides: dict):
    """The sink of `kind` from its `[export.KIND]` settings, with non-None `overrides` on top."""
    values = {**settings.sink(kind), **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return registered_sinks()[kind].make(values)
    except (TypeError, ValueError) as exc:
        raise ExportConfigError(str(exc)) from exc
    except OSError as exc:  # e.g. the output file's folder does not exist
        raise ExportConfigError(f"cannot open the {kind} sink: {exc}") from exc
