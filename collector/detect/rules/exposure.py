"""The laptop reachable from elsewhere: an internet peer inside one of its listeners, whatever the
program, and a tunnel or mesh VPN paired with the laptop's own remote-desktop or SSH server
(docs/detection.md §S6). These catch tools the catalogue has never heard of: they read the shape
of the traffic and the pairing, not a name."""

from __future__ import annotations

from typing import Iterator

from farmwatch.collector.detect.catalogue import normalise_name
from farmwatch.collector.detect.report import ConnectionView, ListenerView, is_loopback, plain_ip
from farmwatch.collector.detect.rules.base import SOCKETS, Context, Hit, rule, tool_evidence
from farmwatch.collector.detect.rules.context import DESKTOP_SHARING
from farmwatch.collector.detect.rules.network import ESTABLISHED, _endpoint, _forwarding_reasons, _inbound, _origin
from farmwatch.collector.detect.rules.software import CONTROLLED

SSH_PORT = 22
# OpenSSH's server (sshd-session since 9.8) and Dropbear: a shell, weighed by remote-login-session.
SSH_SERVERS = {"sshd", "sshd-session", "dropbear"}
SHELL_LOGIN = ("remote login", "remote_login", "ssh")


def _ssh_server(ctx: Context, pid: int, process_name: str, port: int) -> bool:
    proc = ctx.view.process_of(pid, process_name)
    names = set(proc.normalised_names) if proc else {normalise_name(process_name)}
    return port == SSH_PORT or not names.isdisjoint(SSH_SERVERS)


def _peer_to_peer(ctx: Context, pid: int, process_name: str) -> dict | None:
    """The catalogue's peer-to-peer program (Syncthing, a BitTorrent client) behind a socket, if it is one."""
    proc = ctx.view.process_of(pid, process_name)
    names = proc.normalised_names if proc else (normalise_name(process_name),)
    return next((ctx.catalogue.peer_to_peer[n] for n in names if n in ctx.catalogue.peer_to_peer), None)


def _open_listeners(ctx: Context) -> dict[int, ListenerView]:
    return {listener.port: listener for listener in ctx.view.listeners if not is_loopback(listener.ip)}


def _stranger(ctx: Context, conn: ConnectionView) -> bool:
    """A peer on the internet that is not the company (its offices, its VPN/SASE exits)."""
    ip = plain_ip(conn.remote_ip)
    return ip is not None and _origin(conn.remote_ip) == "public" and not ctx.policy.trusts(ip)


@rule("inbound-internet-session", "high",
      "{process} on local port {port} holds a connection that came in from {remote} on the internet", reads=SOCKETS)
def inbound_internet_session(ctx: Context) -> Iterator[Hit]:
    """An established connection from a public address into a port this laptop listens on, whatever
    program holds it (Sunshine, a renamed or unknown tool). A laptop behind a home router accepts
    connections from the internet only when someone forwarded a port to it or UPnP did: that is how
    a relay is reached. High, not critical: the socket shows a stranger inside, not that the desktop
    is what they see — a catalogued tool's session is `remote-session-inbound`. Left out: peers on
    the LAN, a VPN or CGNAT (private addresses), the company's own networks (`[fleet]`
    office_networks, shared_egress_networks), SSH (a shell: `remote-login-session`) and programs
    whose job is to accept strangers (Syncthing, BitTorrent: the catalogue's `peer_to_peer`)."""
    counted = set(map(id, _inbound(ctx)))
    listening = _open_listeners(ctx)
    seen = set()
    for conn in ctx.view.connections:
        listener = listening.get(conn.local_port)
        if (conn.status != ESTABLISHED or listener is None or id(conn) in counted or not _stranger(ctx, conn)
                or (conn.local_port, conn.remote_ip) in seen):
            continue
        seen.add((conn.local_port, conn.remote_ip))
        if _ssh_server(ctx, conn.pid, conn.process_name, conn.local_port) \
                or _peer_to_peer(ctx, conn.pid, conn.process_name):
            continue
        proc = ctx.view.process_of(conn.pid, conn.process_name)
        evidence = {"connection": conn.evidence(), "listener": listener.evidence()}
        if proc is not None:
            evidence["process"] = proc.evidence()
        name = (proc.name if proc else "") or conn.process_name or "an unidentified process"
        yield Hit({"process": name, "port": conn.local_port, "remote": _endpoint(conn.remote_ip, conn.remote_port)},
                  evidence)


def _remote_access_ports(ctx: Context) -> set[int]:
    """Ports of remote-desktop servers that can run on this OS, and SSH."""
    return {port for port, tools in ctx.catalogue.listen_ports.items()
            if any(t.role in CONTROLLED and t.runs_on(ctx.view.os) for t in tools)} | {SSH_PORT}


def _is_shell_setting(service: str) -> bool:
    return service.casefold() in SHELL_LOGIN or "ssh" in service.casefold()


def _exposed_services(ctx: Context, loopback_counts: bool) -> dict[str, bool]:
    """The laptop's own remote-desktop and SSH servers, each with whether it is SSH: listening (beyond
    loopback, unless the carrier reaches loopback as a public tunnel does) or switched on in the OS."""
    ports = _remote_access_ports(ctx)
    found: dict[str, bool] = {}
    for listener in ctx.view.listeners:
        ssh = _ssh_server(ctx, listener.pid, listener.process_name, listener.port)
        if (loopback_counts or not is_loopback(listener.ip)) and (listener.port in ports or ssh):
            name = listener.process_name
            found[f"{name} on port {listener.port}" if name else f"port {listener.port}"] = ssh
    for service, enabled in ctx.view.remote_access:
        if enabled and service and (DESKTOP_SHARING.search(service) or _is_shell_setting(service)):
            found.setdefault(service, _is_shell_setting(service))
    return found


@rule("tunnel-exposes-remote-access", "high",
      "{carrier} makes this laptop's own {services} reachable from elsewhere",
      reads=SOCKETS | {"ip_forwarding", "interfaces", "remote_access"})
def tunnel_exposes_remote_access(ctx: Context) -> Iterator[Hit]:
    """A tunnel (cloudflared, ngrok, frp, chisel …) running beside the laptop's own SSH or
    remote-desktop server, or a mesh VPN (Tailscale, ZeroTier, Hamachi …) beside its remote desktop or
    routing for others (IP forwarding no container or VM explains: an exit node or subnet router).
    Each alone is an everyday tool; the pair is the laptop offered to whoever holds the far end, so it
    weighs on its own (high) on top of the tunnel's and the setting's findings. A mesh VPN's SSH is left
    out: developers reach their machines so every day, and a tailnet admits only its own members."""
    routing = ctx.view.ip_forwarding and not _forwarding_reasons(ctx)
    for sightings in ctx.running_tools({"tunnel", "vpn"}).values():
        tool = sightings[0].tool
        if tool.role == "vpn" and not tool.mesh:
            continue
        exposed = _exposed_services(ctx, loopback_counts=tool.role == "tunnel")
        services = [name for name, ssh in exposed.items() if not (tool.mesh and ssh)]
        if tool.mesh and routing:
            services.append("routing for other machines (IP forwarding)")
        if services:
            yield Hit({"carrier": tool.name, "services": ", ".join(services)},
                      {"tool": tool_evidence(tool), "exposed": services})
