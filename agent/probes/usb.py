"""USB devices and their interfaces, from /sys/bus/usb/devices."""

from __future__ import annotations

import re

from farmwatch.v1 import report_pb2

from ._platform import dispatch
from ._probe import OPERATING_SYSTEMS, Probe
from .context import ProbeContext

USB_DEVICES_DIR = "/sys/bus/usb/devices"
# "1-2", "3-1.4.2"; root hubs are "usbN" and interfaces "<device>:<config>.<n>"
_DEVICE_NAME = re.compile(r"^\d+-\d+(\.\d+)*$")


def collect(ctx: ProbeContext) -> list[report_pb2.UsbDevice]:
    return dispatch(ctx, list, linux=_linux, macos="macos.usb", windows="windows.usb")


PROBE = Probe("usb", collect, field="usb_devices", platforms=OPERATING_SYSTEMS)


def _linux(ctx: ProbeContext) -> list[report_pb2.UsbDevice]:
    if not ctx.is_dir(USB_DEVICES_DIR):
        ctx.gap(f"no {USB_DEVICES_DIR}: no USB bus visible")
        return []
    entries = ctx.list_dir(USB_DEVICES_DIR)
    devices = []
    for name in entries:
        if _DEVICE_NAME.match(name):
            device = _device(ctx, name, [e for e in entries if e.startswith(f"{name}:")])
            if device is not None:
                devices.append(device)
    return devices


def _device(ctx: ProbeContext, bus_path: str, interface_names: list[str]) -> report_pb2.UsbDevice | None:
    base = f"{USB_DEVICES_DIR}/{bus_path}"
    vendor_id, product_id = _hex_attribute(ctx, base, "idVendor"), _hex_attribute(ctx, base, "idProduct")
    if not (vendor_id or product_id):
        ctx.gap(f"usb {bus_path}: no idVendor/idProduct, device skipped")
        return None
    for label, value in (("idVendor", vendor_id), ("idProduct", product_id)):
        if not value:
            ctx.gap(f"usb {bus_path}: {label} missing")
    return report_pb2.UsbDevice(
        vendor_id=vendor_id,
        product_id=product_id,
        manufacturer=_attribute(ctx, base, "manufacturer"),
        product=_attribute(ctx, base, "product"),
        serial=_attribute(ctx, base, "serial"),
        device_class=_hex_attribute(ctx, base, "bDeviceClass"),
        bcd_device=_hex_attribute(ctx, base, "bcdDevice"),
        speed_mbps=_speed(_attribute(ctx, base, "speed")),
        bus_path=bus_path,
        interfaces=[_interface(ctx, f"{USB_DEVICES_DIR}/{name}")
                    for name in sorted(interface_names, key=_interface_order)],
    )


def _interface(ctx: ProbeContext, base: str) -> report_pb2.UsbInterface:
    driver = ctx.readlink(f"{base}/driver") or ""
    return report_pb2.UsbInterface(
        interface_class=_hex_attribute(ctx, base, "bInterfaceClass"),
        interface_subclass=_hex_attribute(ctx, base, "bInterfaceSubClass"),
        interface_protocol=_hex_attribute(ctx, base, "bInterfaceProtocol"),
        driver=driver.rpartition("/")[2],
    )


def _attribute(ctx: ProbeContext, base: str, name: str) -> str:
    return ctx.read_value(f"{base}/{name}") or ""


def _hex_attribute(ctx: ProbeContext, base: str, name: str) -> str:
    return _attribute(ctx, base, name).lower()


def _interface_order(name: str) -> tuple[int, int]:
    """"1-2:1.10" after "1-2:1.9": by configuration, then interface number."""
    config, _, number = name.partition(":")[2].partition(".")
    try:
        return int(config), int(number)
    except ValueError:
        return 0, 0


def _speed(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0  # "unknown", or the file is missing
