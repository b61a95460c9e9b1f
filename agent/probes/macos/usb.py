"""USB devices from the IOUSB plane of the I/O Registry (``ioreg -p IOUSB -l -a``).

ioreg gives ids as decimal integers and, in ``UsbDeviceSignature``, the device's interface
class triples, so one call yields the interface mix without walking IOUSBHostInterface
nodes (kvm_signatures.md §7). The signature is vendor, product and bcdDevice (16-bit
little-endian), the serial string's bytes, the device class triple, then one triple per
distinct interface class.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from farmwatch.v1 import report_pb2

from ..context import ProbeContext
from ._plist import tool_plist

IOREG_USB = ["ioreg", "-p", "IOUSB", "-l", "-a"]
_CHILDREN = "IORegistryEntryChildren"
_DEVICE_CLASSES = ("IOUSBHostDevice", "IOUSBDevice")
# IOUSBHostFamily's device speed codes: low, full, high, super, super+, super+ x2
_SPEED_MBPS = {0: 1.5, 1: 12.0, 2: 480.0, 3: 5000.0, 4: 10000.0, 5: 20000.0}


def collect(ctx: ProbeContext) -> list[report_pb2.UsbDevice]:
    tree = tool_plist(ctx, IOREG_USB)
    if tree is None:
        return []
    return parse_ioreg_usb(tree, ctx)


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
    serial = _text(entry, "USB Serial Number", "kUSBSerialNumberString")
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
        triples = interface_triples(signature, serial)
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
    return next((str(entry[key]).strip() for key in keys if entry.get(key)), "")
