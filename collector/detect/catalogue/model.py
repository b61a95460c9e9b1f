"""The catalogue's entries as the rules see them: tools, USB and EDID identities, hardware, and
the vocabulary a signature file may use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from farmwatch.collector.detect.catalogue.clean import normalise_name, path_matches

OSES = ("windows", "macos", "linux")

CATEGORIES = {"remote_desktop", "rmm", "vnc", "rdp", "tunnel", "vpn", "kvm_software", "jiggler"}
ROLES = {"host", "client", "management", "tunnel", "vpn", "input_sharing", "jiggler"}
LEVELS = ("low", "medium", "high")
HARDWARE_KINDS = {"ip_kvm", "capture", "jiggler", "injector", "gadget_default", "diy_board", "benign"}


class CatalogueError(ValueError):
    """The catalogue on disk is broken; `problems` names each file and entry."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid signature catalogue:\n  " + "\n  ".join(problems))
        self.problems = problems


def os_keys(os_name: str | None) -> tuple[str, ...]:
    return (os_name,) if os_name in OSES else OSES


@dataclass(frozen=True)
class Tool:
    id: str
    name: str
    category: str
    role: str
    relevance: str
    builtin: bool
    processes: dict[str, tuple[str, ...]]
    ambiguous_processes: tuple[str, ...]
    app_names: tuple[str, ...]
    bundle_ids: tuple[str, ...]
    services: dict[str, tuple[str, ...]]
    install_paths: dict[str, tuple[str, ...]]
    listen_ports: tuple[int, ...]
    signers: tuple[str, ...]
    session_processes: tuple[dict, ...]     # `session.processes`: {process, args?}, only while someone is connected in
    session_connections: tuple[dict, ...]   # `session.connections`: {process, args?, port}, held only during a session
    proxy_markers: tuple[str, ...]
    source: str
    client_names: frozenset[str] = frozenset()       # normalised viewer-side process names, any OS
    client_bundle_ids: frozenset[str] = frozenset()  # case-folded
    mesh: bool = False                               # an overlay whose members reach this laptop's listeners

    def is_client(self, names: Iterable[str], bundle_id: str) -> bool:
        """Is the process this tool's viewer, with which the laptop drives another machine?"""
        return bundle_id.casefold() in self.client_bundle_ids or any(
            normalise_name(n) in self.client_names for n in names)

    def runs_on(self, os_name: str | None) -> bool:
        """Does the catalogue know the tool on `os_name` (any OS when unknown)?"""
        per_os = (self.processes, self.services, self.install_paths)
        return os_name not in OSES or any(names.get(os_name) for names in per_os)

    def install_path_of(self, path: str, os_name: str | None) -> str | None:
        """The catalogue install path `path` lies under, if any."""
        for os_key in os_keys(os_name):
            for pattern in self.install_paths.get(os_key, ()):
                if path_matches(path, pattern):
                    return pattern
        return None


@dataclass(frozen=True)
class UsbIdentity:
    vendor_id: str = ""
    product_id: str = ""
    manufacturer: str = ""
    product: str = ""
    serial: str = ""
    requires_interface_classes: tuple[str, ...] = ()
    product_id_range: tuple[str, ...] = ()      # (first, last), inclusive: a block of one vendor's ids

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}

    def covers_product(self, product_id: str) -> bool:
        """Does the entry's product id, or its id range, take in `product_id`?"""
        if self.product_id_range:
            first, last = self.product_id_range
            return bool(product_id) and first <= product_id <= last
        return not self.product_id or self.product_id == product_id


@dataclass(frozen=True)
class EdidIdentity:
    manufacturer_id: str = ""
    product_code: int | None = None
    monitor_name: str = ""
    serial_string: str = ""
    serial_number: int | None = None    # the 32-bit serial of bytes 12-15: OSes that keep no EDID bytes still give it

    def fields(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.__dict__.items() if v not in ("", None)}
        if self.product_code is not None:
            shown["product_code"] = f"0x{self.product_code:04x}"
        if self.serial_number is not None:
            shown["serial_number"] = f"0x{self.serial_number:08x}"
        return shown


@dataclass(frozen=True)
class Hardware:
    id: str
    name: str
    kind: str
    confidence: str
    note: str
    source: str
    usb: UsbIdentity | None = None
    edid: EdidIdentity | None = None

    @property
    def specificity(self) -> int:
        """How many identity fields the entry pins down; more wins when several match."""
        identity = self.usb or self.edid
        return len(identity.fields()) if identity else 0
