"""A tidy, read-only view of one AgentReport, whoever produced it.

Input is the `AgentReport` message itself (what the collector receives), or its protobuf-JSON
form (`MessageToDict(..., preserving_proto_field_name=True)` or the agent's `scan` output):
proto3 leaves out defaults, uint64 arrive as strings, `edid` as base64, and reports from other
tools may spell hex ids in upper case or with `0x`. Both are read through `_get`, which gives a
message's default values as absent like the JSON form, so one set of readers serves both and
every field the rules read is normalised here once: rules never guess at spelling.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import operator
import posixpath
import re
from collections.abc import Sequence
from sys import intern
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from farmwatch.collector.detect.catalogue import normalise_hex, normalise_name, parse_product_code
from farmwatch.common.edid import decode_reported_edid
from farmwatch.v1.report_pb2 import AgentReport

OS_ALIASES = {"windows": "windows", "win32": "windows", "macos": "macos", "darwin": "macos", "mac": "macos",
              "osx": "macos", "linux": "linux"}
BUILT_IN_CONNECTORS = re.compile(r"(^|-)(edp|lvds|dsi)(-|$)", re.IGNORECASE)
# AgentReport's own fields (which report, from whom, when, what went wrong, what it changes); every
# other field of it is one a probe fills, so a new probe's field is known here from report.proto alone.
REPORT_ENVELOPE = frozenset("report_id device_id sequence collected_at probe_errors agent_stats delta".split())
PROBE_FIELDS = tuple(f.name for f in AgentReport.DESCRIPTOR.fields if f.name not in REPORT_ENVELOPE)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


Part = dict | Message  # one object of the report, in either form


def _get(raw: Part, name: str) -> Any:
    """Field `name` of a dict or a message; a message's proto3 default reads as absent (None),
    as MessageToDict would leave it out. Sub-messages come back as they are."""
    if isinstance(raw, dict):
        return raw.get(name)
    value = getattr(raw, name)
    return value if value or isinstance(value, Message) else None


field_value = _get  # for rules reading the parts that ReportView.entries and .section give


def _part(raw: Part, name: str) -> Part:
    value = _get(raw, name)
    return value if isinstance(value, (dict, Message)) else {}


def _time(raw: Part, name: str) -> str:
    """A Timestamp field as RFC 3339 text, the form MessageToDict gives it."""
    if isinstance(raw, dict):
        return _text(raw.get(name))
    return getattr(raw, name).ToJsonString() if raw.HasField(name) else ""


def _is_list(value: Any) -> bool:
    """A JSON array or a protobuf repeated field."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _items(value: Any) -> list[Part]:
    return [v for v in value if isinstance(v, (dict, Message))] if _is_list(value) else []


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(map(str, value)) if _is_list(value) else ()


def _as_dict(raw: Part) -> dict:
    return raw if isinstance(raw, dict) else json_format.MessageToDict(raw, preserving_proto_field_name=True)


def basename(path: str) -> str:
    """Last path component of a Windows or POSIX path."""
    return posixpath.basename(path.replace("\\", "/")) if path else ""


# ipaddress parses slowly (~3 µs) and a laptop talks to the same few hundred peers all day: remembered
# by the address text alone, so a connection's new pid or port costs no parse.
@functools.lru_cache(maxsize=65536)
def plain_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address without zone or IPv4-mapped wrapping; None for names and blanks."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0].strip("[]"))
    except ValueError:
        return None
    return ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip


@functools.lru_cache(maxsize=65536)
def is_loopback(address: str) -> bool:
    ip = plain_ip(address)
    return ip is not None and ip.is_loopback


# A laptop reports the same few hundred processes every few minutes, and a fleet runs the same
# programs: remembering the names per (name, exe) saves most of the per-process work of a report.
@functools.lru_cache(maxsize=65536)
def process_names(name: str, exe: str) -> tuple[str, ...]:
    """The names a process goes by: its name and its executable's file name."""
    return tuple(dict.fromkeys(n for n in (name, basename(name), basename(exe)) if n))


