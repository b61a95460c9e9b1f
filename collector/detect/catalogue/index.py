"""The loaded catalogue and the lookup indexes the rules query (by process, service, install
folder, signer, USB id, EDID identity)."""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

from farmwatch.collector.detect.catalogue.clean import (VIEWER_FOLDER, is_glob, is_own_folder, normalise_name,
                                                        normalise_path, normalise_text)
from farmwatch.collector.detect.catalogue.model import EdidIdentity, Hardware, Tool, UsbIdentity, os_keys

# Certificate subjects that sign an OS, a browser or many unrelated products besides a remote-control
# tool (Google signs Chrome as well as Chrome Remote Desktop; Parallels signs Parallels Desktop).
GENERIC_SIGNERS = {"microsoft corporation", "microsoft windows", "microsoft windows publisher", "apple inc.",
                   "google llc", "google inc", "tencent technology (shenzhen) company limited",
                   "alibaba (china) network technology co.,ltd.", "taobao (china) software co.,ltd.",
                   "parallels international gmbh", "unity technologies sf", "eset, spol. s r.o.", "idrive, inc.",
                   "quest software inc.", "rocket software, inc.", "kaseya holdings inc.", "electronic team, inc.",
                   "lg uplus corp.", "北京火绒网络科技有限公司", "中移动信息技术有限公司"}


@dataclass
class Catalogue:
    tools: list[Tool]
    hardware: list[Hardware]
    proxy_ports: dict[int, str] = field(default_factory=dict)
    forwarding_interfaces: list[dict] = field(default_factory=list)
    input_languages: list[dict] = field(default_factory=list)
    peer_to_peer: dict[str, dict] = field(default_factory=dict)   # normalised process name -> entry

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
        found = [(tool, pattern) for os_key in os_keys(os_name)
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
    for os_key in os_keys(os_name):
        found += exact.get((os_key, key), [])
        candidates = globs.get((os_key, key[0]), []) + globs.get((os_key, ""), [])
        found += [(tool, name) for pattern, tool, name in candidates if fnmatch.fnmatchcase(key, pattern)]
    return _unique_tools(found)


def _unique_tools(found: Iterable[tuple[Tool, str]]) -> list[tuple[Tool, str]]:
    seen: dict[str, tuple[Tool, str]] = {}
    for tool, name in found:
        seen.setdefault(tool.id, (tool, name))
    return list(seen.values())
