"""Declarative pieces of a laptop: processes, applications, USB devices, displays, network facts.

A base laptop and every scenario are written as a `Delta` of these pieces; `Delta + Delta`
layers a scenario over a base. Text fields may use `{user}`, `{account}` and `{home}`, filled in
from the laptop's console user when the report is assembled.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from edid import MonitorSpec


@dataclass(frozen=True)
class Proc:
    exe: str                       # full path; the process name is its last component
    args: tuple[str, ...] = ()
    user: str = "{account}"
    parent: str = ""               # key of an earlier process
    key: str = ""                  # unique handle for parent/listener links; defaults to the name
    name: str = ""                 # only when the OS reports a name that is not the exe's basename
    signer: str = ""
    bundle_id: str = ""
    started: int | None = None     # seconds after boot; None: shortly before the scan
    argv0: str | None = None       # cmdline[0] when it differs from exe
    hide_exe: bool = False         # the OS refuses to reveal the path (protected processes)

    @property
    def process_name(self) -> str:
        return self.name or self.exe.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def handle(self) -> str:
        return self.key or self.process_name


@dataclass(frozen=True)
class App:
    name: str
    version: str = ""
    path: str = ""
    bundle_id: str = ""
    publisher: str = ""
    signer: str = ""
    source: str = ""


@dataclass(frozen=True)
class Iface:
    cls: str
    subclass: str
    protocol: str
    driver: str = ""


# Interface triples as the research writes them (class/subclass/protocol).
def iface(triple: str, driver: str = "") -> Iface:
    cls, sub, proto = triple.split("/")
    return Iface(cls, sub, proto, driver)


@dataclass(frozen=True)
class Usb:
    vendor_id: str
    product_id: str
    manufacturer: str = ""
    product: str = ""
    serial: str = ""
    device_class: str = "00"
    bcd_device: str = "0100"
    speed_mbps: float = 480.0
    bus_path: str = ""
    interfaces: tuple[Iface, ...] = ()


@dataclass(frozen=True)
class Screen:
    connector: str
    monitor: MonitorSpec
    built_in: bool = False
    # False: the OS gives no EDID bytes, only the identity it decoded (system_profiler on Apple
    # silicon: vendor, product, serial number, name and year, no size and no serial string)
    with_edid: bool = True


@dataclass(frozen=True)
class NetIface:
    name: str
    mac: str
    addresses: tuple[str, ...] = ()
    is_up: bool = True
    kind: str = "ethernet"


@dataclass(frozen=True)
class Listen:
    ip: str
    port: int
    process: str                   # a process handle
    protocol: str = "tcp"


@dataclass(frozen=True)
class Conn:
    local_ip: str
    local_port: int
    remote_ip: str
    remote_port: int
    process: str
    status: str = "ESTABLISHED"


@dataclass(frozen=True)
class Login:
    user: str
    terminal: str
    remote_host: str = ""
    started: int | None = None     # seconds after boot; None: shortly before the scan


@dataclass(frozen=True)
class Delta:
    """A set of facts to add to a laptop (or, for a base, the laptop's whole content)."""

    processes: tuple[Proc, ...] = ()
    applications: tuple[App, ...] = ()
    usb: tuple[Usb, ...] = ()
    displays: tuple[Screen, ...] = ()
    interfaces: tuple[NetIface, ...] = ()
    listeners: tuple[Listen, ...] = ()
    connections: tuple[Conn, ...] = ()
    sessions: tuple[Login, ...] = ()
    remote_access: tuple[tuple[str, bool], ...] = ()
    host: tuple[tuple[str, object], ...] = ()       # Host field overrides
    ip_forwarding: bool | None = None
    ended_sessions: tuple[str, ...] = ()             # terminals whose base login the scenario ends
    failed_probes: tuple[tuple[str, str], ...] = ()  # (probe, error): the report carries the error, not the section

    def __add__(self, other: Delta) -> Delta:
        merged = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "ip_forwarding":
                merged[f.name] = theirs if theirs is not None else mine
            else:
                merged[f.name] = mine + theirs
        return Delta(**merged)


def last_wins(pairs: tuple[tuple[str, object], ...]) -> dict[str, object]:
    """Later entries override earlier ones (scenario settings over the base's)."""
    return dict(pairs)


@dataclass(frozen=True)
class Identity:
    """How one laptop model names itself: serial format, host name, console account."""

    os: str
    os_version: str
    arch: str
    hardware_model: str
    serial_prefix: str
    serial_length: int
    hostname_format: str           # with {serial} or {serial_lower}
    login: str
    account: str
    home: str
    timezone: str
    utc_offset_minutes: int
    locale: str
    keyboard_layouts: tuple[str, ...]
    mac_oui: str                   # Wi-Fi adapter vendor prefix
    wifi_interface: str
    agent_version: str = "0.1.0"
    reports_bssid: bool = True     # macOS withholds it without Location Services consent
