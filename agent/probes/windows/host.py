"""Who the PC is: name, Windows version, BIOS serial, model, clock, locale and the
keyboard layouts of the people logged in (Korean is 00000412)."""

from __future__ import annotations

from farmwatch import agent
from farmwatch.v1 import report_pb2

from .. import host as common
from ..context import ProbeContext
from ..registry import RegistryReader
from . import _powershell
from ._hives import registry, user_hives
from ._zones import WINDOWS_TO_IANA

COMPUTER_NAME = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\ComputerName\\ComputerName"
CURRENT_VERSION = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
ENVIRONMENT = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment"
BIOS = "HKLM\\HARDWARE\\DESCRIPTION\\System\\BIOS"
TIME_ZONE = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation"
INTERNATIONAL = "Control Panel\\International"
PRELOAD = "Keyboard Layout\\Preload"
DEFAULT_USER = "HKU\\.DEFAULT"
BIOS_SERIAL_SCRIPT = """# farmwatch bios-serial
Get-CimInstance -ClassName Win32_BIOS | Select-Object SerialNumber | ConvertTo-Json -Compress"""
_ARCHITECTURES = {"AMD64": "x86_64", "ARM64": "arm64", "x86": "i686"}


def collect(ctx: ProbeContext) -> report_pb2.Host:
    reader = registry(ctx)
    host = report_pb2.Host(os="windows", agent_version=agent.__version__, serial_number=_bios_serial(ctx))
    boot_time = ctx.machine.boot_time()
    if boot_time:
        host.boot_time.FromSeconds(int(boot_time))
    if reader is None:
        return host
    hives = user_hives(reader)
    host.hostname = str(_values(reader, COMPUTER_NAME).get("ComputerName", ""))
    host.os_version = windows_version(_values(reader, CURRENT_VERSION))
    host.arch = _ARCHITECTURES.get(str(_values(reader, ENVIRONMENT).get("PROCESSOR_ARCHITECTURE", "")), "")
    host.hardware_model = hardware_model(_values(reader, BIOS))
    host.locale = _locale(reader, hives)
    host.keyboard_layouts.extend(keyboard_layouts(reader, hives))
    _set_clock(ctx, host, _values(reader, TIME_ZONE))
    return host


def _values(reader: RegistryReader, path: str) -> dict:
    return reader.values(path) or {}


def _bios_serial(ctx: ProbeContext) -> str:
    answer = _powershell.as_objects(_powershell.query(ctx, BIOS_SERIAL_SCRIPT))
    serial = str(answer[0].get("SerialNumber") or "").strip() if answer else ""
    return "" if common.is_placeholder(serial) else serial


def windows_version(values: dict) -> str:
    """"10.0.22631": Windows 11 still calls itself 10.0; the build number tells them apart."""
    major, minor = values.get("CurrentMajorVersionNumber"), values.get("CurrentMinorVersionNumber")
    build = values.get("CurrentBuildNumber", "")
    if major is None or not build:
        return str(values.get("CurrentVersion", ""))
    return f"{major}.{minor or 0}.{build}"


def hardware_model(values: dict) -> str:
    vendor = str(values.get("SystemManufacturer", "")).strip()
    product = str(values.get("SystemProductName", "")).strip()
    return " ".join(part for part in (vendor, product) if part and not common.is_placeholder(part))


def _locale(reader: RegistryReader, hives: list[str]) -> str:
    for hive in [*hives, DEFAULT_USER]:
        locale = (reader.values(f"{hive}\\{INTERNATIONAL}") or {}).get("LocaleName")
        if locale:
            return str(locale)
    return ""


def keyboard_layouts(reader: RegistryReader, hives: list[str]) -> list[str]:
    """Each logged-in person's Preload list ("1", "2", … → KLIDs such as 00000412), in order."""
    layouts: list[str] = []
    for hive in hives or [DEFAULT_USER]:
        preload = reader.values(f"{hive}\\{PRELOAD}") or {}
        layouts += [str(preload[name]) for name in sorted(preload, key=_order)]
    return list(dict.fromkeys(layouts))


def _order(name: str) -> tuple[int, str]:
    return (int(name), "") if name.isdigit() else (1 << 30, name)


def _set_clock(ctx: ProbeContext, host: report_pb2.Host, zone: dict) -> None:
    windows_name = str(zone.get("TimeZoneKeyName", ""))
    host.timezone = WINDOWS_TO_IANA.get(windows_name, "")
    if host.timezone:
        host.utc_offset_minutes = common.utc_offset_minutes(ctx, host.timezone)
        return
    ctx.gap(f"time zone {windows_name or '(none)'!r} has no IANA name here")
    bias = zone.get("ActiveTimeBias")
    if isinstance(bias, int):
        host.utc_offset_minutes = -_signed_32(bias)  # the bias is UTC minus local time


def _signed_32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value
