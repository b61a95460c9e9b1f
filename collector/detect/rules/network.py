"""Network relaying and live sessions: inbound remote-desktop sessions, live connections of
remote-control tools, remote logins, IP forwarding, proxies and tunnels listening
(docs/detection.md R4, R6, V5, V6; docs/detection.md §T6 "network evidence")."""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import itertools
import operator
import re
from typing import Iterator

from farmwatch.collector.detect.report import (ConnectionView, ProcessView, SessionView, is_loopback, plain_ip,
                                               process_names_normalised)
from farmwatch.collector.detect.rules.base import SOCKETS, Context, Hit, rule, tool_evidence, tool_subject
from farmwatch.collector.detect.rules.software import CONTROLLED

ESTABLISHED = "ESTABLISHED"


def _endpoint(address: str, port: int) -> str:
    ip = plain_ip(address)
    host = address if ip is None else (f"[{ip}]" if ip.version == 6 else str(ip))
    return f"{host}:{port}"


def _live_remote(conn: ConnectionView) -> bool:
    return conn.status == ESTABLISHED and _another_machine(conn.remote_ip)


@functools.lru_cache(maxsize=65536)  # by address text, as plain_ip
def _another_machine(address: str) -> bool:
    ip = plain_ip(address)
    return ip is not None and not ip.is_loopback and not ip.is_unspecified


def _listening_ports_of_tools(ctx: Context) -> set[int]:
    """Ports a remote-control process listens on, whatever their number."""
    return {listener.port for listener in ctx.view.listeners
            if ctx.tools_of_process(listener.pid, listener.process_name, CONTROLLED)}


def _other_software(ctx: Context, pid: int, process_name: str, port: int) -> bool:
    """Is the process holding `port` known and no remote-control tool, on a port no OS remote-desktop
    server uses? (A developer's server on 4000, NoMachine's port. The OS's own servers — RDP, Screen
    Sharing — run inside generic system processes, so their ports always belong to them.)"""
    if ctx.view.process_of(pid, process_name) is None or ctx.tools_of_process(pid, process_name, CONTROLLED):
        return False
    return not any(t.builtin and t.runs_on(ctx.view.os) for t in ctx.catalogue.listen_ports.get(port, []))


def _someone_elses_port(ctx: Context, conn: ConnectionView) -> bool:
    """A LAN peer talking to other software on a remote-desktop port: that software's own business. A
    peer on a public address always counts."""
    return _origin(conn.remote_ip) == "private" and _other_software(ctx, conn.pid, conn.process_name, conn.local_port)


def _served_by_other_software(ctx: Context, port: int) -> bool:
    return any(listener.port == port and _other_software(ctx, listener.pid, listener.process_name, port)
               for listener in ctx.view.listeners)


def _inbound(ctx: Context) -> list[ConnectionView]:
    """Live connections from elsewhere into a remote-desktop port (three rules ask: worked out once)."""
    def compute() -> list[ConnectionView]:
        tool_ports = _listening_ports_of_tools(ctx)
        ports = set(ctx.catalogue.listen_ports) | tool_ports
        return [c for c in ctx.view.connections if _live_remote(c) and c.local_port in ports
                and (c.local_port in tool_ports or not _someone_elses_port(ctx, c))
                and not _desk_input_sharing(ctx, c)]
    return ctx.cached(("inbound",), compute)


def _desk_input_sharing(ctx: Context, conn: ConnectionView) -> bool:
    """A software KVM (Mouse Without Borders, Barrier, Synergy) talking to a peer on the LAN: the keyboard
    and mouse of a machine on the same desk, whichever side shares them. No screen travels with it, so
    whoever types must be looking at this laptop (docs/detection.md §T4 software KVMs, §T5 multi-machine desks);
    from a public address it still counts."""
    if _origin(conn.remote_ip) != "private":
        return False
    tools = _session_tools(ctx, conn)
    return bool(tools) and all(t.role == "input_sharing" for t in tools)


