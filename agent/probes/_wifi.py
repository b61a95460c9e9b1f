"""The Wi-Fi network a laptop is joined to, from `iw` or `nmcli` output."""

from __future__ import annotations

import re

from farmwatch.v1 import report_pb2

from .context import ProbeContext

_IW_BSSID = re.compile(r"^Connected to ([0-9a-fA-F:]{17})", re.MULTILINE)
_IW_SSID = re.compile(r"^\s*SSID: (.*)$", re.MULTILINE)


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