@functools.lru_cache(maxsize=65536)
def process_names_normalised(name: str, exe: str) -> tuple[str, ...]:
    return tuple(normalise_name(n) for n in process_names(name, exe))


# Item views are slotted and a process's texts interned: the incremental classifier keeps every
# device's views between its reports, and a fleet's processes share their names, paths and accounts.
@dataclass(frozen=True, slots=True)
class ProcessView:
    pid: int
    name: str
    exe: str
    cmdline: tuple[str, ...]
    username: str
    signer: str
    bundle_id: str

    @property
    def names(self) -> tuple[str, ...]:
        return process_names(self.name, self.exe)

    @property
    def normalised_names(self) -> tuple[str, ...]:
        return process_names_normalised(self.name, self.exe)

    @property
    def cmdline_tokens(self) -> set[str]:
        """Arguments case-folded, `--flag=value` split in two."""
        return {t for arg in self.cmdline[1:] for t in re.split(r"[\s=]+", arg.casefold()) if t}

    @property
    def args_text(self) -> str:
        return " ".join(" ".join(self.cmdline[1:]).split()).casefold()

    def evidence(self) -> dict:
        shown = {"name": self.name, "exe": self.exe, "username": self.username, "signer": self.signer}
        return {"pid": self.pid} | {k: v for k, v in shown.items() if v}


@dataclass(frozen=True, slots=True)
class ApplicationView:
    name: str
    version: str
    path: str
    bundle_id: str
    publisher: str
    signer: str
    source: str

    def evidence(self) -> dict:
        shown = {"name": self.name, "version": self.version, "path": self.path, "bundle_id": self.bundle_id,
                 "publisher": self.publisher, "source": self.source}
        return {k: v for k, v in shown.items() if v}


@dataclass(frozen=True, slots=True)
class UsbInterfaceView:
    klass: str
    subclass: str
    protocol: str
    driver: str

    @property
    def triple(self) -> str:
        return f"{self.klass}/{self.subclass}/{self.protocol}"


@dataclass(frozen=True, slots=True)
class UsbView:
    vendor_id: str
    product_id: str
    manufacturer: str
    product: str
    serial: str
    device_class: str
    bus_path: str
    interfaces: tuple[UsbInterfaceView, ...]

    @property
    def usb_id(self) -> str:
        return f"{self.vendor_id}:{self.product_id}"

    @property
    def interface_classes(self) -> set[str]:
        return {i.klass for i in self.interfaces}

    def evidence(self) -> dict:
        shown = {"vendor_id": self.vendor_id, "product_id": self.product_id, "manufacturer": self.manufacturer,
                 "product": self.product, "serial": self.serial, "device_class": self.device_class,
                 "bus_path": self.bus_path}
        shown = {k: v for k, v in shown.items() if v}
        if self.interfaces:
            shown["interfaces"] = [i.triple for i in self.interfaces]
        return shown


@dataclass(frozen=True, slots=True)
class DisplayView:
    connector: str
    manufacturer_id: str
    product_code: int | None
    serial_number: int
    monitor_name: str
    serial_string: str
    width_mm: int
    height_mm: int
    built_in: bool

    def evidence(self) -> dict:
        shown = {"connector": self.connector, "manufacturer_id": self.manufacturer_id,
                 "monitor_name": self.monitor_name, "serial_string": self.serial_string,
                 "width_mm": self.width_mm, "height_mm": self.height_mm, "built_in": self.built_in}
        shown = {k: v for k, v in shown.items() if v not in ("",)}
        if self.product_code is not None:
            shown["product_code"] = f"0x{self.product_code:04x}"
        return shown