def _session_tools(ctx: Context, conn: ConnectionView) -> list:
    return ctx.tools_of_process(conn.pid, conn.process_name, CONTROLLED) or _port_tools(ctx, conn.local_port)


def _port_tools(ctx: Context, port: int) -> list:
    """The remote-control tools serving a local port: the one listening on it, else the catalogue's."""
    for listener in ctx.view.listeners:
        if listener.port == port and (tools := ctx.tools_of_process(listener.pid, listener.process_name, CONTROLLED)):
            return tools
    by_port = ctx.catalogue.listen_ports.get(port, [])
    on_this_os = [t for t in by_port if t.runs_on(ctx.view.os)]
    # no process owns the socket: the OS's own server (RDP, Screen Sharing) is the likely one
    return [t for t in on_this_os if t.builtin] or on_this_os


def _service_name(tools: list) -> str:
    names = [t.name for t in tools]
    if len(names) > 2:
        return f"{names[0]} (or {len(names) - 1} other servers on this port)"
    return " / ".join(names) or "remote-control"


@rule("remote-session-inbound", "critical", "Inbound {service} session from {remote} (local port {port})",
      reads=SOCKETS)
def remote_session_inbound(ctx: Context) -> Iterator[Hit]:
    """An established connection from another machine into a remote-desktop port (3389,
    5900, 5938, 7070 … as the catalogue lists, or any port a remote-control process listens
    on): somebody is driving this laptop right now. A LAN peer of a known process that is no
    remote-control tool is left alone (a developer's server on NoMachine's 4000)."""
    seen = set()
    for conn in _inbound(ctx):
        if (conn.local_port, conn.remote_ip) in seen:
            continue
        seen.add((conn.local_port, conn.remote_ip))
        tools = _session_tools(ctx, conn)
        evidence = {"connection": conn.evidence(), "tools": [tool_evidence(t) for t in tools],
                    "signature": {"field": "listen_ports", "value": conn.local_port,
                                  "source": "; ".join(sorted({t.source for t in tools}))}}
        if proc := ctx.view.process_of(conn.pid, conn.process_name):
            evidence["process"] = proc.evidence()
        subject = tool_subject(tools[0], [s for s in ctx.sightings if s.tool is tools[0]]) if len(tools) == 1 else None
        yield Hit({"service": _service_name(tools), "remote": _endpoint(conn.remote_ip, conn.remote_port),
                   "port": conn.local_port},
                  evidence, subject=subject)


@rule("remote-tool-connected", "low", "{tool} holds a live connection to {remote}", reads=SOCKETS)
def remote_tool_connected(ctx: Context) -> Iterator[Hit]:
    """A running remote-control tool is online with an outside peer (its vendor relay or a
    viewer); it can be reached now, though the connection alone does not prove a session."""
    inbound = set(map(id, _inbound(ctx)))
    seen = set()
    for conn in ctx.view.connections:
        if id(conn) in inbound or not _live_remote(conn):
            continue
        proc = ctx.view.process_of(conn.pid, conn.process_name)
        for tool in ctx.tools_of_process(conn.pid, conn.process_name, {"host"}):
            if tool.id in seen:
                continue
            seen.add(tool.id)
            sightings = [s for s in ctx.sightings if s.tool is tool and s.process is proc]
            yield Hit({"tool": tool.name, "remote": _endpoint(conn.remote_ip, conn.remote_port)},
                      {"tool": tool_evidence(tool), "connection": conn.evidence()},
                      subject=tool_subject(tool, sightings))


@functools.lru_cache(maxsize=65536)  # by address text, as plain_ip: the same peers report after report
def _origin(remote_host: str) -> str:
    """local (a display, this host), private (LAN, VPN, CGNAT), public, or unknown (a name)."""
    host = remote_host.strip()
    if not host or host.startswith(":") or host in {"localhost", "local"}:
        return "local"
    ip = plain_ip(host)
    if ip is None:
        return "unknown"
    if ip.is_loopback or ip.is_unspecified:
        return "local"
    return "private" if ip.is_link_local or any(ip in net for net in PRIVATE_NETWORKS) else "public"


