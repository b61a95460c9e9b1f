"""A tidy, read-only view of one AgentReport dict, whoever produced it.

Input is the protobuf-JSON form (`MessageToDict(..., preserving_proto_field_name=True)` or
`farmwatch-agent scan` output): proto3 leaves out defaults, uint64 arrive as strings, `edid`
as base64, and reports from other tools may spell hex ids in upper case or with `0x`. Every
field the rules read is normalised here once, so rules never guess at spelling.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from farmwatch.collector.catalogue import normalise_hex, normalise_name, parse_product_code
from farmwatch.collector.detect.edid import decode_edid

OS_ALIASES = {"windows": "windows", "win32": "windows", "macos": "macos", "darwin": "macos", "mac": "macos",
              "osx": "macos", "linux": "linux"}
BUILT_IN_CONNECTORS = re.compile(r"(^|-)(edp|lvds|dsi)(-|$)", re.IGNORECASE)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _items(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def basename(path: str) -> str:
    """Last path component of a Windows or POSIX path."""
    return posixpath.basename(path.replace("\\", "/")) if path else ""


def plain_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address without zone or IPv4-mapped wrapping; None for names and blanks."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0].strip("[]"))
    except ValueError:
        return None
    return ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip


def is_loopback(address: str) -> bool:
    ip = plain_ip(address)
    return ip is not None and ip.is_loopback


@dataclass(frozen=True)
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
        """The names the process goes by: its name and its executable's file name."""
        found = [n for n in (self.name, basename(self.name), basename(self.exe)) if n]
        return tuple(dict.fromkeys(found))

    @property
    def normalised_names(self) -> tuple[str, ...]:
        return tuple(normalise_name(n) for n in self.names)

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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class UsbInterfaceView:
    klass: str
    subclass: str
    protocol: str
    driver: str

    @property
    def triple(self) -> str:
        return f"{self.klass}/{self.subclass}/{self.protocol}"


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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

    def process_of(self, pid: int, process_name: str = "") -> ProcessView | None:
        """The reported process behind a connection or listener (by pid, else by name)."""
        if pid and pid in self.processes_by_pid:
            return self.processes_by_pid[pid]
        key = normalise_name(process_name)
        return next((p for p in self.processes if key and normalise_name(p.name) == key), None)


def _process(raw: dict) -> ProcessView:
    return ProcessView(pid=_int(raw.get("pid")), name=_text(raw.get("name")), exe=_text(raw.get("exe")),
                       cmdline=_strings(raw.get("cmdline")), username=_text(raw.get("username")),
                       signer=_text(raw.get("signer")), bundle_id=_text(raw.get("bundle_id")))


def _application(raw: dict) -> ApplicationView:
    return ApplicationView(name=_text(raw.get("name")), version=_text(raw.get("version")), path=_text(raw.get("path")),
                           bundle_id=_text(raw.get("bundle_id")), publisher=_text(raw.get("publisher")),
                           signer=_text(raw.get("signer")), source=_text(raw.get("source")).casefold())


def _interface(raw: dict) -> UsbInterfaceView:
    return UsbInterfaceView(klass=normalise_hex(raw.get("interface_class"), 2),
                            subclass=normalise_hex(raw.get("interface_subclass"), 2) or "00",
                            protocol=normalise_hex(raw.get("interface_protocol"), 2) or "00",
                            driver=_text(raw.get("driver")))


def _usb(raw: dict) -> UsbView:
    return UsbView(vendor_id=normalise_hex(raw.get("vendor_id"), 4), product_id=normalise_hex(raw.get("product_id"), 4),
                   manufacturer=_text(raw.get("manufacturer")), product=_text(raw.get("product")),
                   serial=_text(raw.get("serial")), device_class=normalise_hex(raw.get("device_class"), 2),
                   bus_path=_text(raw.get("bus_path")),
                   interfaces=tuple(_interface(i) for i in _items(raw.get("interfaces"))))


def _edid_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if not isinstance(value, str) or not value:
        return b""
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_" if "-" in value or "_" in value else None)
    except (binascii.Error, ValueError):
        return b""


