"""Attached displays: the raw EDID from the I/O Registry where macOS keeps it, else the
identity ``system_profiler SPDisplaysDataType -json`` decodes from it.

Intel Macs publish each display's EDID as ``IODisplayEDID`` on the AppleDisplay (external)
or AppleBacklightDisplay (built-in panel) node under IODisplayConnect. Apple silicon has
no IODisplayConnect; there system_profiler gives name, vendor, product and serial (in
hex, as strings) but no bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from farmwatch.common.edid import manufacturer_id
from farmwatch.v1 import report_pb2

from .. import displays as common
from ..context import ProbeContext
from ._plist import tool_plist

IOREG_DISPLAYS = ["ioreg", "-l", "-a", "-r", "-c", "IODisplayConnect"]
SYSTEM_PROFILER_DISPLAYS = ["system_profiler", "SPDisplaysDataType", "-json"]
_EDID_KEYS = ("IODisplayEDID", "IODisplayEDIDOriginal")
_BUILT_IN_CLASS = "AppleBacklightDisplay"
_DISPLAY_CLASSES = ("AppleDisplay", _BUILT_IN_CLASS)
_UNKNOWN_VENDOR = "756e6b6e"  # "unkn": system_profiler's placeholder


def collect(ctx: ProbeContext) -> list[report_pb2.Display]:
    tree = tool_plist(ctx, IOREG_DISPLAYS)
    displays = ioreg_displays(ctx, tree) if tree is not None else []
    if displays:
        return displays
    output = ctx.run(SYSTEM_PROFILER_DISPLAYS, missing_is_gap=True)
    if output is None:
        return []
    try:
        return parse_system_profiler_displays(json.loads(output))
    except ValueError as exc:
        ctx.gap(f"system_profiler SPDisplaysDataType: unparsable JSON ({exc})")
        return []


def ioreg_displays(ctx: ProbeContext, tree: Any) -> list[report_pb2.Display]:
    displays = []
    for index, node in enumerate(_display_nodes(tree)):
        edid = next((node[key] for key in _EDID_KEYS if isinstance(node.get(key), bytes) and node[key]), None)
        built_in = node.get("IOObjectClass") == _BUILT_IN_CLASS
        connector = "internal" if built_in else f"external-{index}"
        if edid is not None:
            displays.append(common.display_from_edid(ctx, connector, edid, built_in))
        else:
            # a capture input may answer no EDID: macOS still attaches a display, "unkn" vendor and all
            ctx.gap(f"{connector}: connected, but it gives no EDID")
            displays.append(_ioreg_identity(node, connector, built_in))
    return displays


def _display_nodes(node: Any) -> Iterator[dict[str, Any]]:
    for entry in node if isinstance(node, list) else [node]:
        if not isinstance(entry, dict):
            continue
        has_edid = any(isinstance(entry.get(key), bytes) for key in _EDID_KEYS)
        if has_edid or entry.get("IOObjectClass") in _DISPLAY_CLASSES:
            yield entry
        yield from _display_nodes(entry.get("IORegistryEntryChildren", []))


def _ioreg_identity(node: dict[str, Any], connector: str, built_in: bool) -> report_pb2.Display:
    """What the display node itself says (DisplayVendorID, DisplayProductID, DisplaySerialNumber)."""
    def number(key: str) -> int:
        value = node.get(key)
        return value & 0xFFFFFFFF if isinstance(value, int) else 0

    vendor = number("DisplayVendorID")
    return report_pb2.Display(
        connector=connector,
        manufacturer_id=manufacturer_id(vendor) if vendor and vendor != int(_UNKNOWN_VENDOR, 16) else "",
        product_code=number("DisplayProductID"),
        serial_number=number("DisplaySerialNumber"),
        built_in=built_in,
    )


def parse_system_profiler_displays(document: dict[str, Any]) -> list[report_pb2.Display]:
    # counted across GPUs: a Mac with two (Intel + AMD, or an eGPU) lists displays under each,
    # and a display without an id must not take another GPU's display's connector name
    screens = [screen for gpu in _dicts(document.get("SPDisplaysDataType"))
               for screen in _dicts(gpu.get("spdisplays_ndrvs"))]
    return [_profiled_display(screen, index) for index, screen in enumerate(screens)]


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _profiled_display(screen: dict[str, Any], index: int) -> report_pb2.Display:
    def field(key: str) -> str:  # system_profiler's values are strings, but not always
        value = screen.get(key)
        return "" if value is None else str(value)

    built_in = field("spdisplays_connection_type") == "spdisplays_internal"
    vendor = field("_spdisplays_display-vendor-id")
    return report_pb2.Display(
        connector="internal" if built_in else f"external-{screen.get('_spdisplays_displayID', index)}",
        manufacturer_id=manufacturer_id(_hex(vendor)) if vendor and vendor != _UNKNOWN_VENDOR else "",
        product_code=_hex(field("_spdisplays_display-product-id")),
        serial_number=_hex(field("_spdisplays_display-serial-number")),
        monitor_name=field("_name"),
        built_in=built_in,
        manufacture_year=_decimal(field("_spdisplays_display-year")),
    )


def _hex(text: str) -> int:
    try:
        return int(text, 16) & 0xFFFFFFFF
    except ValueError:
        return 0


def _decimal(text: str) -> int:
    return int(text) if text.isdigit() else 0
