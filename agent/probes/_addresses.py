"""IP addresses per interface.

The live machine asks the kernel through psutil. A sysroot has only files: IPv6 comes
from /proc/net/if_inet6, IPv4 from the LOCAL entries of /proc/net/fib_trie, matched to an
interface through the routes in /proc/net/route.
"""

from __future__ import annotations

import ipaddress
import socket

import psutil

from . import _procfs
from ._sockets import normal_ip, proc_ip
from .context import ProbeContext


def interface_addresses(ctx: ProbeContext) -> dict[str, list[str]]:
    if ctx.is_live:
        return _live_addresses()
    if not (ctx.exists("/proc/net/if_inet6") or ctx.exists("/proc/net/fib_trie")):
        ctx.gap("addresses: the tree has neither /proc/net/fib_trie nor /proc/net/if_inet6")
        return {}
    addresses = _ipv4_from_fib_trie(ctx)
    for name, ips in _ipv6_from_if_inet6(ctx).items():
        addresses.setdefault(name, []).extend(ips)
    return addresses


def _live_addresses() -> dict[str, list[str]]:
    families = (socket.AF_INET, socket.AF_INET6)
    return {
        name: [normal_ip(entry.address) for entry in entries if entry.family in families]
        for name, entries in psutil.net_if_addrs().items()
    }


def _ipv6_from_if_inet6(ctx: ProbeContext) -> dict[str, list[str]]:
    """Lines: address (32 hex digits), ifindex, prefix length, scope, flags, name."""
    addresses: dict[str, list[str]] = {}
    for line in (ctx.read_text("/proc/net/if_inet6") or "").splitlines():
        fields = line.split()
        if len(fields) == 6 and len(fields[0]) == 32:
            address = str(ipaddress.IPv6Address(bytes.fromhex(fields[0])))
            addresses.setdefault(fields[5], []).append(address)
    return addresses


def _ipv4_from_fib_trie(ctx: ProbeContext) -> dict[str, list[str]]:
    routes = _connected_routes(ctx)
    addresses: dict[str, list[str]] = {}
    for ip in local_ipv4_addresses(ctx.read_text("/proc/net/fib_trie") or ""):
        name = _interface_for(ip, routes)
        if name and ip not in addresses.get(name, []):
            addresses.setdefault(name, []).append(ip)
    return addresses


def local_ipv4_addresses(fib_trie: str) -> list[str]:
    """The trie prints a leaf ("|-- 10.0.0.5") and then its kinds ("/32 host LOCAL");
    a /32 host LOCAL entry is an address of this machine."""
    found: list[str] = []
    leaf = ""
    for line in fib_trie.splitlines():
        text = line.strip()
        if text.startswith("|--"):
            leaf = text[3:].strip()
        elif text.startswith("/32 host LOCAL") and leaf and leaf not in found:
            found.append(leaf)
    return found


def _connected_routes(ctx: ProbeContext) -> list[tuple[ipaddress.IPv4Network, str]]:
    found = []
    for route in _procfs.routes(ctx):
        if route.destination == "00000000":
            continue
        try:
            network = ipaddress.IPv4Network(f"{proc_ip(route.destination)}/{proc_ip(route.mask)}", strict=False)
        except ValueError:
            continue
        found.append((network, route.interface))
    return sorted(found, key=lambda route: route[0].prefixlen, reverse=True)


def _interface_for(ip: str, routes: list[tuple[ipaddress.IPv4Network, str]]) -> str:
    address = ipaddress.IPv4Address(ip)
    if address.is_loopback:
        return "lo"
    return next((name for network, name in routes if address in network), "")