@dataclass(frozen=True, slots=True)
class ConnectionView:
    local_ip: str
    local_port: int
    remote_ip: str
    remote_port: int
    status: str
    pid: int
    process_name: str

    def evidence(self) -> dict:
        shown = {"local": f"{self.local_ip}:{self.local_port}", "remote": f"{self.remote_ip}:{self.remote_port}",
                 "status": self.status, "pid": self.pid, "process_name": self.process_name}
        return {k: v for k, v in shown.items() if v not in ("", 0)}


@dataclass(frozen=True, slots=True)
class ListenerView:
    ip: str
    port: int
    protocol: str
    pid: int
    process_name: str

    def evidence(self) -> dict:
        shown = {"address": f"{self.ip}:{self.port}", "protocol": self.protocol, "pid": self.pid,
                 "process_name": self.process_name}
        return {k: v for k, v in shown.items() if v not in ("", 0)}


@dataclass(frozen=True, slots=True)
class SessionView:
    user: str
    terminal: str
    remote_host: str
    started_at: str


@dataclass(frozen=True)
class ReportView:
    device_id: str
    os: str | None
    timezone: str
    locale: str
    keyboard_layouts: tuple[str, ...]
    processes: tuple[ProcessView, ...]
    applications: tuple[ApplicationView, ...]
    usb_devices: tuple[UsbView, ...]
    displays: tuple[DisplayView, ...]
    interfaces: tuple[dict, ...]
    ip_forwarding: bool
    connections: tuple[ConnectionView, ...]
    listeners: tuple[ListenerView, ...]
    sessions: tuple[SessionView, ...]
    remote_access: tuple[tuple[str, bool], ...]
    probe_errors: tuple[tuple[str, str], ...]
    probes_skipped: tuple[str, ...]
    processes_by_pid: dict[int, ProcessView] = field(default_factory=dict, compare=False)
    source: Part = field(default_factory=dict, compare=False, repr=False)  # the report as read

    def entries(self, name: str) -> tuple[Part, ...]:
        """The entries of repeated report field `name` as they came, messages or dicts (read them
        with `field_value`): how a rule reads a probe's field that has no view of its own above."""
        return tuple(_items(_get(self.source, name)))

    def section(self, name: str) -> Part:
        """Report field `name` that holds one message, as it came ({} when absent)."""
        return _part(self.source, name)

    def process_of(self, pid: int, process_name: str = "") -> ProcessView | None:
        """The reported process behind a connection or listener (by pid, else the first of that name)."""
        if pid and pid in self.processes_by_pid:
            return self.processes_by_pid[pid]
        key = normalise_name(process_name)
        return self._processes_by_name.get(key) if key else None

    @functools.cached_property
    def _processes_by_name(self) -> dict[str, ProcessView]:  # the first of each name: written last, so kept
        backwards = self.processes[::-1]
        return dict(zip(map(normalise_name, map(operator.attrgetter("name"), backwards)), backwards))


def _process(raw: Part) -> ProcessView:
    if isinstance(raw, Message):  # ~400 a report, and a message's fields need no checking: half the time
        return ProcessView(raw.pid, intern(raw.name.strip()), intern(raw.exe.strip()), tuple(map(intern, raw.cmdline)),
                           intern(raw.username.strip()), intern(raw.signer.strip()), intern(raw.bundle_id.strip()))
    get = raw.get
    return ProcessView(pid=_int(get("pid")), name=_text(get("name")), exe=_text(get("exe")),
                       cmdline=_strings(get("cmdline")), username=_text(get("username")),
                       signer=_text(get("signer")), bundle_id=_text(get("bundle_id")))


def _application(raw: Part) -> ApplicationView:
    return ApplicationView(name=_text(_get(raw, "name")), version=_text(_get(raw, "version")),
                           path=_text(_get(raw, "path")), bundle_id=_text(_get(raw, "bundle_id")),
                           publisher=_text(_get(raw, "publisher")), signer=_text(_get(raw, "signer")),
                           source=_text(_get(raw, "source")).casefold())


