"""Remote-control software: running, installed, several at once, in a live session; VPNs,
tunnels and jigglers (docs/detection.md R1, R2, V1, V5, B1; docs/detection.md §T4-6)."""

from __future__ import annotations

import re
from typing import Iterator

from farmwatch.collector.detect.catalogue import normalise_name
from farmwatch.collector.detect.report import ConnectionView, ProcessView, is_loopback
from farmwatch.collector.detect.rules.base import Context, Hit, rule, tool_evidence, tool_subject
from farmwatch.collector.detect.sightings import Sighting

CONTROLLED = {"host", "management", "input_sharing"}      # roles through which this laptop is driven
FARM_RELEVANT = {"high", "medium"}
EVIDENCE_ITEMS = 5
RUNNING_SEVERITY = {"high": "high", "medium": "medium", "low": "low"}
INSTALLED_SEVERITY = {"high": "medium", "medium": "low", "low": "info"}


def _sighting_evidence(sightings: list[Sighting]) -> list[dict]:
    return [{"how": s.how, "object": s.item, "signature": s.signature()} for s in sightings[:EVIDENCE_ITEMS]]


def _where(sightings: list[Sighting]) -> str:
    first = sightings[0]
    return first.item.get("exe") or first.item.get("path") or first.item.get("name") or first.value


def _tool_hit(sightings: list[Sighting], severity: str, **values) -> Hit:
    tool = sightings[0].tool
    evidence = {"tool": tool_evidence(tool), "seen": _sighting_evidence(sightings)}
    others = list(dict.fromkeys(s.tool.id for s in sightings if s.tool is not tool))
    if others:
        evidence["same_product_as"] = others
    return Hit({"tool": tool.name, "where": _where(sightings), **values}, evidence, severity,
               tool_subject(tool, sightings))


@rule("remote-control-running", "high", "{tool} is running ({where})", reads={"sightings"})
def remote_control_running(ctx: Context) -> Iterator[Hit]:
    """A remote-control, RMM or software-KVM process runs: someone else can drive this laptop.
    Severity follows how closely the research ties the tool to laptop farms."""
    for sightings in ctx.running_tools(CONTROLLED).values():
        yield _tool_hit(sightings, RUNNING_SEVERITY[sightings[0].tool.relevance])


@rule("remote-control-installed", "medium", "{tool} is installed but not running ({where})", reads={"sightings"})
def remote_control_installed(ctx: Context) -> Iterator[Hit]:
    """Installed (application, service, launchd/systemd unit) but no process: ready to be used,
    weighs less than running. Tools shipped with the OS are left to the settings rule."""
    running = ctx.running_products(CONTROLLED)
    for sightings in ctx.products(CONTROLLED, {"application", "service"}):
        tool = sightings[0].tool
        if ctx.product_of[tool.id] not in running and not tool.builtin:
            yield _tool_hit(sightings, INSTALLED_SEVERITY[tool.relevance])


def _unallowed_tools(ctx: Context, rule_id: str, how: set[str]) -> dict[str, list[Sighting]]:
    grouped = ctx.sightings_by_tool({"host"}, how)
    return {tool_id: s for tool_id, s in grouped.items()
            if s[0].tool.relevance in FARM_RELEVANT and not s[0].tool.builtin
            and ctx.policy.match(rule_id, tool_subject(s[0].tool, s)) is None}


@rule("multiple-remote-control-tools", "high", "{count} different remote-control tools on one laptop: {tools}",
      reads={"sightings"})
def multiple_remote_control_tools(ctx: Context) -> Iterator[Hit]:
    """Several unsanctioned remote-control vendors on one host (Elastic's >=2-vendor rule;
    Sophos, Mandiant). High when two or more run, medium when they are only installed."""
    present = _unallowed_tools(ctx, "remote-control-running", {"process", "application", "service"})
    if len(present) < 2:
        return
    running = _unallowed_tools(ctx, "remote-control-running", {"process"})
    names = sorted(s[0].tool.name for s in present.values())
    evidence = {"tools": [tool_evidence(s[0].tool) for s in present.values()], "running": sorted(running)}
    yield Hit({"count": len(present), "tools": ", ".join(names)}, evidence, "high" if len(running) >= 2 else "medium")


def _marker_in(args_text: str, marker: str) -> bool:
    return re.search(rf"(^|\s){re.escape(' '.join(marker.split()).casefold())}(\s|$)", args_text) is not None


