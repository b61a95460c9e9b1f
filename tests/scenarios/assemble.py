"""Turn a laptop identity, its base content and a scenario delta into an AgentReport.

Everything that varies between scenarios (serial, host name, home network, times, pids of added
processes) is derived from the scenario name through SHA-256, so a rebuild is byte-identical.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime, timedelta, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from farmwatch.v1 import report_pb2 as pb
from edid import encode, is_pnp_letters
from parts import Conn, Delta, Identity, Listen, Proc, last_wins

CORPUS_NAMESPACE = uuid.UUID("6f0c3c52-3f1e-4d0b-9a57-5b8f3f0a1e21")
SCAN_DAY = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
SERIAL_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
ROUTER_OUIS = ("a0:40:a0", "50:c7:bf", "04:d9:f5", "f8:bb:bf", "3c:37:86", "c8:d7:19")
SSIDS = ("NETGEAR47", "TP-Link_5G_8E2C", "Xfinity-Home", "eero", "Verizon_7KQ3XD", "ATTm8Xy2Tq")
LAN_PREFIXES = ("192.168.1", "192.168.0", "10.0.0", "192.168.86", "192.168.50")


def digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def pick(options, *parts: str):
    return options[int.from_bytes(digest(*parts)[:4], "big") % len(options)]


def hex_pairs(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class Context:
    """Per-scenario values: identity strings, times and the home network."""

    def __init__(self, scenario: str, ident: Identity):
        self.scenario = scenario
        self.ident = ident
        seed = digest(scenario)
        self.serial = ident.serial_prefix + "".join(
            SERIAL_ALPHABET[b % len(SERIAL_ALPHABET)] for b in seed[: ident.serial_length - len(ident.serial_prefix)]
        )
        self.collected_at = SCAN_DAY + timedelta(minutes=int.from_bytes(seed[8:10], "big") % 360)
        self.boot_time = self.collected_at - timedelta(hours=30 + seed[10] % 90, minutes=seed[11] % 60)
        lan = pick(LAN_PREFIXES, scenario, "lan")
        self.fill = {
            "user": ident.login, "account": ident.account, "home": ident.home,
            "lan_net": lan, "lan_ip": f"{lan}.{20 + seed[12] % 200}", "gateway": f"{lan}.1",
            "serial": self.serial, "serial_lower": self.serial.lower(),
        }
        router_oui = pick(ROUTER_OUIS, scenario, "router")
        self.router_mac = f"{router_oui}:{hex_pairs(seed[13:16])}"
        self.bssid = f"{router_oui}:{hex_pairs(bytes([seed[13], seed[14], seed[15] ^ 0x05]))}"
        self.ssid = pick(SSIDS, scenario, "ssid")
        self.wifi_mac = ident.mac_oui + ":" + hex_pairs(seed[16:19])

    def text(self, value: str) -> str:
        """Fill the known placeholders only: Windows arguments carry literal {GUID}s."""
        for key, filler in self.fill.items():
            value = value.replace("{" + key + "}", filler)
        return value

    def since_boot(self, seconds: int | None, late_seed: str) -> datetime:
        """Seconds after boot; None puts the item in the scenario's event (a session starting,
        a tool launched), one moment shortly before the scan, spread over a minute."""
        if seconds is None:
            event = self.collected_at - timedelta(minutes=5 + digest(self.scenario, "event")[0] % 120)
            return event + timedelta(seconds=digest(self.scenario, late_seed)[0] % 60)
        return self.boot_time + timedelta(seconds=seconds)


def _pid_allocator(ident: Identity, scenario: str):
    """Base processes get the same pids in every scenario; added ones come after them."""
    step = 4 if ident.os == "windows" else 1
    base_rng = random.Random(f"{ident.os}-base")
    late_rng = random.Random(f"{scenario}-late")
    state = {"pid": {"windows": 100, "linux": 2}.get(ident.os, 1)}

    def next_pid(is_base: bool) -> int:
        rng = base_rng if is_base else late_rng
        state["pid"] += step * (1 + rng.randrange(1 if ident.os == "linux" else 40))
        return state["pid"]

    return next_pid


def build_processes(ctx: Context, base: Delta, delta: Delta) -> tuple[list[pb.Process], dict[str, pb.Process]]:
    next_pid = _pid_allocator(ctx.ident, ctx.scenario)
    out, by_handle = [], {}
    base_count = len(base.processes)
    for index, proc in enumerate(base.processes + delta.processes):
        pid = _fixed_pid(proc) if _fixed_pid(proc) is not None else next_pid(index < base_count)
        message = _process(ctx, proc, pid, by_handle)
        by_handle.setdefault(proc.handle, message)
        out.append(message)
    return out, by_handle


def _fixed_pid(proc: Proc) -> int | None:
    return {"System Idle Process": 0, "System": 4, "launchd": 1, "kernel_task": 0,
            "systemd": 1 if not proc.parent else None, "kthreadd": 2}.get(proc.process_name)


def _process(ctx: Context, proc: Proc, pid: int, by_handle: dict[str, pb.Process]) -> pb.Process:
    if proc.parent and proc.parent not in by_handle:
        raise KeyError(f"{ctx.scenario}: parent {proc.parent!r} of {proc.handle!r} is not an earlier process")
    exe = ctx.text(proc.exe)
    # kernel threads and protected Windows processes show no path and no command line
    visible = bool(exe) and not proc.hide_exe
    cmdline = [ctx.text(proc.argv0 or exe)] if visible else []
    cmdline += [ctx.text(arg) for arg in proc.args]
    return pb.Process(
        pid=pid, ppid=by_handle[proc.parent].pid if proc.parent else 0, name=proc.process_name,
        exe=exe if visible else "",
        cmdline=cmdline, username=ctx.text(proc.user),
        create_time=timestamp(ctx.since_boot(proc.started, proc.handle)),
        signer=proc.signer, bundle_id=proc.bundle_id,
    )


def build_network(ctx: Context, both: Delta, by_handle: dict[str, pb.Process]) -> pb.Network:
    interfaces = [
        pb.NetworkInterface(
            name=i.name, mac=ctx.wifi_mac if i.name == ctx.ident.wifi_interface else ctx.text(i.mac),
            addresses=[ctx.text(a) for a in i.addresses], is_up=i.is_up, kind=i.kind)
        for i in both.interfaces
    ]
    return pb.Network(
        interfaces=interfaces,
        default_gateway=pb.Gateway(ip=ctx.fill["gateway"], mac=ctx.router_mac, interface=ctx.ident.wifi_interface),
        wifi=pb.Wifi(ssid=ctx.ssid, bssid=ctx.bssid if ctx.ident.reports_bssid else ""),
        dns_servers=[ctx.fill["gateway"]],
        ip_forwarding=bool(both.ip_forwarding),
        connections=[_connection(ctx, c, by_handle) for c in both.connections],
        listeners=[_listener(ctx, lst, by_handle) for lst in both.listeners],
    )


def _owner(ctx: Context, handle: str, by_handle: dict[str, pb.Process]) -> pb.Process:
    if handle not in by_handle:
        raise KeyError(f"{ctx.scenario}: no process {handle!r} for a socket")
    return by_handle[handle]


def _connection(ctx: Context, c: Conn, by_handle: dict[str, pb.Process]) -> pb.Connection:
    owner = _owner(ctx, c.process, by_handle)
    return pb.Connection(local_ip=ctx.text(c.local_ip), local_port=c.local_port, remote_ip=ctx.text(c.remote_ip),
                         remote_port=c.remote_port, status=c.status, pid=owner.pid, process_name=owner.name)


def _listener(ctx: Context, lst: Listen, by_handle: dict[str, pb.Process]) -> pb.Listener:
    owner = _owner(ctx, lst.process, by_handle)
    return pb.Listener(ip=ctx.text(lst.ip), port=lst.port, protocol=lst.protocol, pid=owner.pid,
                       process_name=owner.name)


def build_usb(ctx: Context, both: Delta) -> list[pb.UsbDevice]:
    return [
        pb.UsbDevice(
            vendor_id=u.vendor_id, product_id=u.product_id, manufacturer=u.manufacturer, product=u.product,
            serial=ctx.text(u.serial), device_class=u.device_class, bcd_device=u.bcd_device,
            speed_mbps=u.speed_mbps, bus_path=u.bus_path,
            interfaces=[pb.UsbInterface(interface_class=i.cls, interface_subclass=i.subclass,
                                        interface_protocol=i.protocol, driver=i.driver) for i in u.interfaces])
        for u in both.usb
    ]


def build_displays(both: Delta) -> list[pb.Display]:
    return [_display(s) for s in both.displays]


def _display(s) -> pb.Display:
    """What the agent reports: the identity it decodes (an invalid PNP id as none), and the bytes when
    the OS gives them; without them, no physical size or serial string either."""
    m = s.monitor
    return pb.Display(
        connector=s.connector, manufacturer_id=m.pnp_id if is_pnp_letters(m.pnp_id) else "",
        product_code=m.product_code, serial_number=m.serial_number, monitor_name=m.monitor_name,
        width_mm=m.width_mm if s.with_edid else 0, height_mm=m.height_mm if s.with_edid else 0,
        built_in=s.built_in, edid=encode(m) if s.with_edid else b"",
        serial_string=m.serial_string if s.with_edid else "", manufacture_year=m.year)


def build_host(ctx: Context, both: Delta) -> pb.Host:
    ident = ctx.ident
    host = {
        "hostname": ctx.text(ident.hostname_format), "os": ident.os, "os_version": ident.os_version,
        "arch": ident.arch, "agent_version": ident.agent_version, "serial_number": ctx.serial,
        "hardware_model": ident.hardware_model, "timezone": ident.timezone,
        "utc_offset_minutes": ident.utc_offset_minutes, "locale": ident.locale,
        "keyboard_layouts": list(ident.keyboard_layouts),
    }
    host.update(last_wins(both.host))
    return pb.Host(boot_time=timestamp(ctx.boot_time), **host)


def build_agent_stats(ctx: Context, process_count: int) -> pb.AgentStats:
    seed = digest(ctx.scenario, "stats")
    probes = {"processes": 0.18 + process_count / 2000, "applications": 0.09, "usb": 0.04,
              "displays": 0.02, "network": 0.11, "host": 0.01, "sessions": 0.01}
    return pb.AgentStats(
        rss_bytes=38_000_000 + seed[0] * 40_000, cpu_seconds=round(0.41 + seed[1] / 1000, 3),
        wall_seconds=round(sum(probes.values()) + 0.05, 3), probe_seconds=probes)


def build_report(scenario: str, ident: Identity, base: Delta, delta: Delta,
                 probe_errors: tuple[tuple[str, str], ...] = ()) -> pb.AgentReport:
    ctx = Context(scenario, ident)
    both = base + delta
    processes, by_handle = build_processes(ctx, base, delta)
    return pb.AgentReport(
        report_id=str(uuid.uuid5(CORPUS_NAMESPACE, scenario)),
        device_id=ctx.serial,
        sequence=1 + digest(scenario, "seq")[0] * 3,
        collected_at=timestamp(ctx.collected_at),
        host=build_host(ctx, both),
        processes=processes,
        applications=[pb.Application(name=a.name, version=a.version, path=ctx.text(a.path), bundle_id=a.bundle_id,
                                     publisher=a.publisher, signer=a.signer, source=a.source)
                      for a in both.applications],
        usb_devices=build_usb(ctx, both),
        displays=build_displays(both),
        network=pb.Network() if "network" in dict(both.failed_probes) else build_network(ctx, both, by_handle),
        sessions=[pb.Session(user=ctx.text(s.user), terminal=s.terminal, remote_host=ctx.text(s.remote_host),
                             started_at=timestamp(ctx.since_boot(s.started, s.terminal)))
                  for s in both.sessions if s.terminal not in delta.ended_sessions],
        probe_errors=[pb.ProbeError(probe=p, error=e) for p, e in probe_errors + both.failed_probes],
        agent_stats=build_agent_stats(ctx, len(processes)),
        remote_access=[pb.RemoteAccessSetting(service=s, enabled=e) for s, e in last_wins(both.remote_access).items()],
    )
