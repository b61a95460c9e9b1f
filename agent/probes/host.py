"""Who the machine is: name, OS, hardware identity, clock and language settings."""

from __future__ import annotations

import io
import platform
import socket
import time
import zoneinfo

from farmwatch import agent
from farmwatch.v1 import report_pb2

from ._envfile import parse_assignments
from ._platform import dispatch
from ._probe import OPERATING_SYSTEMS, Probe
from ._procfs import boot_time as procfs_boot_time
from .context import ProbeContext

_DMI = "/sys/class/dmi/id"
# ARM laptops without DMI (Snapdragon, Chromebooks, Pinebook) describe themselves in the device
# tree; /proc/device-tree links here.
_DEVICE_TREE = "/sys/firmware/devicetree/base"
# Firmware fills unset DMI strings with these; they identify nothing.
_PLACEHOLDERS = frozenset(
    text.casefold()
    for text in (
        "To be filled by O.E.M.",
        "Not Specified",
        "Not Applicable",
        "Not Available",
        "System Serial Number",
        "System Product Name",
        "System manufacturer",
        "Default string",
        "Chassis Serial Number",
        "Base Board Serial Number",
        "None",
        "N/A",
        "Invalid",
        "0123456789",
        "123456789",
    )
)
_ZONEINFO_DIR_MARKER = "zoneinfo/"
_ZONEINFO_COPIES = ("posix/", "right/")


def collect(ctx: ProbeContext) -> report_pb2.Host:
    return dispatch(ctx, report_pb2.Host, linux=_linux, macos="macos.host", windows="windows.host")


PROBE = Probe("host", collect, field="host", platforms=OPERATING_SYSTEMS)


def _linux(ctx: ProbeContext) -> report_pb2.Host:
    host = report_pb2.Host(
        hostname=_hostname(ctx),
        os="linux",
        os_version=_os_version(ctx),
        arch=_arch(ctx),
        agent_version=agent.__version__,
        serial_number=_serial_number(ctx),
        hardware_model=_hardware_model(ctx),
        locale=_locale(ctx),
        keyboard_layouts=keyboard_layouts(ctx),
    )
    boot_time = procfs_boot_time(ctx)
    if boot_time is None:
        ctx.gap("no btime in /proc/stat")
    else:
        host.boot_time.FromSeconds(boot_time)
    host.timezone = timezone_name(ctx)
    host.utc_offset_minutes = utc_offset_minutes(ctx, host.timezone)
    return host


def _hostname(ctx: ProbeContext) -> str:
    name = ctx.read_value("/proc/sys/kernel/hostname") or ctx.read_value("/etc/hostname")
    if not name and ctx.is_live:
        name = socket.gethostname()
    return name or ""


def _os_version(ctx: ProbeContext) -> str:
    text = ctx.read_text("/etc/os-release") or ctx.read_text("/usr/lib/os-release")
    if text is None:
        ctx.gap("no /etc/os-release")
        return ""
    return parse_assignments(text).get("PRETTY_NAME", "")


def _arch(ctx: ProbeContext) -> str:
    arch = ctx.read_value("/proc/sys/kernel/arch")
    if not arch and ctx.is_live:
        arch = platform.machine()
    return arch or ""


def is_placeholder(value: str) -> bool:
    stripped = value.strip()
    if not stripped or stripped.casefold() in _PLACEHOLDERS:
        return True
    return len(set(stripped)) == 1 and stripped[0] in "0xX*.- "  # "0", "00000000", "........"


def _dmi_value(ctx: ProbeContext, name: str) -> str:
    value = ctx.read_value(f"{_DMI}/{name}") or ""
    return "" if is_placeholder(value) else value


def _device_tree_value(ctx: ProbeContext, name: str) -> str:
    value = (ctx.read_value(f"{_DEVICE_TREE}/{name}") or "").strip("\x00").strip()  # NUL-terminated
    return "" if is_placeholder(value) else value


