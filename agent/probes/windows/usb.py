"""USB devices from Plug and Play, through PowerShell.

Windows names a USB device ``USB\\VID_1D6B&PID_0104\\CAFEBABE`` (the instance part is the
device's serial when it has one; otherwise Windows makes one up, with "&" in it); the
hardware id adds ``&REV_xxxx`` (bcdDevice) and the compatible ids carry the classes:
``USB\\DevClass_xx`` for the device, ``USB\\Class_xx&SubClass_xx&Prot_xx`` for an
interface. A composite device gets one child per interface, ``…&MI_nn\\…``, whose parent
is the device (docs/detection.md §H7). The product string is the bus-reported
description; Windows keeps no copy of the manufacturer string.
"""

from __future__ import annotations

import re
from typing import Any

from farmwatch.v1 import report_pb2

from ..context import ProbeContext
from ._powershell import as_list, as_objects, query

USB_SCRIPT = r"""# farmwatch usb-devices
$keys = 'DEVPKEY_Device_BusReportedDeviceDesc', 'DEVPKEY_Device_LocationInfo', 'DEVPKEY_Device_Parent'
Get-PnpDevice -PresentOnly | Where-Object { $_.InstanceId -like 'USB\VID_*' } | ForEach-Object {
    $found = @{}
    Get-PnpDeviceProperty -InstanceId $_.InstanceId -KeyName $keys -ErrorAction SilentlyContinue |
        ForEach-Object { $found[$_.KeyName] = $_.Data }
    [pscustomobject]@{
        InstanceId = $_.InstanceId; FriendlyName = $_.FriendlyName; Service = $_.Service; Class = $_.Class
        HardwareID = $_.HardwareID; CompatibleID = $_.CompatibleID
        BusReportedDeviceDesc = $found['DEVPKEY_Device_BusReportedDeviceDesc']
        LocationInfo = $found['DEVPKEY_Device_LocationInfo']; Parent = $found['DEVPKEY_Device_Parent']
    }
} | ConvertTo-Json -Depth 3"""
_INSTANCE = re.compile(r"^USB\\VID_([0-9A-F]{4})&PID_([0-9A-F]{4})(?:&MI_([0-9A-F]{2}))?\\(.+)$", re.IGNORECASE)
_REVISION = re.compile(r"&REV_([0-9A-F]{4})", re.IGNORECASE)
_DEVICE_CLASS = re.compile(r"^USB\\DevClass_([0-9A-F]{2})", re.IGNORECASE)
_INTERFACE_CLASS = re.compile(r"^USB\\Class_([0-9A-F]{2})&SubClass_([0-9A-F]{2})&Prot_([0-9A-F]{2})$", re.IGNORECASE)


def collect(ctx: ProbeContext) -> list[report_pb2.UsbDevice]:
    return parse_pnp_usb(as_objects(query(ctx, USB_SCRIPT)))


def parse_pnp_usb(entries: list[dict[str, Any]]) -> list[report_pb2.UsbDevice]:
    devices: dict[str, report_pb2.UsbDevice] = {}
    interfaces: list[tuple[str, int, dict[str, Any]]] = []
    for entry in entries:
        match = _INSTANCE.match(entry.get("InstanceId") or "")
        if not match:
            continue
        if match[3] is not None:
            interfaces.append((str(entry.get("Parent") or "").casefold(), int(match[3], 16), entry))
        else:
            devices[entry["InstanceId"].casefold()] = _device(entry, match)
    for parent, _, entry in sorted(interfaces, key=lambda item: item[:2]):
        device = devices.get(parent)
        triple = _interface_class(entry)
        if device is not None and triple is not None:
            device.interfaces.add(interface_class=triple[0], interface_subclass=triple[1],
                                  interface_protocol=triple[2], driver=entry.get("Service") or "")
    return list(devices.values())


def _device(entry: dict[str, Any], match: re.Match[str]) -> report_pb2.UsbDevice:
    instance = match[4]
    device = report_pb2.UsbDevice(
        vendor_id=match[1].lower(),
        product_id=match[2].lower(),
        product=entry.get("BusReportedDeviceDesc") or entry.get("FriendlyName") or "",
        serial="" if "&" in instance else instance,
        device_class=_first(_DEVICE_CLASS, entry.get("CompatibleID")),
        bcd_device=_first(_REVISION, entry.get("HardwareID")),
        bus_path=entry.get("LocationInfo") or "",
    )
    triple = _interface_class(entry)
    if triple is not None:  # a single-function device: its one interface is described on it
        device.interfaces.add(interface_class=triple[0], interface_subclass=triple[1],
                              interface_protocol=triple[2], driver=entry.get("Service") or "")
    return device


def _interface_class(entry: dict[str, Any]) -> tuple[str, str, str] | None:
    for compatible in as_list(entry.get("CompatibleID")):
        match = _INTERFACE_CLASS.match(str(compatible))
        if match:
            return match[1].lower(), match[2].lower(), match[3].lower()
    return None


def _first(pattern: re.Pattern[str], ids: Any) -> str:
    for value in as_list(ids):
        match = pattern.search(str(value))
        if match:
            return match[1].lower()
    return ""
