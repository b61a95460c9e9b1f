"""Who the Mac is: serial and model from IOPlatformExpertDevice, the macOS version,
clock, locale and the input sources each user has enabled (Korean IME included)."""

from __future__ import annotations

import platform
from typing import Any

from farmwatch import agent
from farmwatch.v1 import report_pb2

from .. import host as common
from ..context import ProbeContext
from ._plist import read_plist, tool_plist
from ._users import user_homes

IOREG_PLATFORM = ["ioreg", "-rd1", "-a", "-c", "IOPlatformExpertDevice"]
SYSTEM_VERSION = "/System/Library/CoreServices/SystemVersion.plist"
GLOBAL_PREFERENCES = "Library/Preferences/.GlobalPreferences.plist"
HITOOLBOX = "Library/Preferences/com.apple.HIToolbox.plist"
_KEYBOARD_LAYOUT_PREFIX = "com.apple.keylayout."
# kinds of entry in AppleEnabledInputSources that are not a language (emoji palette, accents)
_NOT_LANGUAGES = ("Non Keyboard Input Method",)


def collect(ctx: ProbeContext) -> report_pb2.Host:
    serial, model = platform_identity(tool_plist(ctx, IOREG_PLATFORM))
    homes = user_homes(ctx)
    host = report_pb2.Host(
        hostname=_first_line(ctx.run(["hostname"]) or ""),
        os="macos",
        os_version=(read_plist(ctx, SYSTEM_VERSION) or {}).get("ProductVersion", ""),
        arch=_first_line(ctx.run(["uname", "-m"]) or "") or (platform.machine() if ctx.is_live else ""),
        agent_version=agent.__version__,
        serial_number=serial,
        hardware_model=model,
        locale=_locale(ctx, homes),
        keyboard_layouts=input_sources(ctx, homes),
    )
    boot_time = ctx.machine.boot_time()
    if boot_time:
        host.boot_time.FromSeconds(int(boot_time))
    host.timezone = common.timezone_name(ctx)
    host.utc_offset_minutes = common.utc_offset_minutes(ctx, host.timezone)
    return host


def platform_identity(tree: Any) -> tuple[str, str]:
    """(serial number, model identifier such as "MacBookPro16,1") of the platform node."""
    node = tree[0] if isinstance(tree, list) and tree else tree
    if not isinstance(node, dict):
        return "", ""
    model = node.get("model", b"")
    if isinstance(model, bytes):
        model = model.split(b"\0", 1)[0].decode("ascii", errors="replace")
    serial = str(node.get("IOPlatformSerialNumber", ""))
    return ("" if common.is_placeholder(serial) else serial), model


def _locale(ctx: ProbeContext, homes: list[str]) -> str:
    for path in [*(f"{home}/{GLOBAL_PREFERENCES}" for home in homes), f"/{GLOBAL_PREFERENCES}"]:
        locale = (read_plist(ctx, path) or {}).get("AppleLocale")
        if locale:
            return str(locale)
    return ""


def input_sources(ctx: ProbeContext, homes: list[str]) -> list[str]:
    """Input source ids enabled by any user, then the machine's default ones."""
    sources: list[str] = []
    for path in [*(f"{home}/{HITOOLBOX}" for home in homes), f"/{HITOOLBOX}"]:
        sources += parse_enabled_input_sources((read_plist(ctx, path) or {}).get("AppleEnabledInputSources", []))
    return list(dict.fromkeys(sources))


def parse_enabled_input_sources(entries: list[Any]) -> list[str]:
    """Ids as the Text Input Source API names them: a layout "U.S." is com.apple.keylayout.US,
    an input mode keeps its own id (com.apple.inputmethod.Korean.2SetKorean)."""
    ids = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("InputSourceKind") in _NOT_LANGUAGES:
            continue
        if entry.get("Input Mode"):
            ids.append(str(entry["Input Mode"]))
        elif entry.get("KeyboardLayout Name"):
            name = str(entry["KeyboardLayout Name"])
            ids.append(_KEYBOARD_LAYOUT_PREFIX + name.replace(".", "").replace(" ", ""))
        elif entry.get("Bundle ID"):
            ids.append(str(entry["Bundle ID"]))
    return ids


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()
