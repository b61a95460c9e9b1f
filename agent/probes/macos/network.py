"""A Mac's network position: interfaces and sockets (psutil), the default gateway and its
MAC (``route``, ``arp``), the Wi-Fi network (``wdutil``, else ``ipconfig getsummary``), the
access points in range (``system_profiler SPAirPortDataType -json``), DNS servers
(``scutil --dns``) and IP forwarding (``sysctl``)."""

from __future__ import annotations

import json
import re

from farmwatch.v1 import report_pb2

from .. import _psutil_tables
from .._key_values import colon_fields
from .._sockets import normal_ip
from .._wifi import access_point, strongest
from ..context import ProbeContext

ROUTE_DEFAULT = ["route", "-n", "get", "default"]
HARDWARE_PORTS = ["networksetup", "-listallhardwareports"]
DNS = ["scutil", "--dns"]
FORWARDING = ["sysctl", "-n", "net.inet.ip.forwarding"]
# The JSON form: its keys are the same in every display language, its text labels are not.
AIRPORT = ["system_profiler", "SPAirPortDataType", "-json"]
_REDACTED = "<redacted>"
_ARP_MAC = re.compile(r"\bat ([0-9a-fA-F:]+) on ")
_PREFIX_KINDS = (("lo", "loopback"), ("utun", "tunnel"), ("ipsec", "tunnel"), ("ppp", "tunnel"),
                 ("gif", "tunnel"), ("stf", "tunnel"), ("bridge", "bridge"), ("awdl", "wifi"),
                 ("llw", "other"), ("anpi", "other"), ("ap", "wifi"), ("vmenet", "virtual"))


def collect(ctx: ProbeContext) -> report_pb2.Network:
    wifi_devices = hardware_ports(ctx.run(HARDWARE_PORTS) or "").get("Wi-Fi", [])
    network = report_pb2.Network(
        interfaces=_psutil_tables.interfaces(ctx, lambda name: interface_kind(name, wifi_devices)),
        dns_servers=parse_scutil_dns(ctx.run(DNS) or ""),
        ip_forwarding=(ctx.run(FORWARDING) or "").strip() == "1",
    )
    gateway = parse_route_get(ctx.run(ROUTE_DEFAULT, missing_is_gap=True) or "")
    if gateway.ip:
        gateway.mac = parse_arp(ctx.run(["arp", "-n", gateway.ip]) or "")
        network.default_gateway.CopyFrom(gateway)
    if wifi_devices:
        network.wifi.CopyFrom(current_wifi(ctx, wifi_devices[0]))
        network.wifi_nearby.extend(nearby_wifi(ctx))
    _psutil_tables.add_sockets(ctx, network, _psutil_tables.names_by_pid(ctx.machine.processes()))
    return network


def hardware_ports(output: str) -> dict[str, list[str]]:
    """`networksetup -listallhardwareports`: "Hardware Port: Wi-Fi" then "Device: en0"."""
    ports: dict[str, list[str]] = {}
    port = ""
    for line in output.splitlines():
        key, _, value = line.partition(": ")
        if key == "Hardware Port":
            port = value.strip()
        elif key == "Device" and port:
            ports.setdefault(port, []).append(value.strip())
    return ports


def interface_kind(name: str, wifi_devices: list[str]) -> str:
    if name in wifi_devices:
        return "wifi"
    for prefix, kind in _PREFIX_KINDS:
        if name.startswith(prefix):
            return kind
    return "ethernet" if name.startswith("en") else "other"


def parse_route_get(output: str) -> report_pb2.Gateway:
    fields = colon_fields(output)
    try:
        ip = normal_ip(fields.get("gateway", ""))
    except ValueError:
        return report_pb2.Gateway()  # no default route, or a link-level "gateway"
    return report_pb2.Gateway(ip=ip, interface=fields.get("interface", ""))


