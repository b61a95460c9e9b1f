"""The Wi-Fi network a laptop is joined to, and the access points it can see (`wifi_nearby`),
from `iw` or `nmcli` output; `strongest` bounds every platform's list the same way."""

from __future__ import annotations

import re

from farmwatch.v1 import report_pb2

from .context import ProbeContext

_IW_BSSID = re.compile(r"^Connected to ([0-9a-fA-F:]{17})", re.MULTILINE)
_IW_SSID = re.compile(r"^\s*SSID: (.*)$", re.MULTILINE)
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# The co-location evidence needs the neighbourhood, not every far-off beacon: the strongest are
# the ones another laptop on the same shelf also hears (docs/fleet.md §10).
MAX_NEARBY = 50
NMCLI_NEARBY = ["nmcli", "-t", "-f", "BSSID,SSID,SIGNAL,CHAN", "device", "wifi", "list"]


def current_wifi(ctx: ProbeContext, wifi_interfaces: list[str]) -> report_pb2.Wifi:
    if not ctx.is_live:
        ctx.gap("wifi: SSID/BSSID come from iw or nmcli, which do not run against a sysroot")
        return report_pb2.Wifi()
    if ctx.has_tool("iw"):
        for name in wifi_interfaces:
            wifi = parse_iw_link(ctx.run(["iw", "dev", name, "link"]) or "")
            if wifi.bssid:
                return wifi
        return report_pb2.Wifi()
    if ctx.has_tool("nmcli"):
        return parse_nmcli_wifi(ctx.run(["nmcli", "-t", "-f", "ACTIVE,SSID,BSSID", "device", "wifi"]) or "")
    ctx.gap("wifi: neither iw nor nmcli is installed")
    return report_pb2.Wifi()


def parse_iw_link(output: str) -> report_pb2.Wifi:
    """`iw dev <if> link`: "Connected to aa:bb:… (on wlan0)" then "\\tSSID: name"."""
    bssid = _IW_BSSID.search(output)
    if bssid is None:
        return report_pb2.Wifi()  # "Not connected."
    ssid = _IW_SSID.search(output)
    return report_pb2.Wifi(ssid=ssid[1] if ssid else "", bssid=bssid[1].lower())


def parse_nmcli_wifi(output: str) -> report_pb2.Wifi:
    """`nmcli -t -f ACTIVE,SSID,BSSID device wifi`: terse lines with ':' separators and
    '\\:' for a colon inside a value (every BSSID has five)."""
    for line in output.splitlines():
        fields = _split_terse(line)
        if len(fields) == 3 and fields[0] == "yes":
            return report_pb2.Wifi(ssid=fields[1], bssid=fields[2].lower())
    return report_pb2.Wifi()


def _split_terse(line: str) -> list[str]:
    fields, current, escaped = [], [], False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


# -- access points in range --------------------------------------------------------------


def nearby_wifi(ctx: ProbeContext, wifi_interfaces: list[str]) -> list[report_pb2.WifiAccessPoint]:
    """NetworkManager's list (it rescans when its list is stale), else the kernel's scan
    cache through `iw dev IF scan dump` (no root needed, no scan started)."""
    if not ctx.is_live:
        return []  # the gap `current_wifi` records covers this list too
    if ctx.has_tool("nmcli"):
        return strongest(parse_nmcli_nearby(ctx.run(NMCLI_NEARBY) or ""))
    if ctx.has_tool("iw"):
        return strongest([ap for name in wifi_interfaces
                          for ap in parse_iw_scan(ctx.run(["iw", "dev", name, "scan", "dump"]) or "")])
    ctx.gap("wifi_nearby: neither nmcli nor iw is installed")
    return []


def parse_nmcli_nearby(output: str) -> list[report_pb2.WifiAccessPoint]:
    """`nmcli -t -f BSSID,SSID,SIGNAL,CHAN device wifi list`: BSSID with '\\:' escapes, SSID
    (empty, or "--" in some versions, when hidden), SIGNAL as NetworkManager's 0-100 quality."""
    found = []
    for line in output.splitlines():
        fields = _split_terse(line)
        if len(fields) != 4:
            continue
        bssid, ssid, signal, channel = fields
        found.append(access_point(bssid, "" if ssid == "--" else ssid, _nm_quality_dbm(signal), channel))
    return [ap for ap in found if ap.bssid]


def _nm_quality_dbm(quality: str) -> int:
    """NetworkManager maps dBm to quality linearly from -100 (0 %) to -40 dBm (100 %)
    (`nm_wifi_utils_level_to_quality`); this is its inverse, exact to the 0.6 dB its rounding
    loses. (Windows' quality is another scale: `windows/network.py`.)"""
    try:
        return round(0.6 * min(max(int(quality), 0), 100) - 100)
    except ValueError:
        return 0


def parse_iw_scan(output: str) -> list[report_pb2.WifiAccessPoint]:
    """`iw dev IF scan dump`: a "BSS aa:bb:…(on wlan0)" line opens each access point, then
    tab-indented "freq: 2437", "signal: -61.00 dBm", "SSID: name" (its first SSID line: later
    ones belong to elements such as a Multi-BSSID profile)."""
    found: list[report_pb2.WifiAccessPoint] = []
    current: dict[str, str] = {}
    for line in [*output.splitlines(), "BSS end"]:
        if line.startswith("BSS "):
            if current:
                found.append(access_point(current["bssid"], current.get("SSID", ""),
                                          _number(current.get("signal")), _channel(current.get("freq"))))
            current = {"bssid": line[4:21]}
        elif current and line.startswith("\t") and ": " in line:
            key, _, value = line.strip().partition(": ")
            current.setdefault(key, value.strip())
    return [ap for ap in found if ap.bssid]


def _number(text: str | None) -> int:
    try:
        return round(float((text or "").split()[0]))
    except (ValueError, IndexError):
        return 0


def _channel(freq: str | None) -> int:
    """IEEE 802.11 channel of a centre frequency in MHz (2.4, 5 and 6 GHz bands)."""
    mhz = _number(freq)
    if mhz == 2484:
        return 14
    for low, high, base in ((2412, 2472, 2407), (5160, 5885, 5000), (5955, 7115, 5950)):
        if low <= mhz <= high:
            return (mhz - base) // 5
    return 0


def access_point(bssid: str, ssid: str, signal_dbm: int, channel) -> report_pb2.WifiAccessPoint:
    """One access point in the contract's spelling; an unreadable BSSID becomes "" (dropped by
    the parsers: an access point without its BSSID is no evidence of where the laptop is)."""
    bssid = bssid.strip().lower().replace("-", ":")
    try:
        channel = int(str(channel).strip() or 0)
    except ValueError:
        channel = 0
    return report_pb2.WifiAccessPoint(bssid=bssid if _MAC.match(bssid) else "", ssid=ssid,
                                      signal_dbm=signal_dbm, channel=channel)


def strongest(found: list[report_pb2.WifiAccessPoint]) -> list[report_pb2.WifiAccessPoint]:
    """Each BSSID once (its strongest sighting), strongest first, at most MAX_NEARBY; a signal
    the tool did not give (0) sorts last."""
    best: dict[str, report_pb2.WifiAccessPoint] = {}
    for ap in found:
        if ap.bssid and (ap.bssid not in best or _strength(ap) > _strength(best[ap.bssid])):
            best[ap.bssid] = ap
    return sorted(best.values(), key=lambda ap: (-_strength(ap), ap.bssid))[:MAX_NEARBY]


def _strength(ap: report_pb2.WifiAccessPoint) -> int:
    return ap.signal_dbm if ap.signal_dbm else -1000
