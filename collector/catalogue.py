"""The signature catalogue: remote-control tools, IP-KVM and other hardware, network hints.

Signatures are data (DESIGN.md): JSON files in `collector/signatures/`, each an object with
`"schema": 1`, a `"kind"` and one list of entries:

| kind           | list key          | one entry is                                              |
| -------------- | ----------------- | --------------------------------------------------------- |
| `remote_tools` | `tools`           | a remote-control / RMM / tunnel / VPN tool (per-OS names)  |
| `hardware`     | `devices`         | one USB or EDID identity of a KVM, capture chip, jiggler…  |
| `network`      | `proxy_ports`, `forwarding_interfaces` | proxy ports, benign forwarding bridges |
| `context`      | `input_languages` | keyboard/IME markers (info only)                          |

A folder may hold several files of one kind (a company can add `local_tools.json`); ids must
stay unique across them. Every entry names its `source`.

`load_catalogue()` validates, then builds the lookup indexes the rules use. Names are
compared after `normalise_name` (case-folded, `.exe`/`.app` dropped), USB ids as 4 lowercase
hex digits, PNP ids upper-case, so reports from other tools match however they spell them.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

BUNDLED = Path(__file__).with_name("signatures")
SCHEMA_VERSION = 1
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


# --------------------------------------------------------------------------- normalisation

# What a browser appends to a file downloaded twice: `AnyDesk (1).exe`.
DUPLICATE_SUFFIX = re.compile(r"\s*\(\d+\)$")


def normalise_name(name: str | None) -> str:
    """Case-folded executable/app name without a trailing `.exe` or `.app` or a browser's ` (N)`."""
    text = (name or "").strip().casefold()
    for suffix in (".exe", ".app"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return DUPLICATE_SUFFIX.sub("", text) or text


def normalise_hex(value: Any, digits: int) -> str:
    """`"0x1D6B"`, `"1D6B"`, `7531` → `"1d6b"`; empty for missing or unreadable values."""
    if value is None or value == "":
        return ""
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().lower().removeprefix("0x")
        if not re.fullmatch(r"[0-9a-f]+", text):
            return ""
        number = int(text, 16)
    return format(number, f"0{digits}x")


def normalise_path(path: str | None) -> str:
    """Case-folded, forward-slashed path, so Windows and POSIX paths compare alike."""
    return (path or "").strip().replace("\\", "/").casefold()


def normalise_text(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def parse_product_code(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    return int(text, 16) if text.startswith("0x") else int(text)


def is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


# Folders that hold many programs: an install path naming one of these names no tool of its own.
SHARED_FOLDERS = {"", "bin", "sbin", "lib", "libexec", "share", "usr", "local", "opt", "etc", "var", "tmp", "temp",
                  "windows", "system32", "syswow64", "program files", "program files (x86)", "programdata", "users",
                  "appdata", "roaming", "downloads", "desktop", "documents", "applications", "library",
                  "application support", "launchagents", "launchdaemons", "privilegedhelpertools"}
# Folders that hold a tool's viewer, the side that drives other machines ("LiteManager Pro – Viewer",
# Splashtop's "Client for RMM"): a process there is no sign that this machine is driven.
VIEWER_FOLDER = re.compile(r"/[^/]*(?:viewer|client for)[^/]*/")
# Certificate subjects that sign an OS, a browser or many unrelated products besides a remote-control
# tool (Google signs Chrome as well as Chrome Remote Desktop; Parallels signs Parallels Desktop).
GENERIC_SIGNERS = {"microsoft corporation", "microsoft windows", "microsoft windows publisher", "apple inc.",
                   "google llc", "google inc", "tencent technology (shenzhen) company limited",
                   "alibaba (china) network technology co.,ltd.", "taobao (china) software co.,ltd.",
                   "parallels international gmbh", "unity technologies sf", "eset, spol. s r.o.", "idrive, inc.",
                   "quest software inc.", "rocket software, inc.", "kaseya holdings inc.", "electronic team, inc.",
                   "lg uplus corp.", "北京火绒网络科技有限公司", "中移动信息技术有限公司"}


def is_own_folder(pattern: str) -> bool:
    """Does the install path name a folder of the tool's own (`C:\\Program Files\\AnyDesk\\*`), whose
    every file is the tool's, rather than a file, a glob of names, or a folder many programs share?"""
    pat = normalise_path(pattern)
    if pat.endswith(".app"):  # a macOS app bundle is a folder of the tool's own
        pat += "/*"
    if not pat.endswith("/*"):
        return False
    folder = pat[:-2].rsplit("/", 1)[-1]
    return not is_glob(folder) and folder not in SHARED_FOLDERS and not VIEWER_FOLDER.search(pat)


def path_matches(path: str, pattern: str) -> bool:
    """Does `path` lie at or under the catalogue/allow-list path `pattern` (glob allowed)?"""
    target, pat = normalise_path(path), normalise_path(pattern)
    if not target or not pat:
        return False
    if pat.startswith("~/"):
        pat = "*/" + pat[2:]
    if is_glob(pat):
        folder = pat.removesuffix("/*")  # "X/*" also names the install folder X itself
        return any(fnmatch.fnmatchcase(target, p) for p in (pat, pat.rstrip("/") + "/*", folder))
    return target == pat.rstrip("/") or target.startswith(pat.rstrip("/") + "/")


# --------------------------------------------------------------------------- entries

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
    session_markers: tuple[dict, ...]
    proxy_markers: tuple[str, ...]
    source: str
    client_names: frozenset[str] = frozenset()       # normalised viewer-side process names, any OS
    client_bundle_ids: frozenset[str] = frozenset()  # case-folded

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
        for os_key in _oses(os_name):
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


@dataclass
class Catalogue:
    tools: list[Tool]
    hardware: list[Hardware]
    proxy_ports: dict[int, str] = field(default_factory=dict)
    forwarding_interfaces: list[dict] = field(default_factory=list)
    input_languages: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tools_by_id = {t.id: t for t in self.tools}
        self.hardware_by_id = {h.id: h for h in self.hardware}
        self._index_tools()
        self._index_hardware()

    # ---- indexes
    def _index_tools(self) -> None:
        self.process_names: dict[tuple[str, str], list[tuple[Tool, str]]] = defaultdict(list)
        self.process_globs: dict[tuple[str, str], list[tuple[str, Tool, str]]] = defaultdict(list)
        self.ambiguous_names: dict[str, list[Tool]] = defaultdict(list)
        self.app_names: dict[str, list[Tool]] = defaultdict(list)
        self.bundle_ids: dict[str, list[Tool]] = defaultdict(list)
        self.service_names: dict[tuple[str, str], list[tuple[Tool, str]]] = defaultdict(list)
        self.service_globs: dict[tuple[str, str], list[tuple[str, Tool, str]]] = defaultdict(list)
        self.listen_ports: dict[int, list[Tool]] = defaultdict(list)
        for tool in self.tools:
            _index_names(tool, tool.processes, self.process_names, self.process_globs, normalise_name)
            _index_names(tool, tool.services, self.service_names, self.service_globs, _service_key)
            for name in tool.ambiguous_processes:
                self.ambiguous_names[normalise_name(name)].append(tool)
            for name in tool.app_names:
                self.app_names[normalise_name(name)].append(tool)
            for bundle in tool.bundle_ids:
                self.bundle_ids[bundle.casefold()].append(tool)
            for port in tool.listen_ports:
                self.listen_ports[port].append(tool)
        self.long_linux_names = [(known, tool, name) for (os_name, known), found in self.process_names.items()
                                 if os_name == "linux" for tool, name in found]
        self.viewer_tools = [t for t in self.tools if t.client_names or t.client_bundle_ids]
        self._index_signers()
        self._index_install_folders()

    def _index_signers(self) -> None:
        by_signer: dict[str, set[str]] = defaultdict(set)
        for tool in self.tools:
            for signer in tool.signers:
                by_signer[normalise_text(signer)].add(tool.id)
        self.signer_tools = {signer: self.tools_by_id[next(iter(ids))] for signer, ids in by_signer.items()
                             if len(ids) == 1 and signer not in GENERIC_SIGNERS}

    def _index_install_folders(self) -> None:
        """Per OS, `(literal head, matcher, pattern, tool)`: the head rules most folders out before any glob runs."""
        self.install_folders: dict[str, list[tuple[str, re.Pattern, str, Tool]]] = defaultdict(list)
        for tool in self.tools:
            for os_name, patterns in tool.install_paths.items():
                own = [p for p in patterns if is_own_folder(p) and not _viewer_bundle(tool, p)]
                self.install_folders[os_name] += [(*_folder_matcher(p), p, tool) for p in own if not tool.builtin]

    def _index_hardware(self) -> None:
        self.usb_by_id: dict[str, list[Hardware]] = defaultdict(list)
        self.usb_by_vendor: dict[str, list[Hardware]] = defaultdict(list)
        self.usb_by_strings: list[Hardware] = []
        self.edid_by_identity: dict[tuple[str, int], list[Hardware]] = defaultdict(list)
        self.edid_by_vendor: dict[str, list[Hardware]] = defaultdict(list)
        self.edid_by_name: dict[str, list[Hardware]] = defaultdict(list)
        for entry in self.hardware:
            if entry.usb:
                self._index_usb(entry, entry.usb)
            if entry.edid:
                self._index_edid(entry, entry.edid)

    def _index_usb(self, entry: Hardware, ident: UsbIdentity) -> None:
        if ident.vendor_id and ident.product_id:
            self.usb_by_id[f"{ident.vendor_id}:{ident.product_id}"].append(entry)
        elif ident.vendor_id:
            self.usb_by_vendor[ident.vendor_id].append(entry)
        else:
            self.usb_by_strings.append(entry)

    def _index_edid(self, entry: Hardware, ident: EdidIdentity) -> None:
        if ident.manufacturer_id and ident.product_code is not None:
            self.edid_by_identity[(ident.manufacturer_id, ident.product_code)].append(entry)
        elif ident.manufacturer_id:
            self.edid_by_vendor[ident.manufacturer_id].append(entry)
        else:
            self.edid_by_name[normalise_text(ident.monitor_name)].append(entry)

    # ---- lookups
    def tools_for_process(self, os_name: str | None, name: str) -> list[tuple[Tool, str]]:
        """Tools whose executable list holds `name` on `os_name` (every OS when unknown)."""
        return _lookup(os_name, normalise_name(name), self.process_names, self.process_globs)

    def tools_for_service(self, os_name: str | None, name: str) -> list[tuple[Tool, str]]:
        return _lookup(os_name, _service_key(name), self.service_names, self.service_globs)

    def is_viewer(self, names: Iterable[str], bundle_id: str) -> bool:
        """Is the process some catalogued tool's viewer (the side that drives another machine)?"""
        return any(tool.is_client(names, bundle_id) for tool in self.viewer_tools)

    def tool_signed_by(self, signer: str) -> Tool | None:
        """The one tool whose publisher signs with `signer`; None for signers shared or generic."""
        return self.signer_tools.get(normalise_text(signer)) if signer else None

    def tools_installed_in(self, path: str, os_name: str | None) -> list[tuple[Tool, str]]:
        """Tools (not part of the OS) with an install folder that holds `path`."""
        target = normalise_path(path)
        if VIEWER_FOLDER.search(target):
            return []
        found = [(tool, pattern) for os_key in _oses(os_name)
                 for head, matcher, pattern, tool in self.install_folders.get(os_key, ())
                 if target.startswith(head) and matcher.match(target)]
        return _unique_tools(found)

    def usb_candidates(self, vendor_id: str, product_id: str) -> list[Hardware]:
        return (self.usb_by_id.get(f"{vendor_id}:{product_id}", []) + self.usb_by_vendor.get(vendor_id, [])
                + self.usb_by_strings)

    def edid_candidates(self, manufacturer_id: str, product_code: int | None, monitor_name: str) -> list[Hardware]:
        found = list(self.edid_by_vendor.get(manufacturer_id, []))
        if product_code is not None:
            found += self.edid_by_identity.get((manufacturer_id, product_code), [])
        return found + self.edid_by_name.get(normalise_text(monitor_name), [])

    @property
    def size(self) -> dict[str, int]:
        return {"tools": len(self.tools), "hardware": len(self.hardware)}


def _oses(os_name: str | None) -> tuple[str, ...]:
    return (os_name,) if os_name in OSES else OSES


def _viewer_bundle(tool: Tool, pattern: str) -> bool:
    """Is `pattern` the app bundle of the tool's viewer (`/Applications/Jump Desktop.app`)?"""
    bundle = pattern.replace("\\", "/").rsplit("/", 1)[-1]
    return bundle.casefold().endswith(".app") and normalise_name(bundle) in tool.client_names


def _folder_matcher(pattern: str) -> tuple[str, re.Pattern]:
    """For an install folder `X/*`: its text up to the first wildcard, and a regex for X and all
    below it — `path_matches(path, pattern)` compiled once."""
    pat = normalise_path(pattern)
    folder = ("*/" + pat[2:] if pat.startswith("~/") else pat).removesuffix("/*")
    matcher = re.compile(f"(?:{fnmatch.translate(folder)})|(?:{fnmatch.translate(folder + '/*')})")
    return re.split(r"[*?\[]", folder, maxsplit=1)[0], matcher


def _service_key(name: str) -> str:
    key = (name or "").strip().casefold()
    return key.removesuffix(".service")


def _glob_bucket(pattern: str) -> str:
    """Globs are filed under their first character so a lookup tries only a few of them."""
    return "" if is_glob(pattern[:1]) else pattern[:1]


def _index_names(tool: Tool, per_os: dict, exact: dict, globs: dict, key: Callable[[str], str]) -> None:
    for os_name, names in per_os.items():
        for name in names:
            normal = key(name)
            if is_glob(normal):
                globs[(os_name, _glob_bucket(normal))].append((normal, tool, name))
            else:
                exact[(os_name, normal)].append((tool, name))


def _lookup(os_name: str | None, key: str, exact: dict, globs: dict) -> list[tuple[Tool, str]]:
    if not key:
        return []
    found: list[tuple[Tool, str]] = []
    for os_key in _oses(os_name):
        found += exact.get((os_key, key), [])
        candidates = globs.get((os_key, key[0]), []) + globs.get((os_key, ""), [])
        found += [(tool, name) for pattern, tool, name in candidates if fnmatch.fnmatchcase(key, pattern)]
    return _unique_tools(found)


def _unique_tools(found: Iterable[tuple[Tool, str]]) -> list[tuple[Tool, str]]:
    seen: dict[str, tuple[Tool, str]] = {}
    for tool, name in found:
        seen.setdefault(tool.id, (tool, name))
    return list(seen.values())


# --------------------------------------------------------------------------- schema check

Check = Callable[[Any], str | None]


def _is_str(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty string"


def _is_opt_str(v: Any) -> str | None:
    return None if v is None or isinstance(v, str) else "must be a string or null"


def _is_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _is_str_list(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        return "must be a list of non-empty strings"
    return None if len(set(v)) == len(v) else "has duplicates"


def _is_port_list(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in v)
    return None if ok else "must be a list of port numbers (1-65535)"


def _one_of(*choices: str) -> Check:
    return lambda v: None if v in choices else f"must be one of {', '.join(sorted(choices))}"


def _per_os(v: Any) -> str | None:
    if not isinstance(v, dict) or set(v) - set(OSES):
        return f"must be an object with keys among {', '.join(OSES)}"
    for os_name, names in v.items():
        if problem := _is_str_list(names):
            return f"[{os_name}] {problem}"
    return None


def _is_hex(digits: int) -> Check:
    pattern = re.compile(rf"[0-9a-f]{{{digits}}}")
    return lambda v: None if isinstance(v, str) and pattern.fullmatch(v) else f"must be {digits} lowercase hex digits"


def _is_id_range(v: Any) -> str | None:
    ok = isinstance(v, list) and len(v) == 2 and not any(map(_is_hex(4), v)) and v[0] < v[1]
    return None if ok else "must be [first, last]: two ascending product ids of 4 lowercase hex digits"


def _is_pnp(v: Any) -> str | None:
    return None if isinstance(v, str) and re.fullmatch(r"[A-Z@_]{3}", v) else "must be a 3-letter upper-case PNP id"


def _is_serial_number(v: Any) -> str | None:
    try:
        number = parse_product_code(v)
    except ValueError:
        number = None
    return None if number is not None and 0 < number <= 0xFFFFFFFF else "must be a 32-bit EDID serial number ('0x39363945')"


def _is_product_code(v: Any) -> str | None:
    try:
        code = parse_product_code(v)
    except ValueError:
        code = None
    return None if code is not None and 0 <= code <= 0xFFFF else "must be a 16-bit product code ('0x7773' or 30579)"


def _is_slug(v: Any) -> str | None:
    ok = isinstance(v, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", v)
    return None if ok else "must be a lowercase slug (a-z, 0-9, -)"


def _is_session_markers(v: Any) -> str | None:
    ok = isinstance(v, list) and all(
        isinstance(m, dict) and {"process", "args", "source"} <= set(m) and all(isinstance(m[k], str) and m[k] for k in m)
        for m in v)
    return None if ok else "must be a list of {process, args, source} objects"


TOOL_FIELDS: dict[str, Check] = {
    "id": _is_slug,
    "name": _is_str, "category": _one_of(*CATEGORIES), "role": _one_of(*ROLES),
    "client_app_names": _is_str_list, "client_bundle_ids": _is_str_list,
    "relevance": _one_of(*LEVELS), "builtin": _is_bool, "processes": _per_os, "client_processes": _per_os,
    "ambiguous_processes": _is_str_list, "app_names": _is_str_list, "bundle_ids": _is_str_list,
    "macos_team_ids": _is_str_list, "services": _per_os, "install_paths": _per_os,
    "listen_ports": _is_port_list, "ports": _is_port_list, "domains": _is_str_list, "signers": _is_str_list,
    "cmdline_markers": _is_str_list, "session_markers": _is_session_markers, "proxy_markers": _is_str_list,
    "source": _is_str, "sources": _is_str_list, "notes": _is_opt_str,
}
TOOL_OPTIONAL = {"client_processes", "client_app_names", "client_bundle_ids", "macos_team_ids", "ports", "domains", "cmdline_markers", "sources", "notes",
                 "session_markers", "proxy_markers", "signers", "ambiguous_processes"}

USB_FIELDS: dict[str, Check] = {
    "vendor_id": _is_hex(4), "product_id": _is_hex(4), "manufacturer": _is_str, "product": _is_str,
    "serial": _is_str, "requires_interface_classes": lambda v: _is_str_list(v) or next(
        (f"'{c}' must be 2 lowercase hex digits" for c in v if not re.fullmatch(r"[0-9a-f]{2}", c)), None),
    "product_id_range": _is_id_range,
}
EDID_FIELDS: dict[str, Check] = {
    "manufacturer_id": _is_pnp, "product_code": _is_product_code, "monitor_name": _is_str, "serial_string": _is_str,
    "serial_number": _is_serial_number,
}
HARDWARE_FIELDS: dict[str, Check] = {
    "id": _is_slug, "name": _is_str, "kind": _one_of(*HARDWARE_KINDS), "confidence": _one_of(*LEVELS),
    "note": _is_str, "source": _is_str, "usb": lambda v: None, "edid": lambda v: None,
}


def _check_fields(entry: Any, spec: dict[str, Check], optional: set[str], where: str) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where}: must be an object"]
    problems = [f"{where}: unknown field '{k}'" for k in sorted(set(entry) - set(spec))]
    for key, check in spec.items():
        if key not in entry:
            if key not in optional:
                problems.append(f"{where}: missing field '{key}'")
        elif problem := check(entry[key]):
            problems.append(f"{where}: field '{key}' {problem}")
    return problems


def _label(entry: Any, index: int, noun: str) -> str:
    ident = entry.get("id") if isinstance(entry, dict) else None
    return f"{noun} '{ident}' (#{index})" if ident else f"{noun} #{index}"


def _check_tool(entry: Any, where: str) -> list[str]:
    problems = _check_fields(entry, TOOL_FIELDS, TOOL_OPTIONAL, where)
    if problems:
        return problems
    per_os = [entry[k].get(o) for k in ("processes", "services") for o in OSES]
    others = ("app_names", "bundle_ids", "domains", "listen_ports")
    if not any(per_os) and not any(entry.get(k) for k in others):
        problems.append(f"{where}: names no process, application, bundle id, service, domain or port to match on")
    return problems


def _check_hardware(entry: Any, where: str) -> list[str]:
    problems = _check_fields(entry, HARDWARE_FIELDS, {"usb", "edid"}, where)
    if problems:
        return problems
    identities = [k for k in ("usb", "edid") if k in entry]
    if len(identities) != 1:
        return [f"{where}: needs exactly one of 'usb' or 'edid'"]
    key = identities[0]
    spec = USB_FIELDS if key == "usb" else EDID_FIELDS
    problems = _check_fields(entry[key], spec, set(spec), f"{where} {key}")
    matchable = set(entry[key]) - {"requires_interface_classes"} if isinstance(entry[key], dict) else set()
    if not problems and not matchable:
        problems.append(f"{where} {key}: names no identity field to match on")
    if not problems and key == "usb":
        problems += _check_usb_product(entry[key], where)
    return problems


def _check_usb_product(usb: dict, where: str) -> list[str]:
    named = [k for k in ("product_id", "product_id_range") if k in usb]
    if len(named) > 1:
        return [f"{where} usb: give a product_id or a product_id_range, not both"]
    if named and "vendor_id" not in usb:
        return [f"{where} usb: a {named[0]} needs its vendor_id"]
    return []


def _check_proxy_port(entry: Any, where: str) -> list[str]:
    spec = {"port": lambda v: _is_port_list([v]), "protocol": _one_of("tcp", "udp"), "name": _is_str, "source": _is_str}
    return _check_fields(entry, spec, set(), where)


def _check_forwarding(entry: Any, where: str) -> list[str]:
    return _check_fields(entry, {"pattern": _is_str, "reason": _is_str, "source": _is_str}, set(), where)


def _check_language(entry: Any, where: str) -> list[str]:
    spec = {"id": _is_str, "name": _is_str, "markers": _is_str_list, "source": _is_str}
    return _check_fields(entry, spec, set(), where)


KINDS: dict[str, dict[str, tuple[str, Callable[[Any, str], list[str]]]]] = {
    "remote_tools": {"tools": ("tool", _check_tool)},
    "hardware": {"devices": ("device", _check_hardware)},
    "network": {"proxy_ports": ("proxy port", _check_proxy_port),
                "forwarding_interfaces": ("forwarding interface", _check_forwarding)},
    "context": {"input_languages": ("input language", _check_language)},
}


def _read_json(path: Path) -> tuple[Any, list[str]]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), []
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path.name}: cannot read: {exc}"]
    except json.JSONDecodeError as exc:
        return None, [f"{path.name}: not valid JSON: {exc}"]


def _check_document(name: str, doc: Any) -> list[str]:
    if not isinstance(doc, dict):
        return [f"{name}: must be a JSON object"]
    if doc.get("schema") != SCHEMA_VERSION:
        return [f"{name}: 'schema' must be {SCHEMA_VERSION}"]
    lists = KINDS.get(doc.get("kind"))
    if lists is None:
        return [f"{name}: 'kind' must be one of {', '.join(sorted(KINDS))}"]
    problems = [f"{name}: unknown key '{k}'" for k in sorted(set(doc) - {"schema", "kind", *lists})]
    for key, (noun, check) in lists.items():
        entries = doc.get(key, [])
        if not isinstance(entries, list):
            problems.append(f"{name}: '{key}' must be a list")
            continue
        for index, entry in enumerate(entries):
            problems += check(entry, f"{name}: {_label(entry, index, noun)}")
    return problems


def _signature_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.json")) if path.is_dir() else [path]


def _read_documents(path: Path) -> tuple[list[tuple[str, dict]], list[str]]:
    if not path.exists():
        return [], [f"{path}: no such file or folder"]
    documents, problems = [], []
    for file in _signature_files(path):
        doc, read_problems = _read_json(file)
        found = read_problems or _check_document(file.name, doc)
        problems += found
        if not found:
            documents.append((file.name, doc))
    problems += _check_unique_ids(documents)
    return documents, problems


def _check_unique_ids(documents: list[tuple[str, dict]]) -> list[str]:
    seen: dict[tuple[str, str], str] = {}
    problems = []
    for name, doc in documents:
        for key in KINDS[doc["kind"]]:
            for entry in doc.get(key, []):
                ident = entry.get("id")
                if ident is None:
                    continue
                first = seen.setdefault((key, ident), name)
                if first != name or sum(1 for e in doc.get(key, []) if e.get("id") == ident) > 1:
                    problems.append(f"{name}: {key[:-1]} '{ident}' duplicates an id already used in {first}")
    return sorted(set(problems))


def validate_catalogue(path: str | Path | None = None) -> list[str]:
    """Human-readable problems (file and entry named) in a catalogue folder or file; [] if valid."""
    return _read_documents(Path(path) if path else BUNDLED)[1]


# --------------------------------------------------------------------------- building

# A launchd job's label names its plist (`/Library/LaunchDaemons/<label>.plist`), so a plist among a
# tool's macOS install paths names a job of the tool, as the agent reports it.
LAUNCHD_PLIST = re.compile(r"(?:^|/)library/launch(?:agents|daemons)/([^/*?\[]+)\.plist$", re.IGNORECASE)


def launchd_labels(paths: Iterable[str]) -> tuple[str, ...]:
    """The launchd labels named by the plist files among `paths`."""
    found = (LAUNCHD_PLIST.search(p.replace("\\", "/")) for p in paths)
    return tuple(m.group(1) for m in found if m)


def _services(entry: dict) -> dict[str, tuple[str, ...]]:
    """Service names per OS: those listed, and on macOS the labels of the tool's launchd plists."""
    services = {o: tuple(entry["services"].get(o, ())) for o in OSES}
    plists = launchd_labels(entry["install_paths"].get("macos", ()))
    services["macos"] = tuple(dict.fromkeys(services["macos"] + plists))
    return services


def _tool(entry: dict) -> Tool:
    def per_os(key: str) -> dict[str, tuple[str, ...]]:
        return {o: tuple(entry[key].get(o, ())) for o in OSES}
    return Tool(
        id=entry["id"], name=entry["name"], category=entry["category"], role=entry["role"],
        relevance=entry["relevance"], builtin=entry["builtin"], processes=per_os("processes"),
        ambiguous_processes=tuple(entry.get("ambiguous_processes", ())), app_names=tuple(entry["app_names"]),
        bundle_ids=tuple(entry["bundle_ids"]), services=_services(entry),
        install_paths=per_os("install_paths"),
        listen_ports=tuple(entry["listen_ports"]), signers=tuple(entry.get("signers", ())),
        session_markers=tuple(entry.get("session_markers", ())), proxy_markers=tuple(entry.get("proxy_markers", ())),
        source=entry["source"],
        client_names=frozenset(normalise_name(n) for names in entry.get("client_processes", {}).values() for n in names),
        client_bundle_ids=frozenset(b.casefold() for b in entry.get("client_bundle_ids", ())),
    )


def _hardware(entry: dict) -> Hardware:
    usb = edid = None
    if "usb" in entry:
        raw = entry["usb"]
        usb = UsbIdentity(
            vendor_id=raw.get("vendor_id", ""), product_id=raw.get("product_id", ""),
            manufacturer=raw.get("manufacturer", ""), product=raw.get("product", ""), serial=raw.get("serial", ""),
            requires_interface_classes=tuple(raw.get("requires_interface_classes", ())),
            product_id_range=tuple(raw.get("product_id_range", ())))
    else:
        raw = entry["edid"]
        edid = EdidIdentity(
            manufacturer_id=raw.get("manufacturer_id", ""), product_code=parse_product_code(raw.get("product_code")),
            monitor_name=raw.get("monitor_name", ""), serial_string=raw.get("serial_string", ""),
            serial_number=parse_product_code(raw.get("serial_number")))
    return Hardware(id=entry["id"], name=entry["name"], kind=entry["kind"], confidence=entry["confidence"],
                    note=entry["note"], source=entry["source"], usb=usb, edid=edid)


def _build(documents: list[tuple[str, dict]]) -> Catalogue:
    parts: dict[str, list] = defaultdict(list)
    for _, doc in documents:
        for key in KINDS[doc["kind"]]:
            parts[key] += doc.get(key, [])
    return Catalogue(
        tools=[_tool(e) for e in parts["tools"]],
        hardware=[_hardware(e) for e in parts["devices"]],
        proxy_ports={e["port"]: e["name"] for e in parts["proxy_ports"]},
        forwarding_interfaces=list(parts["forwarding_interfaces"]),
        input_languages=list(parts["input_languages"]),
    )


@functools.lru_cache(maxsize=1)
def _bundled() -> Catalogue:
    return _load(BUNDLED)


def _load(path: Path) -> Catalogue:
    documents, problems = _read_documents(path)
    if problems:
        raise CatalogueError(problems)
    return _build(documents)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and index a catalogue folder (default: the bundled one, loaded once and cached).

    Raises `CatalogueError` listing every problem when a file does not validate.
    """
    return _bundled() if path is None else _load(Path(path))