def parse_arp(output: str) -> str:
    """`arp -n IP`: "? (192.168.1.1) at a0:63:91:aa:bb:c on en0 …"; macOS drops leading zeros."""
    match = _ARP_MAC.search(output)
    if not match:
        return ""  # "(incomplete)" or "no entry"
    return ":".join(octet.lower().zfill(2) for octet in match[1].split(":"))


def current_wifi(ctx: ProbeContext, device: str) -> report_pb2.Wifi:
    output = ctx.run(["wdutil", "info"]) or ctx.run(["ipconfig", "getsummary", device])
    if output is None:
        ctx.gap("wifi: neither wdutil nor ipconfig answered")
        return report_pb2.Wifi()
    wifi = parse_wifi_summary(output)
    if _REDACTED in (wifi.ssid, wifi.bssid):
        ctx.gap("wifi bssid withheld: Location Services not authorised for farmwatch-agent")
        wifi = report_pb2.Wifi(ssid="" if wifi.ssid == _REDACTED else wifi.ssid,
                               bssid="" if wifi.bssid == _REDACTED else wifi.bssid)
    return wifi


def parse_wifi_summary(output: str) -> report_pb2.Wifi:
    """`wdutil info` and `ipconfig getsummary en0` both print "SSID : name", "BSSID : …"."""
    fields = colon_fields(output)
    bssid = fields.get("BSSID", "")
    return report_pb2.Wifi(ssid=fields.get("SSID", ""), bssid=bssid if bssid == _REDACTED else bssid.lower())


def nearby_wifi(ctx: ProbeContext) -> list[report_pb2.WifiAccessPoint]:
    output = ctx.run(AIRPORT)
    if output is None:
        return []
    try:
        found, withheld = parse_airport(output)
    except ValueError as exc:
        ctx.gap(f"wifi_nearby: system_profiler SPAirPortDataType gave no JSON ({exc})")
        return []
    if withheld:
        ctx.gap(f"wifi_nearby: BSSIDs of {withheld} access point(s) withheld: Location Services not "
                "authorised for farmwatch-agent")
    return strongest(found)


def parse_airport(output: str) -> tuple[list[report_pb2.WifiAccessPoint], int]:
    """The joined network and the "Other Local Wi-Fi Networks" of every Wi-Fi interface, and how
    many came without a BSSID (macOS 14+ leaves `spairport_network_bssid` out, and may print
    the name as `<redacted>`, unless the process may use Location Services)."""
    data = json.loads(output)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    seen = []
    for item in data.get("SPAirPortDataType") or []:
        for interface in item.get("spairport_airport_interfaces") or []:
            current = interface.get("spairport_current_network_information")
            seen += [_airport_network(network) for network in
                     [*([current] if isinstance(current, dict) else []),
                      *(interface.get("spairport_airport_other_local_wireless_networks") or [])]
                     if isinstance(network, dict)]
    found = [ap for ap in seen if ap.bssid]
    return found, len(seen) - len(found)


def _airport_network(network: dict) -> report_pb2.WifiAccessPoint:
    """"Signal / Noise": "-61 dBm / -92 dBm"; channel: "36 (5GHz, 80MHz)" (an int on old macOS)."""
    signal = re.match(r"\s*(-?\d+)", str(network.get("spairport_signal_noise") or ""))
    channel = re.match(r"\s*(\d+)", str(network.get("spairport_network_channel") or ""))
    ssid = str(network.get("_name") or "")
    return access_point(str(network.get("spairport_network_bssid") or ""), "" if ssid == _REDACTED else ssid,
                        int(signal[1]) if signal else 0, channel[1] if channel else 0)


def parse_scutil_dns(output: str) -> list[str]:
    """The nameservers of `scutil --dns`'s first resolver (the default one)."""
    servers: list[str] = []
    for block in output.split("resolver #")[1:2]:
        for line in block.splitlines():
            key, _, value = line.partition(":")
            if key.strip().startswith("nameserver["):
                try:
                    servers.append(normal_ip(value.strip()))
                except ValueError:
                    continue
    return servers

