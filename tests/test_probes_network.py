"""network probe on fixture sysroots, and the Wi-Fi parsers on recorded tool output."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from farmwatch.agent.probes import network
from farmwatch.agent.probes._addresses import local_ipv4_addresses
from farmwatch.agent.probes._sockets import normal_ip, parse_socket_table
from farmwatch.agent.probes._wifi import (MAX_NEARBY, access_point, current_wifi, nearby_wifi, parse_iw_link, parse_iw_scan,
                                          parse_nmcli_nearby, parse_nmcli_wifi, strongest)
from farmwatch.agent.probes.context import ProbeContext
from sysroot_builder import SysrootBuilder
from sysroot_machines import ANYDESK_PEER, SSH_PEER, broken_laptop, gaps, probe_context

IW_LINK_CONNECTED = """\
Connected to 04:d4:c4:5e:d8:60 (on wlp0s20f3)
\tSSID: Home Net 5G
\tfreq: 5180
\tRX: 2817262 bytes (12133 packets)
\tTX: 412340 bytes (2311 packets)
\tsignal: -52 dBm
\trx bitrate: 866.7 MBit/s VHT-MCS 9 80MHz short GI VHT-NSS 2
\ttx bitrate: 650.0 MBit/s VHT-MCS 7 80MHz short GI VHT-NSS 2

\tbss flags:\tshort-slot-time
\tdtim period:\t1
\tbeacon int:\t100
"""
NMCLI_WIFI = """\
no:Neighbor\\:Net:AA\\:BB\\:CC\\:DD\\:EE\\:01
yes:Home Net 5G:04\\:D4\\:C4\\:5E\\:D8\\:60
no::AA\\:BB\\:CC\\:DD\\:EE\\:02
"""


def test_interfaces_kinds_and_addresses(dock):
    found = {i.name: i for i in network.collect(probe_context(dock, "network")).interfaces}
    assert {name: i.kind for name, i in found.items()} == {
        "docker0": "virtual", "enx00e04c680001": "ethernet", "lo": "loopback", "tailscale0": "tunnel",
        "wlp0s20f3": "wifi",
    }
    assert (found["enx00e04c680001"].mac, list(found["enx00e04c680001"].addresses)) == ("00:e0:4c:68:00:01", ["10.20.0.15"])
    assert list(found["wlp0s20f3"].addresses) == ["192.168.1.23", "fe80::72cf:49ff:fe12:3456"]
    assert list(found["lo"].addresses) == ["127.0.0.1", "::1"] and found["lo"].mac == ""
    assert list(found["tailscale0"].addresses) == ["100.101.102.103"]
    assert (found["docker0"].is_up, found["lo"].is_up) == (False, True)


def test_gateway_dns_and_forwarding(dock):
    ctx = probe_context(dock, "network")
    found = network.collect(ctx)
    # two default routes: the wired one has the lower metric
    assert (found.default_gateway.ip, found.default_gateway.mac, found.default_gateway.interface) == (
        "10.20.0.1", "3c:ec:ef:01:02:03", "enx00e04c680001")
    # resolv.conf names only systemd-resolved's stub; the upstream servers are reported
    assert list(found.dns_servers) == ["10.20.0.1", "2606:4700:4700::1111"]
    assert found.ip_forwarding is False
    assert gaps(ctx) == ["wifi: SSID/BSSID come from iw or nmcli, which do not run against a sysroot"]


def test_a_route_line_that_does_not_parse_costs_only_that_line(dock, tmp_path):
    """/proc/net/route is the kernel's, but a cut or odd line (a sysroot copy, another kernel's
    format) must not lose the gateway and every interface's address with it."""
    import shutil

    root = tmp_path / "root"
    shutil.copytree(dock, root, symlinks=True)
    table = root / "proc/net/route"
    lines = table.read_text().splitlines()
    table.write_text("\n".join([lines[0], "eth9\tnot-hex\t00000000\t0003", "eth9\t00000000\tZZZZZZZZ\t0003\t0\t0\t0\t00000000",
                                *lines[1:], "wlan9\t00000000"]) + "\n")
    ctx = probe_context(root, "network")
    found = network.collect(ctx)
    assert (found.default_gateway.ip, found.default_gateway.interface) == ("10.20.0.1", "enx00e04c680001")
    assert {i.name: list(i.addresses) for i in found.interfaces}["enx00e04c680001"] == ["10.20.0.15"]
    assert gaps(ctx) == ["wifi: SSID/BSSID come from iw or nmcli, which do not run against a sysroot"]