# LANs (RFC 1918, IPv6 ULA) and carrier-grade NAT / Tailscale (RFC 6598). Spelled out because
# ipaddress's is_private also covers documentation ranges, which stand for public hosts.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in
                         ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))
ORIGIN_SEVERITY = {"private": "info", "unknown": "low", "public": "medium"}


# Terminals of graphical remote sessions: a Windows RDP session (`RDP-Tcp#3`), or an X display
# (`:10`) opened for a network peer, as xrdp and XDMCP/VNC session managers record it in utmp.
_DESKTOP_TERMINAL = re.compile(r"^(rdp-tcp#\d+|:\d+(\.\d+)?)$", re.IGNORECASE)


def _session_evidence(session: SessionView, origin: str) -> dict:
    return {"session": {"user": session.user, "terminal": session.terminal, "remote_host": session.remote_host,
                        "started_at": session.started_at},
            "origin": origin}


def _remote_sessions(ctx: Context) -> Iterator[tuple[SessionView, str, bool]]:
    """Sessions that came over the network: (session, origin, whether someone is driving the desktop
    from a public address)."""
    for session in ctx.view.sessions:
        origin = _origin(session.remote_host)
        if origin != "local":
            driven = origin == "public" and bool(_DESKTOP_TERMINAL.match(session.terminal))
            yield session, origin, driven


@rule("remote-login-session", "medium", "{user} is logged in remotely from {remote_host} ({origin})",
      reads={"sessions"})
def remote_login_session(ctx: Context) -> Iterator[Hit]:
    """A login session that came over the network (SSH, RDP). From the LAN or a VPN it is
    everyday developer life (info); from a public address it means a remote user (medium).
    A remote desktop driven from a public address is `remote-desktop-session` instead."""
    for session, origin, driven in _remote_sessions(ctx):
        if not driven:
            yield Hit({"user": session.user or "someone", "remote_host": session.remote_host, "origin": origin},
                      _session_evidence(session, origin), ORIGIN_SEVERITY[origin])


@rule("remote-desktop-session", "critical",
      "{user} is driving this laptop's desktop from {remote_host} (session {terminal})", reads={"sessions"})
def remote_desktop_session(ctx: Context) -> Iterator[Hit]:
    """The OS lists a graphical remote session (RDP `RDP-Tcp#N`, an xrdp display) whose client sits
    on a public address: the session table's record of a live inbound remote-desktop session, the
    same fact as `remote-session-inbound` sees on the socket (docs/detection.md R6, R4), so it holds
    when the connection list is missing. An SSH shell is not a desktop and stays a remote login."""
    for session, origin, driven in _remote_sessions(ctx):
        if driven:
            yield Hit({"user": session.user or "someone", "remote_host": session.remote_host,
                       "terminal": session.terminal}, _session_evidence(session, origin))


def _forwarding_reasons(ctx: Context) -> list[dict]:
    names = tuple(str(iface.get("name", "")) for iface in ctx.view.interfaces)
    patterns = tuple((known["pattern"].casefold(), known["reason"], known["source"])
                     for known in ctx.catalogue.forwarding_interfaces)
    return [{"interface": name, "reason": reason, "source": source}
            for name, reason, source in _forwarding_matches(names, patterns)]


@functools.lru_cache(maxsize=4096)  # a laptop's interfaces are the same report after report
def _forwarding_matches(names: tuple[str, ...], patterns: tuple[tuple[str, str, str], ...]) -> tuple:
    """(interface, reason, source) of each interface a benign forwarding pattern explains (the first that does)."""
    found = []
    for name in names:
        for pattern, reason, source in patterns:
            if fnmatch.fnmatchcase(name.casefold(), pattern):
                found.append((name, reason, source))
                break
    return tuple(found)


