"""Attached monitors: WMI's WmiMonitorID says which are connected now, and the EDID
Windows read from each is in the registry under the same instance path
(``Enum\\DISPLAY\\<PNP id><product code>\\<instance>\\Device Parameters\\EDID``).

Enum\\DISPLAY also remembers every monitor ever plugged in, so it is read only for the
active ones. When a monitor's EDID is missing from the registry, WmiMonitorID's decoded
fields (UTF-16 code units in arrays) stand in. WmiMonitorConnectionParams tells the
built-in panel by its video output technology.
"""

from __future__ import annotations

from typing import Any

from farmwatch.v1 import report_pb2

from .. import displays as common
from ..context import ProbeContext
from ..registry import RegistryReader
from ._hives import registry
from ._powershell import as_list, as_objects, query

MONITORS_SCRIPT = r"""# farmwatch monitors
$ids = Get-CimInstance -Namespace root\wmi -ClassName WmiMonitorID -ErrorAction SilentlyContinue |
    Select-Object InstanceName, Active, ManufacturerName, ProductCodeID, SerialNumberID,
        UserFriendlyName, YearOfManufacture
$links = Get-CimInstance -Namespace root\wmi -ClassName WmiMonitorConnectionParams -ErrorAction SilentlyContinue |
    Select-Object InstanceName, VideoOutputTechnology
[pscustomobject]@{ Monitors = @($ids); Connections = @($links) } | ConvertTo-Json -Depth 4"""
ENUM = "HKLM\\SYSTEM\\CurrentControlSet\\Enum"
# D3DKMDT_VIDEO_OUTPUT_TECHNOLOGY values of panels built into the machine:
# LVDS, embedded DisplayPort, embedded UDI, and "internal"
_BUILT_IN_OUTPUTS = {6, 11, 13, 0x80000000}


def collect(ctx: ProbeContext) -> list[report_pb2.Display]:
    answer = query(ctx, MONITORS_SCRIPT)
    if not isinstance(answer, dict):
        return []
    reader = registry(ctx)
    outputs = {_instance_path(c.get("InstanceName")): c.get("VideoOutputTechnology")
               for c in as_objects(answer.get("Connections"))}
    displays = []
    for monitor in as_objects(answer.get("Monitors")):
        if monitor.get("Active") is False:
            continue
        path = _instance_path(monitor.get("InstanceName"))
        built_in = ((outputs.get(path) or 0) & 0xFFFFFFFF) in _BUILT_IN_OUTPUTS
        edid = registry_edid(reader, path) if reader is not None else None
        displays.append(_display(ctx, monitor, path, edid, built_in))
    return displays


def _display(ctx: ProbeContext, monitor: dict[str, Any], path: str, edid: bytes | None,
             built_in: bool) -> report_pb2.Display:
    """From the registry's EDID; where that is missing or will not decode, WMI's fields (with
    the raw bytes kept), so a corrupt EDID cannot hide who made the monitor."""
    if not edid:
        return wmi_display(monitor, path, built_in)
    display = common.display_from_edid(ctx, path, edid, built_in)
    if not display.manufacturer_id:
        display.MergeFrom(wmi_display(monitor, path, built_in))
    return display


def _instance_path(instance_name: Any) -> str:
    """WMI names an instance with a "_0" suffix the device tree does not have."""
    name = str(instance_name or "")
    return name[:-2] if name.endswith("_0") else name


def registry_edid(reader: RegistryReader, instance_path: str) -> bytes | None:
    edid = (reader.values(f"{ENUM}\\{instance_path}\\Device Parameters") or {}).get("EDID")
    return edid if isinstance(edid, bytes) and edid else None


def wmi_display(monitor: dict[str, Any], connector: str, built_in: bool) -> report_pb2.Display:
    code = wmi_text(monitor.get("ProductCodeID"))
    return report_pb2.Display(
        connector=connector,
        manufacturer_id=wmi_text(monitor.get("ManufacturerName")).upper(),
        product_code=_uint32(int(code, 16)) if _is_hex(code) else 0,
        serial_string=wmi_text(monitor.get("SerialNumberID")),
        monitor_name=wmi_text(monitor.get("UserFriendlyName")),
        built_in=built_in,
        manufacture_year=_uint32(monitor.get("YearOfManufacture")),
    )


def wmi_text(units: Any) -> str:
    """WmiMonitorID strings are arrays of UTF-16 code units, padded with zeros."""
    return "".join(chr(unit) for unit in as_list(units) if isinstance(unit, int) and unit).strip()


def _uint32(value: Any) -> int:
    """A WMI number as the report's uint32; 0 for what is none (null, text, out of range), which
    would otherwise fail the whole displays probe."""
    return value if isinstance(value, int) and 0 <= value <= 0xFFFFFFFF else 0


def _is_hex(text: str) -> bool:
    return bool(text) and all(char in "0123456789abcdefABCDEF" for char in text)