def _is_sign_process(proc: ProcessView, sign: dict) -> bool:
    return normalise_name(sign["process"]) in proc.normalised_names and _marker_in(proc.args_text, sign.get("args", ""))


def _session_connection(ctx: Context, proc: ProcessView, port: int) -> ConnectionView | None:
    """An established connection of `proc` to a peer off this machine on `port`. (A peer inside the tool's
    own listening port is `remote-session-inbound`'s; counting it here too would weigh one fact twice.)"""
    return next((c for c in ctx.view.connections
                 if c.status == "ESTABLISHED" and c.remote_port == port and not is_loopback(c.remote_ip)
                 and ctx.view.process_of(c.pid, c.process_name) is proc), None)


def _session_signs(ctx: Context, sighting: Sighting) -> list[dict]:
    """The tool's `session` signs this process shows: itself a session process, or a session connection."""
    proc = sighting.process
    if proc is None:
        return []
    found = [{"sign": "process", **sign} for sign in sighting.tool.session_processes if _is_sign_process(proc, sign)]
    for sign in sighting.tool.session_connections:
        if _is_sign_process(proc, sign) and (conn := _session_connection(ctx, proc, sign["port"])):
            found.append({"sign": "connection", **sign, "connection": conn.evidence()})
    return found


@rule("remote-session-active", "critical", "{tool} has a remote user connected now ({where})",
      reads={"sightings", "connections", "socket_processes"})
def remote_session_active(ctx: Context) -> Iterator[Hit]:
    """The tool shows one of its own signs of an incoming session (its catalogue `session`): a process it
    starts only for a connected user (RustDesk's `--cm` connection manager, TeamViewer_Desktop with
    `--Module 1`: docs/detection.md §T4), or its process holding a connection on a port only a session
    uses (Splashtop's streamer with a peer on 6783). Installed, running and in session are the
    three strengths of a tool; this is the third, and it makes a relay."""
    for sightings in ctx.running_tools(CONTROLLED).values():
        for sighting in sightings:
            if signs := _session_signs(ctx, sighting):
                hit = _tool_hit([sighting], "critical")
                hit.evidence["session_signs"] = signs
                yield hit
                break


def _exposed_ports(sightings: list[Sighting], desktop_ports: set[int]) -> set[int]:
    """Remote-desktop port numbers named in the tool's arguments (`ngrok tcp 3389`)."""
    numbers = {int(n) for s in sightings if s.process
               for n in re.findall(r"(?<![\d.])(\d{2,5})(?![\d.])", s.process.args_text)}
    return numbers & desktop_ports


@rule("tunnel-running", "medium", "Tunnel tool {tool} is running ({where})", reads={"sightings"})
def tunnel_running(ctx: Context) -> Iterator[Hit]:
    """ngrok, frp, chisel, cloudflared and the like carry traffic from the internet into this
    laptop (docs/design.md "network relaying"; docs/detection.md V5). Developers use them too, so
    medium, for the allow-list to settle — high when the arguments publish a remote-desktop
    port (e.g. `ngrok tcp 3389`)."""
    desktop_ports = set(ctx.catalogue.listen_ports)
    for sightings in ctx.running_tools({"tunnel"}).values():
        exposed = _exposed_ports(sightings, desktop_ports)
        hit = _tool_hit(sightings, "high" if exposed else "medium")
        if exposed:
            hit.evidence["exposes_remote_desktop_ports"] = sorted(exposed)
        yield hit


@rule("vpn-client", "low", "VPN client {tool} is present ({where})", reads={"sightings"})
def vpn_client(ctx: Context) -> Iterator[Hit]:
    """A VPN client. Astrill is the one named in DPRK IT-worker cases (Mandiant, Sophos,
    LevelBlue: docs/detection.md V1, strong); mesh VPNs are usually corporate (weak)."""
    present = ctx.sightings_by_tool({"vpn"}, {"process", "application", "service"})
    for sightings in present.values():
        tool = sightings[0].tool
        running = any(s.how == "process" for s in sightings)
        severity = "high" if tool.relevance == "high" else ("low" if running else "info")
        yield _tool_hit(sightings, severity)


@rule("jiggler-software", "medium", "Mouse-jiggler software {tool} is running ({where})", reads={"sightings"})
def jiggler_software(ctx: Context) -> Iterator[Hit]:
    """Keeps the laptop looking busy with nobody at it; Mandiant found DPRK workers using
    jigglers and advises watching for them (docs/detection.md B1, medium)."""
    for sightings in ctx.running_tools({"jiggler"}).values():
        yield _tool_hit(sightings, "medium")
