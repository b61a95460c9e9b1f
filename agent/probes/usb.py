"""USB devices and their interfaces, from /sys/bus/usb/devices."""

from __future__ import annotations

import re

from farmwatch.v1 import report_pb2

from ._platform import dispatch
from .context import ProbeContext

USB_DEVICES_DIR = "/sys/bus/usb/devices"
# "1-2", "3-1.4.2"; root hubs are "usbN" and interfaces "<device>:<config>.<n>"
_DEVICE_NAME = re.compile(r"^\d+-\d+(\.\d+)*$")


def collect(ctx: ProbeContext) -> list[report_pb2.UsbDevice]:
    return dispatch(ctx, list, linux=_linux)


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

    def attribute(name: str) -> str:
        return ctx.read_value(f"{base}/{name}") or ""

    vendor_id, product_id = attribute("idVendor").lower(), attribute("idProduct").lower()
    if not (vendor_id or product_id):
        ctx.gap(f"usb {bus_path}: no idVendor/idProduct, device skipped")
        return None
    for label, value in (("idVendor", vendor_id), ("idProduct", product_id)):
        if not value:
            ctx.gap(f"usb {bus_path}: {label} missing")
    return report_pb2.UsbDevice(
        vendor_id=vendor_id,
        product_id=product_id,
        manufacturer=attribute("manufacturer"),
        product=attribute("product"),
        serial=attribute("serial"),
        device_class=attribute("bDeviceClass").lower(),
        bcd_device=attribute("bcdDevice").lower(),
        speed_mbps=_speed(attribute("speed")),
        bus_path=bus_path,
        interfaces=[_interface(ctx, f"{USB_DEVICES_DIR}/{name}") for name in _by_number(interface_names)],
    )


def _interface(ctx: ProbeContext, base: str) -> report_pb2.UsbInterface:
    def attribute(name: str) -> str:
        return (ctx.read_value(f"{base}/{name}") or "").lower()

    driver = ctx.readlink(f"{base}/driver") or ""
    return report_pb2.UsbInterface(
        interface_class=attribute("bInterfaceClass"),
        interface_subclass=attribute("bInterfaceSubClass"),
        interface_protocol=attribute("bInterfaceProtocol"),
        driver=driver.rpartition("/")[2],
    )


def _by_number(interface_names: list[str]) -> list[str]:
    """"1-2:1.10" after "1-2:1.9": order by configuration, then interface number."""

    def key(name: str) -> tuple[int, ...]:
        config, _, number = name.partition(":")[2].partition(".")
        return (int(config or 0), int(number or 0)) if (config + number).isdigit() else (0, 0)

    return sorted(interface_names, key=key)


def _speed(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0  # "unknown", or the file is missing