def test_connections_and_listeners_with_owning_processes(dock):
    found = network.collect(probe_context(dock, "network"))
    assert [(c.local_ip, c.local_port, c.remote_ip, c.remote_port, c.status, c.pid, c.process_name) for c in found.connections] == [
        ("10.20.0.15", 52344, "142.250.72.14", 443, "ESTABLISHED", 2300, "chrome"),
        ("10.20.0.15", 52350, "140.82.112.3", 443, "ESTABLISHED", 2300, "chrome"),  # IPv4-mapped, written plainly
    ]
    # the owner is named as the processes probe names it, not by its 15-character comm
    assert [(listener.ip, listener.port, listener.protocol, listener.pid, listener.process_name) for listener in found.listeners] == [
        ("127.0.0.53", 53, "tcp", 410, "systemd-resolved"),
        ("::1", 631, "tcp", 880, "cupsd"),
        ("127.0.0.53", 53, "udp", 410, "systemd-resolved"),
    ]


def test_relay_laptop_network(pikvm):
    found = network.collect(probe_context(pikvm, "network"))
    assert found.ip_forwarding is True
    assert list(found.dns_servers) == ["1.1.1.1", "8.8.8.8"]
    connections = {(c.remote_ip, c.process_name, c.pid, c.local_port) for c in found.connections}
    assert connections == {(SSH_PEER, "sshd", 3100, 22), (ANYDESK_PEER, "anydesk", 900, 48812)}
    listeners = {(listener.ip, listener.port, listener.protocol, listener.process_name) for listener in found.listeners}
    assert {("0.0.0.0", 22, "tcp", "sshd"), ("::", 22, "tcp", "sshd"), ("0.0.0.0", 7070, "tcp", "anydesk"),
            ("0.0.0.0", 50001, "udp", "anydesk")} <= listeners


def test_a_tree_without_addresses_or_interfaces(tmp_path):
    broken = broken_laptop(tmp_path)
    ctx = probe_context(broken, "network")
    found = network.collect(ctx)
    assert list(found.interfaces) == [] and not found.HasField("default_gateway")
    assert gaps(ctx) == ["no /sys/class/net", "/etc/resolv.conf: dangling symlink"]


def test_socket_table_parsing_skips_torn_lines():
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23456 1 0\n"
        "   1: short line\n"
        "   2: 0100007F:zz77 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23457 1 0\n"
    )
    (sock,) = parse_socket_table(table, "tcp")
    assert (sock.local_ip, sock.local_port, sock.status, sock.inode) == ("127.0.0.1", 631, "LISTEN", 23456)


@pytest.mark.parametrize(("text", "normal"), [
    ("::ffff:1.2.3.4", "1.2.3.4"), ("fe80::1%eth0", "fe80::1"), ("2001:db8:0:0::1", "2001:db8::1"), ("10.0.0.1", "10.0.0.1"),
])
def test_ip_text_is_normal(text, normal):
    assert normal_ip(text) == normal


def test_fib_trie_counts_each_local_address_once():
    trie = "Main:\n  +-- 0.0.0.0/0\n     |-- 10.1.2.3\n        /32 host LOCAL\n     |-- 10.1.2.0\n        /24 link UNICAST\n" \
           "Local:\n     |-- 10.1.2.3\n        /32 host LOCAL\n"
    assert local_ipv4_addresses(trie) == ["10.1.2.3"]


def test_iw_link_output():
    wifi = parse_iw_link(IW_LINK_CONNECTED)
    assert (wifi.ssid, wifi.bssid) == ("Home Net 5G", "04:d4:c4:5e:d8:60")
    assert parse_iw_link("Not connected.\n") == type(wifi)()


def test_nmcli_terse_output_with_escaped_colons():
    wifi = parse_nmcli_wifi(NMCLI_WIFI)
    assert (wifi.ssid, wifi.bssid) == ("Home Net 5G", "04:d4:c4:5e:d8:60")
    assert parse_nmcli_wifi("no:Other:AA\\:BB\\:CC\\:DD\\:EE\\:03\n").bssid == ""


LINUX_FIXTURES = Path(__file__).parent / "fixtures" / "linux"
NMCLI_LIST = (LINUX_FIXTURES / "nmcli_wifi_list.txt").read_text()
IW_SCAN = (LINUX_FIXTURES / "iw_scan_dump.txt").read_text()


def _aps(found) -> list[tuple]:
    return [(ap.bssid, ap.ssid, ap.signal_dbm, ap.channel) for ap in found]