def _serial_number(ctx: ProbeContext) -> str:
    if ctx.is_dir(_DMI):
        return _dmi_value(ctx, "product_serial") or _dmi_value(ctx, "board_serial")
    if ctx.is_dir(_DEVICE_TREE):
        return _device_tree_value(ctx, "serial-number")
    ctx.gap(f"no {_DMI} and no device tree: hardware serial unknown")
    return ""


def _hardware_model(ctx: ProbeContext) -> str:
    if not ctx.is_dir(_DMI):
        return _device_tree_value(ctx, "model")
    vendor = _dmi_value(ctx, "sys_vendor")
    product = _dmi_value(ctx, "product_name")
    if vendor and product.casefold().startswith(vendor.casefold()):
        return product
    return " ".join(part for part in (vendor, product) if part)


def timezone_name(ctx: ProbeContext) -> str:
    tz_env = ctx.env.get("TZ", "").lstrip(":")
    if tz_env.startswith("/") and _ZONEINFO_DIR_MARKER not in tz_env:
        # TZ=":/etc/localtime" names a file (systemd units, containers): the zone is its link's
        target = ctx.readlink(tz_env)
        tz_env = target if target and _ZONEINFO_DIR_MARKER in target else ""
    if tz_env:
        return _zone_from_path(tz_env)
    configured = ctx.read_value("/etc/timezone")
    if configured:
        return configured
    target = ctx.readlink("/etc/localtime")
    if target:
        return _zone_from_path(target)
    ctx.gap("time zone not configured (/etc/timezone, /etc/localtime)")
    return ""


def _zone_from_path(value: str) -> str:
    """"…/zoneinfo/Asia/Seoul" → "Asia/Seoul"; the tz database's posix/ and right/ (leap
    second) copies hold the same IANA names under their prefix."""
    if _ZONEINFO_DIR_MARKER in value:
        value = value.split(_ZONEINFO_DIR_MARKER, 1)[1]
        for prefix in _ZONEINFO_COPIES:
            if value.startswith(prefix):
                return value[len(prefix):]
    return value


def utc_offset_minutes(ctx: ProbeContext, zone_name: str) -> int:
    zone = _load_zone(ctx, zone_name)
    if zone is not None:
        offset = ctx.now.astimezone(zone).utcoffset()
        return int(offset.total_seconds() // 60) if offset else 0
    if ctx.is_live:
        return time.localtime().tm_gmtoff // 60
    return 0


def _load_zone(ctx: ProbeContext, zone_name: str) -> zoneinfo.ZoneInfo | None:
    """The machine's own tz database first (it may differ from ours), then ours."""
    if not zone_name:
        return None
    tzif = ctx.read_bytes(f"/usr/share/zoneinfo/{zone_name}")
    if tzif:
        try:
            return zoneinfo.ZoneInfo.from_file(io.BytesIO(tzif), key=zone_name)
        except ValueError:
            pass
    try:
        return zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        ctx.gap(f"unknown time zone {zone_name!r}")
        return None


def _locale(ctx: ProbeContext) -> str:
    for path in ("/etc/default/locale", "/etc/locale.conf"):
        text = ctx.read_text(path)
        if text:
            settings = parse_assignments(text)
            value = settings.get("LANG") or settings.get("LC_ALL")
            if value:
                return value
    return ""


def keyboard_layouts(ctx: ProbeContext) -> list[str]:
    """XKB layouts, with their variant in parentheses ("kr(kr104)"), then the console keymap."""
    layouts: list[str] = []
    for path in ("/etc/default/keyboard", "/etc/vconsole.conf"):
        settings = parse_assignments(ctx.read_text(path) or "")
        layouts += xkb_layouts(settings.get("XKBLAYOUT", ""), settings.get("XKBVARIANT", ""))
        keymap = settings.get("KEYMAP", "")
        if keymap:
            layouts.append(keymap)
    return list(dict.fromkeys(layouts))


def xkb_layouts(layout_list: str, variant_list: str) -> list[str]:
    layouts = [name.strip() for name in layout_list.split(",")]
    variants = [name.strip() for name in variant_list.split(",")]
    variants += [""] * (len(layouts) - len(variants))
    return [
        f"{layout}({variant})" if variant else layout
        for layout, variant in zip(layouts, variants)
        if layout
    ]
