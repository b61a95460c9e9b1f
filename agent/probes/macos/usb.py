"""USB devices from the IOUSB plane of the I/O Registry (``ioreg -p IOUSB -l -a``).

ioreg gives ids as decimal integers and, in ``UsbDeviceSignature``, the device's interface
class triples, so one call yields the interface mix without walking IOUSBHostInterface
nodes (docs/detection.md §H7). The signature is vendor, product and bcdDevice (16-bit
little-endian), the serial string's bytes, the device class triple, then one triple per
distinct interface class.

Without ioreg, system_profiler stands in (no interface classes): ``SPUSBDataType`` up to
macOS 15 (its speed spelled "high_speed" or, on 14/15, "up_to_480_Mb_per_sec"), and on
macOS 26, where that type answers an empty list, ``SPUSBHostDataType`` with its
``USBDeviceKey…`` names and "480 Mb/s" speeds (docs/detection.md §H7).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from farmwatch.v1 import report_pb2

from ..context import ProbeContext
from ._plist import tool_plist

IOREG_USB = ["ioreg", "-p", "IOUSB", "-l", "-a"]
SYSTEM_PROFILER_USB = ["system_profiler", "SPUSBDataType", "-json"]
SYSTEM_PROFILER_USB_HOST = ["system_profiler", "SPUSBHostDataType", "-json"]
_PROFILER_TYPES = ("SPUSBDataType", "SPUSBHostDataType")
# (legacy key, macOS 26 key) of each fact system_profiler gives
_VENDOR_ID, _PRODUCT_ID = ("vendor_id", "USBDeviceKeyVendorID"), ("product_id", "USBDeviceKeyProductID")
_MANUFACTURER, _SERIAL = ("manufacturer", "USBDeviceKeyVendorName"), ("serial_num", "USBDeviceKeySerialNumber")
_BCD, _LOCATION = ("bcd_device", "USBDeviceKeyProductVersion"), ("location_id", "USBKeyLocationID")
_SPEED = ("device_speed", "speed", "USBDeviceKeyLinkSpeed")
_NO_SERIAL = "Not Provided"
_SPEED_TEXT = re.compile(r"(\d+(?:\.\d+)?)[ _]*([MG])b(?:/s|_per_sec)", re.IGNORECASE)
_APPLE_VENDOR = "apple_vendor_id"  # system_profiler's spelling of 0x05ac
_PROFILER_SPEEDS = {"low_speed": 1.5, "full_speed": 12.0, "high_speed": 480.0, "super_speed": 5000.0,
                    "super_speed_plus": 10000.0}
_CHILDREN = "IORegistryEntryChildren"
_DEVICE_CLASSES = ("IOUSBHostDevice", "IOUSBDevice")
# IOUSBHostFamily's device speed codes: low, full, high, super, super+, super+ x2
_SPEED_MBPS = {0: 1.5, 1: 12.0, 2: 480.0, 3: 5000.0, 4: 10000.0, 5: 20000.0}


def collect(ctx: ProbeContext) -> list[report_pb2.UsbDevice]:
    tree = tool_plist(ctx, IOREG_USB)
    if tree is not None:
        return parse_ioreg_usb(tree, ctx)
    devices = _profiled(ctx, SYSTEM_PROFILER_USB, missing_is_gap=True)
    if devices is None or devices:
        return devices or []
    return _profiled(ctx, SYSTEM_PROFILER_USB_HOST) or []  # macOS 26: SPUSBDataType is empty


def _profiled(ctx: ProbeContext, argv: list[str], *, missing_is_gap: bool = False) -> list[report_pb2.UsbDevice] | None:
    """The devices system_profiler lists; None when it is missing or fails."""
    output = ctx.run(argv, missing_is_gap=missing_is_gap)
    if output is None:
        return None
    if not output.strip():
        return []
    try:
        return parse_system_profiler_usb(json.loads(output))
    except ValueError as exc:
        ctx.gap(f"system_profiler {argv[1]}: unparsable JSON ({exc})")
        return []


def parse_ioreg_usb(tree: Any, ctx: ProbeContext | None = None) -> list[report_pb2.UsbDevice]:
    """Every device node below the root (controllers and root hubs are not devices)."""
    return [_device(node, ctx) for node in _device_nodes(tree)]


def _device_nodes(node: Any) -> Iterator[dict[str, Any]]:
    nodes = node if isinstance(node, list) else [node]
    for entry in nodes:
        if not isinstance(entry, dict):
            continue
        if _is_device(entry):
            yield entry
        yield from _device_nodes(entry.get(_CHILDREN, []))


def _is_device(entry: dict[str, Any]) -> bool:
    if "idVendor" not in entry or "idProduct" not in entry:
        return False
    name = str(entry.get("IORegistryEntryName", ""))
    return entry.get("IOObjectClass") in _DEVICE_CLASSES and "Root Hub" not in name


def _device(entry: dict[str, Any], ctx: ProbeContext | None) -> report_pb2.UsbDevice:
    raw_serial = _raw_text(entry, "USB Serial Number", "kUSBSerialNumberString")
    serial = raw_serial.strip()
    location = entry.get("locationID")
    device = report_pb2.UsbDevice(
        vendor_id=f"{entry['idVendor'] & 0xFFFF:04x}",
        product_id=f"{entry['idProduct'] & 0xFFFF:04x}",
        manufacturer=_text(entry, "USB Vendor Name", "kUSBVendorString"),
        product=_text(entry, "USB Product Name", "kUSBProductString") or str(entry.get("IORegistryEntryName", "")),
        serial=serial,
        device_class=f"{entry.get('bDeviceClass', 0):02x}",
        bcd_device=f"{entry.get('bcdDevice', 0):04x}",
        speed_mbps=_SPEED_MBPS.get(entry.get("Device Speed", -1), 0.0),
        bus_path=f"0x{location:08x}" if isinstance(location, int) else "",
    )
    signature = entry.get("UsbDeviceSignature")
    if isinstance(signature, bytes):
        triples = interface_triples(signature, raw_serial)  # the signature holds the serial unstripped
        if triples is None and ctx is not None:
            ctx.gap(f"usb {device.bus_path or device.product}: UsbDeviceSignature does not match the serial")
        for cls, subclass, protocol in triples or []:
            device.interfaces.add(interface_class=cls, interface_subclass=subclass, interface_protocol=protocol)
    return device


def interface_triples(signature: bytes, serial: str) -> list[tuple[str, str, str]] | None:
    """The interface (class, subclass, protocol) triples of a UsbDeviceSignature, in hex;
    None when the signature is not laid out around this serial as expected."""
    serial_bytes = serial.encode("utf-8")
    start = 6 + len(serial_bytes) + 3  # ids, serial, device class triple
    if signature[6 : 6 + len(serial_bytes)] != serial_bytes or (len(signature) - start) % 3 or len(signature) < start:
        return None
    return [
        (f"{signature[i]:02x}", f"{signature[i + 1]:02x}", f"{signature[i + 2]:02x}")
        for i in range(start, len(signature), 3)
    ]


def _text(entry: dict[str, Any], *keys: str) -> str:
    return _raw_text(entry, *keys).strip()


def _raw_text(entry: dict[str, Any], *keys: str) -> str:
    return next((str(entry[key]) for key in keys if entry.get(key)), "")


def parse_system_profiler_usb(document: Any) -> list[report_pb2.UsbDevice]:
    """Every entry with a vendor id in the tree of buses, hubs and devices ("_items"), in
    either data type's spelling."""
    if not isinstance(document, dict):
        return []
    return [_profiled_device(entry) for key in _PROFILER_TYPES for entry in _profiled_entries(document.get(key))]


