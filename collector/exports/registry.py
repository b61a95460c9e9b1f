"""Export sinks by registration: each sink module declares, once, its kind, its settings and how it
is built; the `[export.KIND]` checks of collector.toml (settings.py) and the flags of
`farmwatch-collector export KIND` (cli/export.py) are made from that declaration.

    SINK = register(SinkSpec(
        kind="jsonl", order=10, help="one JSON object per line, ...", example="farmwatch-collector ...",
        settings=(Setting("output", help="file to append to (default stdout)", flag=Flag("--output", "FILE")),),
        build=build))

Adding a sink is its module in this package (found by `sinks()`) and its tests; nothing else.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Flag:
    """How a setting is given on `farmwatch-collector export KIND`; flags win over collector.toml."""

    option: str  # e.g. "--to"
    metavar: str | None = None  # default: the setting's name in capitals
    help: str | None = None  # default: the setting's help
    const: Any = None  # a switch (no value) that sets the setting to this, e.g. --tcp -> transport "tcp"
    repeat: bool = False  # may be given several times; `convert` gets the list
    value: str | None = None  # the CLI checks the text: "seconds" (a number above 0) or "count" (1 or more)
    convert: Callable[[Any], Any] | None = None  # the flag's value to the setting's; ValueError: a bad value


@dataclass(frozen=True)
class Setting:
    """One `[export.KIND]` setting."""

    key: str  # its name in collector.toml
    type: Callable[[Any], Any] | None = None  # applied to the value before building (float, dict); None: as given
    default: Any = None
    help: str = ""
    required: str | None = None  # missing: "REQUIRED: --flag METAVAR, or `key` in [export.KIND]"
    flag: Flag | None = None

    @property
    def metavar(self) -> str:
        return (self.flag and self.flag.metavar) or self.key.upper()

    def value_in(self, values: dict[str, Any]) -> Any:
        """This setting's value in `values`, else its default, with its type applied."""
        value = values.get(self.key)
        if value is None:
            value = self.default
        return self.type(value) if self.type is not None and value is not None else value


@dataclass(frozen=True)
class SinkSpec:
    """A sink kind: what `export --help` says of it, its settings, and how it is built from them."""

    kind: str
    help: str  # one line in `export --help`
    example: str  # shown under `export KIND --help`
    settings: tuple[Setting, ...]
    build: Callable[[dict], Any]  # every setting (defaults filled in, types applied) -> a Sink (runner.Sink)
    order: int = 100  # where `export --help` lists it (the built-ins: 10, 20, 30)

    def setting_names(self) -> set[str]:
        return {setting.key for setting in self.settings}

    def from_flags(self, given: dict[str, Any]) -> dict[str, Any]:
        """Flag values (by setting key; None: not given) as setting values. ValueError: a bad value."""
        values = {}
        for setting in self.settings:
            value = given.get(setting.key)
            if value is not None and setting.flag and setting.flag.convert:
                value = setting.flag.convert(value)
            values[setting.key] = value
        return values

    def make(self, values: dict[str, Any]):
        """The sink from its settings; TypeError or ValueError says what is wrong with them."""
        for setting in self.settings:
            if setting.required and not values.get(setting.key):
                flag = f"{setting.flag.option} {setting.metavar}, or " if setting.flag else ""
                raise ValueError(f"{setting.required}: {flag}`{setting.key}` in [export.{self.kind}]")
        return self.build({setting.key: setting.value_in(values) for setting in self.settings})


_SINKS: dict[str, SinkSpec] = {}


def register(spec: SinkSpec) -> SinkSpec:
    """Make a sink kind known to collector.toml and to `export`; returns the spec."""
    if spec.kind in _SINKS and _SINKS[spec.kind] is not spec:
        raise ValueError(f"export sink {spec.kind!r} is registered twice")
    _SINKS[spec.kind] = spec
    return spec


def unregister(kind: str) -> None:
    _SINKS.pop(kind, None)


def sinks() -> dict[str, SinkSpec]:
    """Every sink kind, in `export --help` order: this package's modules are imported (each
    registers its own), then any sink registered from elsewhere."""
    _import_sink_modules()
    return {spec.kind: spec for spec in sorted(_SINKS.values(), key=lambda spec: (spec.order, spec.kind))}


def _import_sink_modules() -> None:
    package = __name__.rpartition(".")[0]
    for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{module.name}")
