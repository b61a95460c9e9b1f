"""Network position: interfaces, gateway, Wi-Fi, DNS, forwarding, sockets."""

from __future__ import annotations

from farmwatch.v1 import report_pb2

from . import _procfs
from ._addresses import interface_addresses
from ._platform import dispatch
from ._probe import OPERATING_SYSTEMS, Probe
from ._sockets import Socket, normal_ip, normal_mac, proc_ip, read_sockets, socket_owners
from ._wifi import current_wifi, nearby_wifi
from .context import ProbeContext

NET_CLASS_DIR = "/sys/class/net"
_ARPHRD_LOOPBACK = "772"
_ARPHRD_ETHER = "1"
_ARPHRD_NONE = "65534"  # tun and WireGuard devices carry no link-layer header
_IFF_UP = 0x1
_RTF_UP, _RTF_GATEWAY = 0x1, 0x2
_TUNNEL_PREFIXES = ("tun", "tap", "wg", "tailscale", "zt", "ipsec", "vti", "gre")
_VIRTUAL_PREFIXES = ("veth", "docker", "br-", "virbr", "vnet", "vmnet", "vboxnet", "lxc", "cni", "flannel")
_RESOLVED_STUB = "127.0.0.53"
_RESOLVED_UPSTREAM = "/run/systemd/resolve/resolv.conf"


def collect(ctx: ProbeContext) -> report_pb2.Network:
    return dispatch(ctx, report_pb2.Network, linux=_linux, macos="macos.network", windows="windows.network")


PROBE = Probe("network", collect, field="network", platforms=OPERATING_SYSTEMS)


def _linux(ctx: ProbeContext) -> report_pb2.Network:
    interfaces = _interfaces(ctx)
    network = report_pb2.Network(
        interfaces=interfaces,
        dns_servers=dns_servers(ctx),
        ip_forwarding=_ip_forwarding(ctx),
    )
    gateway = default_gateway(ctx)
    if gateway is not None:
        network.default_gateway.CopyFrom(gateway)
    wifi_names = [i.name for i in interfaces if i.kind == "wifi"]
    if wifi_names:
        network.wifi.CopyFrom(current_wifi(ctx, wifi_names))
        network.wifi_nearby.extend(nearby_wifi(ctx, wifi_names))
    _add_sockets(ctx, network)
    return network


# -- interfaces ------------------------------------------------------------------------


def _interfaces(ctx: ProbeContext) -> list[report_pb2.NetworkInterface]:
    if not ctx.is_dir(NET_CLASS_DIR):
        ctx.gap(f"no {NET_CLASS_DIR}")
        return []
    addresses = interface_addresses(ctx)
    interfaces = []
    for name in ctx.list_dir(NET_CLASS_DIR):
        base = f"{NET_CLASS_DIR}/{name}"
        interfaces.append(
            report_pb2.NetworkInterface(
                name=name,
                mac=normal_mac(ctx.read_value(f"{base}/address") or ""),
                addresses=addresses.get(name, []),
                is_up=_is_up(ctx, base),
                kind=interface_kind(ctx, name),
            )
        )
    return interfaces


def _is_up(ctx: ProbeContext, base: str) -> bool:
    try:
        return bool(int(ctx.read_value(f"{base}/flags") or "", 16) & _IFF_UP)
    except ValueError:
        return ctx.read_value(f"{base}/operstate") == "up"


def interface_kind(ctx: ProbeContext, name: str) -> str:
    base = f"{NET_CLASS_DIR}/{name}"
    link_type = ctx.read_value(f"{base}/type") or ""
    if link_type == _ARPHRD_LOOPBACK:
        return "loopback"
    if ctx.exists(f"{base}/wireless") or ctx.exists(f"{base}/phy80211"):
        return "wifi"
    if ctx.exists(f"{base}/tun_flags") or link_type == _ARPHRD_NONE or name.startswith(_TUNNEL_PREFIXES):
        return "tunnel"
    if name.startswith(_VIRTUAL_PREFIXES):
        return "virtual"
    if ctx.exists(f"{base}/bridge"):
        return "bridge"
    if link_type == _ARPHRD_ETHER:
        # a physical NIC has a bus device behind it; dummies, ifb and macvlans do not
        return "ethernet" if ctx.exists(f"{base}/device") else "virtual"
    return "other"


# -- routing, naming, forwarding ---------------------------------------------------------


def default_gateway(ctx: ProbeContext) -> report_pb2.Gateway | None:
    """The IPv4 default route with the lowest metric, and the gateway's MAC from ARP."""
    defaults = [route for route in _procfs.routes(ctx) if route.destination == "00000000"
                and route.flags & _RTF_UP and route.flags & _RTF_GATEWAY]
    if not defaults:
        return None
    best = min(defaults, key=lambda route: route.metric)
    ip = proc_ip(best.gateway)
    return report_pb2.Gateway(ip=ip, mac=_arp_mac(ctx, ip, best.interface), interface=best.interface)


def _arp_mac(ctx: ProbeContext, ip: str, interface: str) -> str:
    """/proc/net/arp: IP, HW type, flags, HW address, mask, device."""
    for line in (ctx.read_text("/proc/net/arp") or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 6 and fields[0] == ip and fields[5] == interface:
            return normal_mac(fields[3])
    return ""


def dns_servers(ctx: ProbeContext) -> list[str]:
    servers = _nameservers(ctx.read_text("/etc/resolv.conf") or "")
    if servers == [_RESOLVED_STUB]:
        # systemd-resolved's stub hides the real servers; it lists them here
        servers = _nameservers(ctx.read_text(_RESOLVED_UPSTREAM) or "") or servers
    return servers


def _nameservers(resolv_conf: str) -> list[str]:
    servers = []
    for line in resolv_conf.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                servers.append(normal_ip(fields[1]))
            except ValueError:
                continue
    return servers


def _ip_forwarding(ctx: ProbeContext) -> bool:
    return any(
        ctx.read_value(path) == "1"
        for path in ("/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding")
    )


# -- sockets ---------------------------------------------------------------------------


def _add_sockets(ctx: ProbeContext, network: report_pb2.Network) -> None:
    # an unconnected, non-listening socket is no connection: left out, and its owner not looked for
    sockets = [s for s in read_sockets(ctx) if _is_listener(s) or s.remote_port]
    owners = socket_owners(ctx, {s.inode for s in sockets if s.inode})  # inode 0: TIME_WAIT and the like
    for sock in sockets:
        pid, process_name = owners.get(sock.inode, (0, ""))
        if _is_listener(sock):
            network.listeners.append(
                report_pb2.Listener(
                    ip=sock.local_ip, port=sock.local_port, protocol=sock.protocol, pid=pid, process_name=process_name
                )
            )
        else:
            network.connections.append(
                report_pb2.Connection(
                    local_ip=sock.local_ip,
                    local_port=sock.local_port,
                    remote_ip=sock.remote_ip,
                    remote_port=sock.remote_port,
                    status=sock.status,
                    pid=pid,
                    process_name=process_name,
                )
            )


def _is_listener(sock: Socket) -> bool:
    if sock.protocol == "tcp":
        return sock.status == "LISTEN"
    return sock.remote_port == 0  # a bound UDP socket that is not connected to a peer