def _product_code(value: Any) -> int | None:
    """uint32 as a number or string; other tools may write hex ("0x7773")."""
    try:
        return parse_product_code(value)
    except (TypeError, ValueError):
        return None


def _display(raw: dict) -> DisplayView:
    decoded = decode_edid(_edid_bytes(raw.get("edid")))
    connector = _text(raw.get("connector"))
    product_code = _product_code(raw.get("product_code"))
    if product_code is None and decoded:
        product_code = decoded.product_code
    return DisplayView(
        connector=connector,
        manufacturer_id=(_text(raw.get("manufacturer_id")) or (decoded.manufacturer_id if decoded else "")).upper(),
        product_code=product_code,
        serial_number=_int(raw.get("serial_number")) or (decoded.serial_number if decoded else 0),
        monitor_name=_text(raw.get("monitor_name")) or (decoded.monitor_name if decoded else ""),
        serial_string=_text(raw.get("serial_string")) or (decoded.serial_string if decoded else ""),
        width_mm=_int(raw.get("width_mm")) or (decoded.width_mm if decoded else 0),
        height_mm=_int(raw.get("height_mm")) or (decoded.height_mm if decoded else 0),
        built_in=bool(raw.get("built_in")) or bool(BUILT_IN_CONNECTORS.search(connector)),
    )


def _connection(raw: dict) -> ConnectionView:
    return ConnectionView(local_ip=_text(raw.get("local_ip")), local_port=_int(raw.get("local_port")),
                          remote_ip=_text(raw.get("remote_ip")), remote_port=_int(raw.get("remote_port")),
                          status=_text(raw.get("status")).upper(), pid=_int(raw.get("pid")),
                          process_name=_text(raw.get("process_name")))


def _listener(raw: dict) -> ListenerView:
    return ListenerView(ip=_text(raw.get("ip")), port=_int(raw.get("port")),
                        protocol=_text(raw.get("protocol")).casefold() or "tcp", pid=_int(raw.get("pid")),
                        process_name=_text(raw.get("process_name")))


def _session(raw: dict) -> SessionView:
    return SessionView(user=_text(raw.get("user")), terminal=_text(raw.get("terminal")),
                       remote_host=_text(raw.get("remote_host")), started_at=_text(raw.get("started_at")))


def _unwrap(report: dict) -> dict:
    """A stored envelope (`{"received_at", "peer_ip", "report"}`) holds the report inside."""
    inner = report.get("report")
    return inner if isinstance(inner, dict) and "received_at" in report else report


def read_report(report: dict) -> ReportView:
    report = _unwrap(report)
    host = report.get("host") if isinstance(report.get("host"), dict) else {}
    network = report.get("network") if isinstance(report.get("network"), dict) else {}
    stats = report.get("agent_stats") if isinstance(report.get("agent_stats"), dict) else {}
    processes = tuple(_process(p) for p in _items(report.get("processes")))
    return ReportView(
        device_id=_text(report.get("device_id")),
        os=OS_ALIASES.get(_text(host.get("os")).casefold()),
        timezone=_text(host.get("timezone")),
        locale=_text(host.get("locale")),
        keyboard_layouts=_strings(host.get("keyboard_layouts")),
        processes=processes,
        applications=tuple(_application(a) for a in _items(report.get("applications"))),
        usb_devices=tuple(_usb(u) for u in _items(report.get("usb_devices"))),
        displays=tuple(_display(d) for d in _items(report.get("displays"))),
        interfaces=tuple(_items(network.get("interfaces"))),
        ip_forwarding=bool(network.get("ip_forwarding")),
        connections=tuple(_connection(c) for c in _items(network.get("connections"))),
        listeners=tuple(_listener(x) for x in _items(network.get("listeners"))),
        sessions=tuple(_session(s) for s in _items(report.get("sessions"))),
        remote_access=tuple((_text(s.get("service")), bool(s.get("enabled"))) for s in _items(report.get("remote_access"))),
        probe_errors=tuple((_text(e.get("probe")), _text(e.get("error"))) for e in _items(report.get("probe_errors"))),
        probes_skipped=_strings(stats.get("probes_skipped")),
        processes_by_pid={p.pid: p for p in processes if p.pid},
    )