@rule("ip-forwarding", "medium", "IP forwarding is on{explained}", reads={"ip_forwarding", "interfaces"})
def ip_forwarding(ctx: Context) -> Iterator[Hit]:
    """The laptop routes packets for other machines: Internet Sharing/ICS, a hotspot, a subnet
    router — the network half of a relay (docs/design.md; docs/detection.md V6). Container and VM
    bridges (docker0, virbr0, vEthernet …) are the common honest cause; when they explain it,
    it is only info."""
    if not ctx.view.ip_forwarding:
        return
    reasons = _forwarding_reasons(ctx)
    explained = f" (explained by {', '.join(r['interface'] for r in reasons)})" if reasons else ""
    yield Hit({"explained": explained}, {"ip_forwarding": True, "explained_by": reasons},
              "info" if reasons else "medium")


@rule("proxy-listening", "medium", "{what} is listening on {address}",
      reads={"listeners", "socket_processes", "sightings"})
def proxy_listening(ctx: Context) -> Iterator[Hit]:
    """Something offers to relay other machines' traffic: a SOCKS/HTTP proxy port or a tunnel
    tool listening beyond loopback, or a tool started in proxy mode (`tailscaled
    --socks5-server`, `chisel … socks`)."""
    yield from _proxy_ports(ctx)
    yield from _proxy_markers(ctx)


def _proxy_ports(ctx: Context) -> Iterator[Hit]:
    for listener in ctx.view.listeners:
        if is_loopback(listener.ip):
            continue
        tunnels = ctx.tools_of_process(listener.pid, listener.process_name, {"tunnel"})
        proxy_name = ctx.catalogue.proxy_ports.get(listener.port)
        if not tunnels and not proxy_name:
            continue
        what = tunnels[0].name if tunnels else proxy_name
        evidence = {"listener": listener.evidence(), "tools": [tool_evidence(t) for t in tunnels]}
        if proxy_name:
            evidence["proxy_port"] = {"port": listener.port, "name": proxy_name}
        yield Hit({"what": what, "address": f"{listener.ip}:{listener.port}"}, evidence)


def _proxy_markers(ctx: Context) -> Iterator[Hit]:
    for sighting in ctx.sightings:
        proc = sighting.process
        markers = [m for m in sighting.tool.proxy_markers if proc and m.casefold() in proc.cmdline_tokens]
        if markers:
            yield Hit({"what": f"{sighting.tool.name} in proxy mode", "address": proc.exe or proc.name},
                      {"tool": tool_evidence(sighting.tool), "process": proc.evidence(), "markers": markers},
                      subject=tool_subject(sighting.tool, [sighting]))


# OpenSSH and PuTTY's command-line client share the -R syntax; names compare as normalise_name gives them.
_SSH_CLIENTS = frozenset({"ssh", "autossh", "plink"})
# ssh's flags that take no value may be bundled before -R (`-fNR 8080:localhost:80`).
_SSH_BUNDLED_R = re.compile(r"^-[46AaCfGgKkMNnqsTtVvXxYy]*R(.*)$")
# `-o RemoteForward=spec`, `-oRemoteForward=spec`, `-o "RemoteForward spec"`: the option name is case-insensitive.
_REMOTE_FORWARD_OPTION = re.compile(r"^remoteforward(?:\s*=\s*|\s+)(.*)$", re.IGNORECASE)


def _option_value(arg: str, following: str) -> str | None:
    """The text of an `-o` option, whether joined to the flag or the next argument."""
    if arg == "-o":
        return following
    return arg[2:] if arg.startswith("-o") else None


def _remote_forwards(cmdline: tuple[str, ...]) -> list[str]:
    """The `-R` / `-o RemoteForward=` specifications of an ssh command line."""
    forwards, args = [], list(cmdline[1:])
    for i, arg in enumerate(args):
        following = args[i + 1] if i + 1 < len(args) else ""
        match = _SSH_BUNDLED_R.match(arg)
        option = _REMOTE_FORWARD_OPTION.match(_option_value(arg, following) or "")
        if match:
            forwards.append(match.group(1) or following)
        elif option:
            forwards.append(option.group(1).strip())
    return [f for f in forwards if f]