def _interface(raw: Part) -> UsbInterfaceView:
    return UsbInterfaceView(klass=normalise_hex(_get(raw, "interface_class"), 2),
                            subclass=normalise_hex(_get(raw, "interface_subclass"), 2) or "00",
                            protocol=normalise_hex(_get(raw, "interface_protocol"), 2) or "00",
                            driver=_text(_get(raw, "driver")))


def _usb(raw: Part) -> UsbView:
    return UsbView(vendor_id=normalise_hex(_get(raw, "vendor_id"), 4),
                   product_id=normalise_hex(_get(raw, "product_id"), 4),
                   manufacturer=_text(_get(raw, "manufacturer")), product=_text(_get(raw, "product")),
                   serial=_text(_get(raw, "serial")), device_class=normalise_hex(_get(raw, "device_class"), 2),
                   bus_path=_text(_get(raw, "bus_path")),
                   interfaces=tuple(_interface(i) for i in _items(_get(raw, "interfaces"))))


def _edid_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if not isinstance(value, str) or not value:
        return b""
    try:
        url_safe = "-" in value or "_" in value
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_" if url_safe else None)
    except (binascii.Error, ValueError):
        return b""


def _product_code(value: Any) -> int | None:
    """uint32 as a number or string; other tools may write hex ("0x7773")."""
    try:
        return parse_product_code(value)
    except (TypeError, ValueError):
        return None


def _display(raw: Part) -> DisplayView:
    decoded = decode_reported_edid(_edid_bytes(_get(raw, "edid")))
    connector = _text(_get(raw, "connector"))
    product_code = _product_code(_get(raw, "product_code"))
    if product_code is None and decoded:
        product_code = decoded.product_code
    return DisplayView(
        connector=connector,
        manufacturer_id=(_text(_get(raw, "manufacturer_id")) or (decoded.manufacturer_id if decoded else "")).upper(),
        product_code=product_code,
        serial_number=_int(_get(raw, "serial_number")) or (decoded.serial_number if decoded else 0),
        monitor_name=_text(_get(raw, "monitor_name")) or (decoded.monitor_name if decoded else ""),
        serial_string=_text(_get(raw, "serial_string")) or (decoded.serial_string if decoded else ""),
        width_mm=_int(_get(raw, "width_mm")) or (decoded.width_mm if decoded else 0),
        height_mm=_int(_get(raw, "height_mm")) or (decoded.height_mm if decoded else 0),
        built_in=bool(_get(raw, "built_in")) or bool(BUILT_IN_CONNECTORS.search(connector)),
    )


def _connection(raw: Part) -> ConnectionView:
    return ConnectionView(local_ip=_text(_get(raw, "local_ip")), local_port=_int(_get(raw, "local_port")),
                          remote_ip=_text(_get(raw, "remote_ip")), remote_port=_int(_get(raw, "remote_port")),
                          status=_text(_get(raw, "status")).upper(), pid=_int(_get(raw, "pid")),
                          process_name=_text(_get(raw, "process_name")))


def _listener(raw: Part) -> ListenerView:
    return ListenerView(ip=_text(_get(raw, "ip")), port=_int(_get(raw, "port")),
                        protocol=_text(_get(raw, "protocol")).casefold() or "tcp", pid=_int(_get(raw, "pid")),
                        process_name=_text(_get(raw, "process_name")))


def _session(raw: Part) -> SessionView:
    return SessionView(user=_text(_get(raw, "user")), terminal=_text(_get(raw, "terminal")),
                       remote_host=_text(_get(raw, "remote_host")), started_at=_time(raw, "started_at"))


def _unwrap(report: Part) -> Part:
    """A stored envelope (`{"received_at", "peer_ip", "report"}`) holds the report inside."""
    if not isinstance(report, dict):
        return report
    inner = _get(report, "report")
    return inner if isinstance(inner, dict) and "received_at" in report else report


