"""Attached displays, identified by their EDID, from /sys/class/drm connectors."""

from __future__ import annotations

import re

from farmwatch.common.edid import EdidError, parse_edid
from farmwatch.v1 import report_pb2

from ._platform import dispatch
from ._probe import OPERATING_SYSTEMS, Probe
from .context import ProbeContext

DRM_DIR = "/sys/class/drm"
_CONNECTOR = re.compile(r"^card\d+-(?P<type>[A-Za-z]+)")
_BUILT_IN_TYPES = ("eDP", "LVDS", "DSI")


def collect(ctx: ProbeContext) -> list[report_pb2.Display]:
    return dispatch(ctx, list, linux=_linux, macos="macos.displays", windows="windows.displays")


PROBE = Probe("displays", collect, field="displays", platforms=OPERATING_SYSTEMS)


def _linux(ctx: ProbeContext) -> list[report_pb2.Display]:
    if not ctx.is_dir(DRM_DIR):
        ctx.gap(f"no {DRM_DIR}: no graphics device visible")
        return []
    displays = []
    for name in ctx.list_dir(DRM_DIR):
        match = _CONNECTOR.match(name)
        if not match:
            continue  # card0, renderD128, version
        display = _connector_display(ctx, name, match["type"] in _BUILT_IN_TYPES)
        if display is not None:
            displays.append(display)
    return displays


def _connector_display(ctx: ProbeContext, name: str, built_in: bool) -> report_pb2.Display | None:
    """The display on a connector. `status` decides where the driver gives one: some keep a
    stale EDID after unplugging, and a capture input may be connected with no EDID to read."""
    status = ctx.read_value(f"{DRM_DIR}/{name}/status")
    edid = ctx.read_bytes(f"{DRM_DIR}/{name}/edid")
    if status == "disconnected":
        return None
    if edid:
        return display_from_edid(ctx, name, edid, built_in)
    if status == "connected":
        ctx.gap(f"{name}: connected, but it gives no EDID")
        return report_pb2.Display(connector=name, built_in=built_in)
    return None  # no status file or "unknown", and no EDID: nothing plugged in


def display_from_edid(ctx: ProbeContext, connector: str, edid: bytes, built_in: bool) -> report_pb2.Display:
    display = report_pb2.Display(connector=connector, built_in=built_in, edid=edid)
    try:
        info = parse_edid(edid)
    except EdidError as exc:
        ctx.gap(f"{connector}: {exc}")
        return display
    if not info.checksum_ok:
        ctx.gap(f"{connector}: EDID checksum mismatch")
    display.manufacturer_id = info.manufacturer_id
    display.product_code = info.product_code
    display.serial_number = info.serial_number
    display.serial_string = info.serial_string
    display.monitor_name = info.monitor_name
    display.width_mm = info.width_mm
    display.height_mm = info.height_mm
    display.manufacture_year = info.manufacture_year
    return display