def _is_ssh_client(proc: ProcessView) -> bool:
    return _ssh_client_named(proc.name, proc.exe)


_NAME, _EXE = operator.attrgetter("name"), operator.attrgetter("exe")


@functools.lru_cache(maxsize=65536)  # asked of every process of every report
def _ssh_client_named(name: str, exe: str) -> bool:
    return not _SSH_CLIENTS.isdisjoint(process_names_normalised(name, exe))


@rule("ssh-reverse-tunnel", "medium", "SSH reverse tunnel from {process} publishes {forwards} on another host",
      reads={"processes"})
def ssh_reverse_tunnel(ctx: Context) -> Iterator[Hit]:
    """An ssh client with a remote forward (`-R`) lets whoever reaches the far host connect into
    this laptop — the SSH variant of the tunnels in docs/detection.md §T (ssh clients are catalogued
    as tunnels for their port forwarding). A plain ssh login does not match; developers use
    `-R` rarely, so medium. High when a remote-desktop port is what gets published."""
    desktop_ports = {str(p) for p in ctx.catalogue.listen_ports}
    processes = ctx.view.processes  # 400 of them a report: chosen in C, not in a Python loop
    for proc in itertools.compress(processes, map(_ssh_client_named, map(_NAME, processes), map(_EXE, processes))):
        forwards = _remote_forwards(proc.cmdline)
        if not forwards:
            continue
        targets = {part for f in forwards for part in re.split(r"[\s:\[\]]+", f)}
        exposed = sorted(targets & desktop_ports, key=int)
        evidence = {"process": proc.evidence(), "forwards": forwards}
        if exposed:
            evidence["exposes_remote_desktop_ports"] = [int(p) for p in exposed]
        yield Hit({"process": proc.name or proc.exe, "forwards": ", ".join(forwards)}, evidence,
                  "high" if exposed else None)


def _tunnel_carrying(ctx: Context, conn: ConnectionView) -> str | None:
    """The tunnel that owns `conn`: a catalogued tunnel tool, or an ssh client with a remote forward."""
    if tunnels := ctx.tools_of_process(conn.pid, conn.process_name, {"tunnel"}):
        return tunnels[0].name
    proc = ctx.view.process_of(conn.pid, conn.process_name)
    if proc is not None and _is_ssh_client(proc) and _remote_forwards(proc.cmdline):
        return proc.name or proc.exe
    return None


@rule("remote-session-tunnelled", "critical",
      "{tunnel} carries a connection into this laptop's {service} (local port {port}): a remote-desktop session "
      "through a tunnel", reads=SOCKETS)
def remote_session_tunnelled(ctx: Context) -> Iterator[Hit]:
    """A tunnel (ngrok, frp, chisel, cloudflared … or ssh with `-R`) holds an established connection to a
    remote-desktop port on this laptop. Such a tunnel connects to the local port only when a client at
    the far end comes in (`ngrok tcp 3389`: docs/detection.md §T6), so a session is being carried now — one
    that never shows as an inbound connection from elsewhere, because it arrives over loopback. A port
    served by other software (`ngrok http 4000` to a dev server) is not a remote desktop."""
    ports = set(ctx.catalogue.listen_ports) | _listening_ports_of_tools(ctx)
    seen = set()
    for conn in ctx.view.connections:
        if conn.status != ESTABLISHED or not is_loopback(conn.remote_ip) or conn.remote_port not in ports \
                or _served_by_other_software(ctx, conn.remote_port):
            continue
        tunnel = _tunnel_carrying(ctx, conn)
        if tunnel is None or (conn.pid, conn.remote_port) in seen:
            continue
        seen.add((conn.pid, conn.remote_port))
        tools = _port_tools(ctx, conn.remote_port)
        evidence = {"connection": conn.evidence(), "tools": [tool_evidence(t) for t in tools]}
        if proc := ctx.view.process_of(conn.pid, conn.process_name):
            evidence["process"] = proc.evidence()
        yield Hit({"tunnel": tunnel, "service": _service_name(tools), "port": conn.remote_port}, evidence)
