"""A PC's network position: interfaces and sockets (psutil); default gateway, its MAC,
DNS servers and forwarding from the NetTCPIP cmdlets; the Wi-Fi network from
``netsh wlan show interfaces`` and the access points in range from ``netsh wlan show networks
mode=bssid`` (which Windows 11 24H2 answers only with location access)."""

from __future__ import annotations

import re
from typing import Any

from farmwatch.v1 import report_pb2

from .. import _psutil_tables
from .._key_values import colon_blocks
from .._sockets import normal_ip, normal_mac
from .._wifi import access_point, strongest
from ..context import ProbeContext
from ._powershell import as_list, query

NETWORK_SCRIPT = r"""# farmwatch network
$route = Get-NetRoute -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue |
    Sort-Object { $_.RouteMetric + $_.InterfaceMetric } | Select-Object -First 1
$neighbor = if ($route) {
    Get-NetNeighbor -IPAddress $route.NextHop -ErrorAction SilentlyContinue | Select-Object -First 1
}
[pscustomobject]@{
    Gateway = $route.NextHop; InterfaceAlias = $route.InterfaceAlias; GatewayMac = $neighbor.LinkLayerAddress
    DnsServers = @(Get-DnsClientServerAddress -ErrorAction SilentlyContinue |
        Where-Object { $_.InterfaceAlias -eq $route.InterfaceAlias } | ForEach-Object { $_.ServerAddresses })
    Forwarding = @(Get-NetIPInterface -ErrorAction SilentlyContinue |
        Where-Object { $_.Forwarding -eq 'Enabled' } | ForEach-Object { $_.InterfaceAlias })
} | ConvertTo-Json -Depth 3"""
WLAN = ["netsh", "wlan", "show", "interfaces"]
WLAN_NETWORKS = ["netsh", "wlan", "show", "networks", "mode=bssid"]
_NETWORK_SSID = re.compile(r"^SSID \d+\s*: ?(.*)$")
_NETWORK_BSSID = re.compile(r"^\s+BSSID \d+\s*: ?(\S+)")
_PERCENT = re.compile(r"^(\d{1,3})\s*%$")
_NAME_KINDS = (("loopback", "loopback"), ("wi-fi", "wifi"), ("wlan", "wifi"), ("wireless", "wifi"),
               ("vethernet", "virtual"), ("virtualbox", "virtual"), ("vmware", "virtual"),
               ("bluetooth", "other"), ("ethernet", "ethernet"))
_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")
_TUNNEL_WORDS = ("vpn", "tap", "tun", "wireguard", "tailscale", "zerotier", "zscaler", "openvpn", "anyconnect")


def collect(ctx: ProbeContext) -> report_pb2.Network:
    network = report_pb2.Network(interfaces=_psutil_tables.interfaces(ctx, interface_kind))
    apply_routing(network, query(ctx, NETWORK_SCRIPT))
    # An adapter's name is the user's (or the display language's: "WLAN", "Беспроводная сеть"),
    # so one whose kind the name does not tell may be the Wi-Fi one: netsh names it.
    if any(i.kind == "wifi" or _unknown_name(i.name) for i in network.interfaces):
        output = ctx.run(WLAN) or ""
        wifi_names = set(netsh_interface_names(output))
        for interface in network.interfaces:
            if interface.name in wifi_names:
                interface.kind = "wifi"
        network.wifi.CopyFrom(parse_netsh_wlan(output))
        if wifi_names:
            network.wifi_nearby.extend(strongest(parse_netsh_networks(ctx.run(WLAN_NETWORKS) or "")))
    _psutil_tables.add_sockets(ctx, network, _psutil_tables.names_by_pid(ctx.machine.processes()))
    return network


def interface_kind(name: str) -> str:
    return _kind_by_name(name) or "other"


def _kind_by_name(name: str) -> str | None:
    folded = name.casefold()
    for word, kind in _NAME_KINDS:
        if folded.startswith(word):
            return kind
    if any(word in folded for word in _TUNNEL_WORDS):
        return "tunnel"
    return None


def _unknown_name(name: str) -> bool:
    """A name that says nothing of the adapter (renamed, or in another language)."""
    return _kind_by_name(name) is None


def apply_routing(network: report_pb2.Network, answer: Any) -> None:
    if not isinstance(answer, dict):
        return
    gateway = _address(answer.get("Gateway"))
    if gateway:
        network.default_gateway.CopyFrom(report_pb2.Gateway(
            ip=gateway, interface=answer.get("InterfaceAlias") or "",
            mac=normal_mac(str(answer.get("GatewayMac") or ""))))
    network.dns_servers.extend(a for a in (_address(s) for s in as_list(answer.get("DnsServers"))) if a)
    # Hyper-V and WSL switches forward by design; a physical or tunnel interface should not
    network.ip_forwarding = any(interface_kind(str(alias)) not in ("loopback", "virtual")
                                for alias in as_list(answer.get("Forwarding")))


def _address(text: Any) -> str:
    try:
        address = normal_ip(str(text or ""))
    except ValueError:
        return ""
    return "" if address in ("0.0.0.0", "::") else address


def parse_netsh_wlan(output: str) -> report_pb2.Wifi:
    """The connected interface's SSID and BSSID (newer builds say "AP BSSID"). Keys and states
    are in the display language ("Status : Verbunden", "État : connecté") but "SSID" and
    "BSSID" are not, and netsh prints them only for a connected interface."""
    for block in colon_blocks(output):
        bssid = block.get("BSSID") or block.get("AP BSSID") or ""
        if _MAC.match(bssid):
            return report_pb2.Wifi(ssid=block.get("SSID", ""), bssid=bssid.lower().replace("-", ":"))
    for block in colon_blocks(output):
        if block.get("State", "").casefold() == "connected" and block.get("SSID"):
            return report_pb2.Wifi(ssid=block["SSID"])
    return report_pb2.Wifi()


def netsh_interface_names(output: str) -> list[str]:
    """The wireless adapters netsh describes: each block's first field ("Name", "Nom", "Имя"…)
    in the blocks that carry the adapter's GUID."""
    return [next(iter(block.values())) for block in colon_blocks(output) if "GUID" in block]


def parse_netsh_networks(output: str) -> list[report_pb2.WifiAccessPoint]:
    """`netsh wlan show networks mode=bssid`: "SSID 1 : name", then per access point "BSSID 1 :
    aa:bb:…" and its indented "key : value" lines. Labels are in the display language ("Signal",
    "Kanal", "Canal") but "SSID" and "BSSID" are not: an access point's signal is its first value
    in percent, its channel the first bare number after it (before "Bss Load" sub-lines, which
    have no " : "). Windows' quality runs linearly from -100 dBm (0 %) to -50 dBm (100 %)
    (WLAN_SIGNAL_QUALITY, wlanapi.h), so dBm = quality / 2 - 100."""
    found: list[report_pb2.WifiAccessPoint] = []
    ssid, current = "", None
    for line in output.splitlines():
        if match := _NETWORK_SSID.match(line):
            ssid, current = match[1].strip(), None
        elif match := _NETWORK_BSSID.match(line):
            current = {"bssid": match[1], "ssid": ssid}
            found.append(current)
        elif current is not None and " : " in line:
            value = line.partition(" : ")[2].strip()
            if "signal" not in current and (percent := _PERCENT.match(value)):
                current["signal"] = min(int(percent[1]), 100) // 2 - 100
            elif "signal" in current and "channel" not in current and value.isdigit():
                current["channel"] = value
    return [ap for ap in (access_point(f["bssid"], f["ssid"], f.get("signal", 0), f.get("channel", 0))
                          for f in found) if ap.bssid]