@dataclass
class ItemMemo:
    """Item views by serialized item (or `keys`), per section: a device's previous report's (`known`) given back for
    the same bytes, the very objects; this report's kept in `seen` for its next. `unchanged`: see incremental.py."""

    known: dict[str, dict[bytes, Any]] = field(default_factory=dict)
    seen: dict[str, dict[bytes, Any]] = field(default_factory=dict)
    unchanged: dict[str, tuple] = field(default_factory=dict)
    keys: dict[str, list] = field(default_factory=dict)
    views: dict[str, tuple] = field(default_factory=dict)  # this report's, per section


def _views(raw: Any, build, memo: ItemMemo | None, section: str) -> tuple:
    """The views of repeated field `raw`'s items, through `memo` if given: most repeat, so comparing is mostly `is`."""
    if memo is None or raw is None or isinstance(raw, list):  # no memo, or the JSON form
        return tuple(map(build, _items(raw)))
    if section in memo.unchanged:  # the previous report's very items, in its order: its views
        memo.seen[section] = memo.known.get(section, {})
        return memo.views.setdefault(section, memo.unchanged[section])
    if len(memo.keys.get(section, ())) != len(raw):  # not this section's digests: neither used nor kept
        memo.keys.pop(section, None)
    keys = memo.keys.get(section) or list(map(type(raw[0]).SerializeToString, raw))  # map: no Python loop
    if len(set(keys)) < len(keys):  # a repeated item gets its own object, as without the memo
        views = list(map(build, raw))
    else:
        views = list(map(memo.known.get(section, {}).get, keys))
        for index in range(len(views)) if None in views else ():
            if views[index] is None:
                views[index] = build(raw[index])
    memo.seen[section], memo.views[section] = dict(zip(keys, views)), tuple(views)
    return memo.views[section]


def _by_pid(processes: tuple[ProcessView, ...]) -> dict[int, ProcessView]:
    """pid -> process, the last one reported under a pid; pid 0 (none) left out."""
    found = dict(zip(map(operator.attrgetter("pid"), processes), processes))
    found.pop(0, None)
    return found


def device_id_of(report: Part) -> str:
    """The device id `read_report` gives the report."""
    return _text(_get(_unwrap(report), "device_id"))


def read_report(report: Part, memo: ItemMemo | None = None) -> ReportView:
    """The view of an `AgentReport` message, its JSON dict, or a stored envelope dict; `memo`
    (kept by the caller, see `_views`) saves rebuilding the views of items seen before."""
    report = _unwrap(report)
    host, network, stats = _part(report, "host"), _part(report, "network"), _part(report, "agent_stats")
    processes = _views(_get(report, "processes"), _process, memo, "processes")
    return ReportView(
        device_id=device_id_of(report),
        os=OS_ALIASES.get(_text(_get(host, "os")).casefold()),
        timezone=_text(_get(host, "timezone")),
        locale=_text(_get(host, "locale")),
        keyboard_layouts=_strings(_get(host, "keyboard_layouts")),
        processes=processes,
        applications=_views(_get(report, "applications"), _application, memo, "applications"),
        usb_devices=_views(_get(report, "usb_devices"), _usb, memo, "usb_devices"),
        displays=_views(_get(report, "displays"), _display, memo, "displays"),
        interfaces=_views(_get(network, "interfaces"), _as_dict, memo, "interfaces"),
        ip_forwarding=bool(_get(network, "ip_forwarding")),
        connections=_views(_get(network, "connections"), _connection, memo, "connections"),
        listeners=_views(_get(network, "listeners"), _listener, memo, "listeners"),
        sessions=_views(_get(report, "sessions"), _session, memo, "sessions"),
        remote_access=tuple((_text(_get(s, "service")), bool(_get(s, "enabled")))
                            for s in _items(_get(report, "remote_access"))),
        probe_errors=tuple((_text(_get(e, "probe")), _text(_get(e, "error")))
                           for e in _items(_get(report, "probe_errors"))),
        probes_skipped=_strings(_get(stats, "probes_skipped")),
        processes_by_pid=_by_pid(processes),
        source=report,
    )
