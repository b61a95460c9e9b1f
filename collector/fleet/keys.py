"""Location keys: where a report came from, as the collector and the laptop saw it.

Three kinds, strongest first: the default gateway's MAC (the router the laptop sits behind), the
Wi-Fi BSSID (the access point), and the public address the collector saw the report come from.
Gateway MAC and BSSID are not shared by carrier NAT and not changed by a VPN on the router
(docs/fleet.md §1), so they beat the address.

An IPv6 address counts by its /64, the network of one home (`address_key`).

A value that does not identify a place never keys a cluster:
- addresses that are not global (loopback, link-local, private, carrier-grade NAT 100.64/10):
  a private peer address means the laptop reached us through our own network or VPN;
- MACs that are all-zero, broadcast or multicast; gateway MACs with the locally administered
  bit (hypervisor NAT, container bridges, phone hotspots with randomised MACs), from
  hypervisors' virtual-NIC OUIs, or the virtual router MACs of VRRP/HSRP/GLBP. BSSIDs keep
  locally administered values: access points serving several SSIDs derive their extra BSSIDs
  that way.
"""
from __future__ import annotations

import functools
import ipaddress
import re

GATEWAY, BSSID, ADDRESS = "gateway_mac", "wifi_bssid", "peer_ip"
KINDS = (GATEWAY, BSSID, ADDRESS)
# Not a location key but a cluster kind: laptops that hear the same access points at similar
# strengths (`fleet.colocation`), named by its members' most common neighbour (a keyed hash).
WIFI_AREA = "wifi_area"
CLUSTER_KINDS = (GATEWAY, BSSID, WIFI_AREA, ADDRESS)  # strongest first
KIND_NAMES = {GATEWAY: "gateway MAC", BSSID: "Wi-Fi BSSID", WIFI_AREA: "Wi-Fi neighbourhood", ADDRESS: "public address"}
_SHORT = {GATEWAY: "gw", BSSID: "wifi", WIFI_AREA: "area", ADDRESS: "ip"}

# Virtual NICs of VMware, VirtualBox, Hyper-V, Parallels and Xen: a laptop whose gateway has
# one of these is inside a VM, and every such VM on earth shares the prefix.
VIRTUAL_OUIS = frozenset({"00:50:56", "00:0c:29", "00:05:69", "00:1c:14", "08:00:27", "0a:00:27",
                          "00:15:5d", "00:1c:42", "00:16:3e"})
IPV6_SITE_PREFIX = 64
# Virtual router MACs of first-hop redundancy protocols: every site running VRRP (RFC 5798,
# 00-00-5E-00-01/02-{VRID}), Cisco HSRP v1/v2 (0000.0c07.acXX, 0000.0c9f.fXXX, 0005.73a0.0XXX) or GLBP
# (0007.b400.XXYY) with the same group number shows its laptops the same gateway MAC: an office, a
# client's site, a hotel or a campus, never one home.
VIRTUAL_ROUTER_PREFIXES = ("00:00:5e:00:01:", "00:00:5e:00:02:", "00:00:0c:07:ac:", "00:00:0c:9f:f", "00:05:73:a0:0",
                           "00:07:b4:0")
_MAC_DIGITS = re.compile(r"[0-9a-f]{12}")


def normalise_mac(value: str | None) -> str | None:
    """`aa:bb:cc:dd:ee:ff` from any common spelling (dashes, dots, upper case); None if not a MAC."""
    digits = re.sub(r"[:\-.\s]", "", (value or "").lower())
    if not _MAC_DIGITS.fullmatch(digits):
        return None
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def _is_real_station(mac: str) -> bool:
    first = int(mac[:2], 16)
    return mac not in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff") and not first & 0x01


def gateway_key(value: str | None) -> str | None:
    mac = normalise_mac(value)
    if (mac is None or not _is_real_station(mac) or int(mac[:2], 16) & 0x02 or mac[:8] in VIRTUAL_OUIS
            or mac.startswith(VIRTUAL_ROUTER_PREFIXES)):
        return None
    return mac


def bssid_key(value: str | None) -> str | None:
    mac = normalise_mac(value)
    return mac if mac is not None and _is_real_station(mac) else None


def address_key(value: str | None) -> str | None:
    """An IPv4 address as it is; an IPv6 address as its /64, the one network of a home: each
    laptop there has addresses of its own in it, which it changes daily (privacy extensions)."""
    address = parse_address(value)
    if address is None:
        return _site_key(value)
    if not address.is_global:
        return None
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_SITE_PREFIX}", strict=False))
    return str(address)


@functools.lru_cache(maxsize=1 << 16)
def parse_address(value: str | None):
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


KEY_OF = {GATEWAY: gateway_key, BSSID: bssid_key, ADDRESS: address_key}


def cluster_id(kind: str, value: str) -> str:
    """Stable across runs: the same key is the same cluster."""
    import hashlib

    return f"{_SHORT[kind]}-{hashlib.sha256(f'{kind}={value}'.encode()).hexdigest()[:12]}"


def in_networks(value: str | None, networks: tuple) -> bool:
    """Whether an address, or an address key's network (an IPv6 /64), lies in (or overlaps) one of `networks`."""
    address = parse_address(value)
    if address is not None:
        return any(address.version == n.version and address in n for n in networks)
    network = _parse_network(value)
    return network is not None and any(network.version == n.version and network.overlaps(n) for n in networks)


def _site_key(value: str | None) -> str | None:
    """An address key given again (a /64): itself, so every key function is idempotent."""
    network = _parse_network(value)
    if network is None or network.version != 6 or network.prefixlen != IPV6_SITE_PREFIX or not network.is_global:
        return None
    return str(network)


def _parse_network(value: str | None):
    try:
        return ipaddress.ip_network((value or "").strip(), strict=False)
    except ValueError:
        return None