def _profiled_entries(items: Any) -> Iterator[dict[str, Any]]:
    for entry in items if isinstance(items, list) else []:
        if isinstance(entry, dict):
            if any(k in entry for k in _VENDOR_ID) and any(k in entry for k in _PRODUCT_ID):
                yield entry
            yield from _profiled_entries(entry.get("_items"))


def _profiled_device(entry: dict[str, Any]) -> report_pb2.UsbDevice:
    def field(keys: tuple[str, ...]) -> str:  # values are strings, but not always
        return next((str(entry[k]).strip() for k in keys if entry.get(k) is not None), "")

    vendor = (field(_VENDOR_ID).split() or [""])[0]  # "0x05c6  (Qualcomm, Inc)"
    serial = field(_SERIAL)
    return report_pb2.UsbDevice(
        vendor_id="05ac" if vendor == _APPLE_VENDOR else _hex4(vendor),
        product_id=_hex4((field(_PRODUCT_ID).split() or [""])[0]),
        manufacturer=field(_MANUFACTURER),
        product=str(entry.get("_name", "")),
        serial="" if serial == _NO_SERIAL else serial,
        bcd_device=_bcd(field(_BCD)),
        speed_mbps=_profiler_speed(field(_SPEED)),
        bus_path=field(_LOCATION).split(" ")[0],  # "0x14330000 / 6"
    )


def _profiler_speed(text: str) -> float:
    """"high_speed"; "up_to_480_Mb_per_sec" (macOS 14/15); "480 Mb/s", "5 Gb/s" (macOS 26)."""
    if text in _PROFILER_SPEEDS:
        return _PROFILER_SPEEDS[text]
    match = _SPEED_TEXT.search(text)
    if not match:
        return 0.0
    return float(match[1]) * (1000.0 if match[2].upper() == "G" else 1.0)


def _hex4(text: str) -> str:
    try:
        return f"{int(text, 16) & 0xFFFF:04x}"
    except ValueError:
        return ""


def _bcd(text: str) -> str:
    """system_profiler prints bcdDevice 0x1211 as "12.11"."""
    major, dot, minor = text.partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        return ""
    return f"{int(major):02d}{minor[:2]:0<2}"