def test_nmcli_nearby_list_unescapes_bssids_and_turns_quality_into_dbm():
    found = _aps(parse_nmcli_nearby(NMCLI_LIST))
    # NetworkManager's quality is linear from -100 dBm (0) to -40 dBm (100): dBm = 0.6 * quality - 100
    assert found[:3] == [("04:d4:c4:5e:d8:60", "Home Net 5G", -40, 36), ("04:d4:c4:5e:d8:64", "Home Net", -48, 6),
                         ("a0:63:91:aa:bb:cd", "NETGEAR47", -62, 149)]
    assert ("3c:37:86:9a:0b:11", "Neighbor:Net", -74, 1) in found and ("3c:37:86:9a:0b:12", "", -76, 1) in found
    assert len(found) == 8
    assert _aps(strongest(parse_nmcli_nearby(NMCLI_LIST)))[-1] == ("f4:f2:6d:77:01:02", "xfinitywifi", -84, 44)
    assert len(strongest(parse_nmcli_nearby(NMCLI_LIST))) == 7  # the BSSID two radios saw, once: its stronger sighting


def test_iw_scan_dump_gives_dbm_and_channels_from_frequencies():
    assert _aps(parse_iw_scan(IW_SCAN)) == [("04:d4:c4:5e:d8:60", "Home Net 5G", -41, 36),
                                            ("b0:be:76:12:34:56", "TP-Link_3456", -66, 11),
                                            ("3c:37:86:9a:0b:12", "", -75, 1),
                                            ("f4:f2:6d:77:01:02", "xfinitywifi", -83, 33)]  # 6 GHz: 5950 + 5 * 33
    assert parse_iw_scan("") == [] and parse_iw_scan("command failed: Operation not supported (-95)\n") == []


def test_the_nearby_list_is_bounded_to_the_strongest():
    crowd = [access_point(f"00:11:22:33:{i // 256:02x}:{i % 256:02x}", f"net{i}", -30 - i % 70, 6) for i in range(300)]
    kept = strongest(crowd + [access_point("not a mac", "x", -20, 1), access_point("00:11:22:33:44:55", "", 0, 1)])
    assert len(kept) == MAX_NEARBY and all(ap.signal_dbm >= -31 - MAX_NEARBY // 4 for ap in kept)
    assert [ap.signal_dbm for ap in kept] == sorted((ap.signal_dbm for ap in kept), reverse=True)


def _tool(directory: Path, name: str, output: str) -> None:
    """A stand-in for a tool on the live machine that prints a recorded output."""
    (directory / f"{name}.out").write_text(output)
    script = directory / name
    script.write_text(f"#!/bin/sh\nexec /bin/cat '{directory / f'{name}.out'}'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_live_wifi_asks_iw(tmp_path, monkeypatch):
    _tool(tmp_path, "iw", IW_LINK_CONNECTED)
    monkeypatch.setenv("PATH", str(tmp_path))
    ctx = ProbeContext.create().for_probe("network")
    assert current_wifi(ctx, ["wlp0s20f3"]).bssid == "04:d4:c4:5e:d8:60"


def test_live_wifi_falls_back_to_nmcli(tmp_path, monkeypatch):
    _tool(tmp_path, "nmcli", NMCLI_WIFI)
    monkeypatch.setenv("PATH", str(tmp_path))
    ctx = ProbeContext.create().for_probe("network")
    assert current_wifi(ctx, ["wlp0s20f3"]).ssid == "Home Net 5G"


def test_live_nearby_list_asks_nmcli_first(tmp_path, monkeypatch):
    _tool(tmp_path, "nmcli", NMCLI_LIST)
    _tool(tmp_path, "iw", IW_SCAN)
    monkeypatch.setenv("PATH", str(tmp_path))
    ctx = ProbeContext.create().for_probe("network")
    assert len(nearby_wifi(ctx, ["wlp0s20f3"])) == 7 and gaps(ctx) == []


def test_live_nearby_list_falls_back_to_the_kernel_scan_cache(tmp_path, monkeypatch):
    _tool(tmp_path, "iw", IW_SCAN)
    monkeypatch.setenv("PATH", str(tmp_path))
    ctx = ProbeContext.create().for_probe("network")
    assert [ap.bssid for ap in nearby_wifi(ctx, ["wlp0s20f3"])][:2] == ["04:d4:c4:5e:d8:60", "b0:be:76:12:34:56"]


def test_live_nearby_list_without_tools_is_a_gap_not_a_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    ctx = ProbeContext.create().for_probe("network")
    assert nearby_wifi(ctx, ["wlp0s20f3"]) == []
    assert gaps(ctx) == ["wifi_nearby: neither nmcli nor iw is installed"]


def test_live_wifi_without_tools_is_a_gap(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    ctx = ProbeContext.create().for_probe("network")
    assert current_wifi(ctx, ["wlp0s20f3"]).bssid == ""
    assert gaps(ctx) == ["wifi: neither iw nor nmcli is installed"]


def test_forwarding_over_ipv6_counts(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.file("/proc/sys/net/ipv6/conf/all/forwarding", "1\n")
    assert network.collect(probe_context(b.build(), "network")).ip_forwarding is True
