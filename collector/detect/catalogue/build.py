"""From validated signature documents to the indexed `Catalogue`."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterable

from farmwatch.collector.detect.catalogue.clean import normalise_name, parse_product_code
from farmwatch.collector.detect.catalogue.index import Catalogue
from farmwatch.collector.detect.catalogue.model import OSES, EdidIdentity, Hardware, Tool, UsbIdentity
from farmwatch.collector.detect.catalogue.validate import KINDS

# A launchd job's label names its plist (`/Library/LaunchDaemons/<label>.plist`), so a plist among a
# tool's macOS install paths names a job of the tool, as the agent reports it.
LAUNCHD_PLIST = re.compile(r"(?:^|/)library/launch(?:agents|daemons)/([^/*?\[]+)\.plist$", re.IGNORECASE)


def launchd_labels(paths: Iterable[str]) -> tuple[str, ...]:
    """The launchd labels named by the plist files among `paths`."""
    found = (LAUNCHD_PLIST.search(p.replace("\\", "/")) for p in paths)
    return tuple(m.group(1) for m in found if m)


def _services(entry: dict) -> dict[str, tuple[str, ...]]:
    """Service names per OS: those listed, and on macOS the labels of the tool's launchd plists."""
    services = {o: tuple(entry.get("services", {}).get(o, ())) for o in OSES}
    plists = launchd_labels(entry.get("install_paths", {}).get("macos", ()))
    services["macos"] = tuple(dict.fromkeys(services["macos"] + plists))
    return services


def _tool(entry: dict) -> Tool:
    def per_os(key: str) -> dict[str, tuple[str, ...]]:
        return {o: tuple(entry.get(key, {}).get(o, ())) for o in OSES}
    return Tool(
        id=entry["id"], name=entry["name"], category=entry["category"], role=entry["role"],
        relevance=entry["relevance"], builtin=entry["builtin"], processes=per_os("processes"),
        ambiguous_processes=tuple(entry.get("ambiguous_processes", ())), app_names=tuple(entry.get("app_names", ())),
        bundle_ids=tuple(entry.get("bundle_ids", ())), services=_services(entry),
        install_paths=per_os("install_paths"),
        listen_ports=tuple(entry.get("listen_ports", ())), signers=tuple(entry.get("signers", ())),
        session_processes=tuple(entry.get("session", {}).get("processes", ())),
        session_connections=tuple(entry.get("session", {}).get("connections", ())),
        proxy_markers=tuple(entry.get("proxy_markers", ())),
        source=entry["source"],
        client_names=frozenset(normalise_name(n) for names in entry.get("client_processes", {}).values()
                               for n in names),
        client_bundle_ids=frozenset(b.casefold() for b in entry.get("client_bundle_ids", ())),
        mesh=entry.get("mesh", False),
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


def build_catalogue(documents: list[tuple[str, dict]]) -> Catalogue:
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
        peer_to_peer={normalise_name(e["process"]): e for e in parts["peer_to_peer"]},
    )
