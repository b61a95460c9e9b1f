"""A tool's three strengths: installed, running, in session — the catalogue's `session` signs."""

from __future__ import annotations

import pytest

from test_rules_support import connection, findings, only, process, report, verdict

RUSTDESK_EXE = r"C:\Program Files\RustDesk\rustdesk.exe"
RUSTDESK_SERVER = process(60, "rustdesk.exe", RUSTDESK_EXE, [RUSTDESK_EXE, "--server"])
RUSTDESK_SERVICE = process(61, "rustdesk.exe", RUSTDESK_EXE, [RUSTDESK_EXE, "--service"])
RELAY = "203.0.113.9:21117"          # a self-hosted hbbr
RENDEZVOUS = "203.0.113.9:21116"     # hbbs: where an idle RustDesk waits


def _rustdesk(*extra, connections=()):
    return report("windows", processes=[RUSTDESK_SERVICE, RUSTDESK_SERVER, *extra], connections=list(connections))


def test_running_idle_installed_and_in_session_are_three_strengths():
    idle = verdict(_rustdesk(connections=[connection("192.168.1.20:50100", RENDEZVOUS, 60, "rustdesk.exe")]))
    assert idle["verdict"] == "suspicious"
    assert findings(_rustdesk(), "remote-session-active") == []
    cm = process(62, "rustdesk.exe", RUSTDESK_EXE, [RUSTDESK_EXE, "--cm"])
    live = verdict(_rustdesk(cm))
    assert live["verdict"] == "relay"
    [finding] = [f for f in live["findings"] if f["rule"] == "remote-session-active"]
    assert finding["evidence"]["session_signs"][0]["args"] == "--cm"


def test_a_stream_through_the_rustdesk_relay_is_a_session():
    rep = _rustdesk(connections=[connection("192.168.1.20:50101", RELAY, 60, "rustdesk.exe")])
    finding = only(rep, "remote-session-active")
    sign = finding["evidence"]["session_signs"][0]
    assert (sign["sign"], sign["port"], sign["connection"]["remote"]) == ("connection", 21117, RELAY)


def test_the_relay_port_of_a_viewer_process_is_no_incoming_session():
    """The same binary is RustDesk's viewer: only the host side (`--server`) counts on the relay."""
    viewer = process(70, "rustdesk.exe", RUSTDESK_EXE, [RUSTDESK_EXE, "--connect", "123456789"])
    relayed = connection("192.168.1.20:50102", RELAY, 70, "rustdesk.exe")
    rep = report("windows", processes=[viewer], connections=[relayed])
    assert findings(rep, "remote-session-active") == []


SPLASHTOP = r"C:\Program Files (x86)\Splashtop\Splashtop Remote\Server\SRServer.exe"


@pytest.mark.parametrize("peer, local_port, expected", [
    ("198.51.100.77:6783", 50200, 1),     # the streamer reaches a peer on 6783 (through NAT: no inbound socket)
    ("54.200.88.129:443", 50201, 0),      # idle: only the vendor's relay on 443
    ("127.0.0.1:6783", 50202, 0),         # loopback is this machine
])
def test_splashtop_streamer_with_a_peer_on_its_session_port(peer, local_port, expected):
    rep = report("windows", processes=[process(80, "SRServer.exe", SPLASHTOP)],
                 connections=[connection(f"192.168.1.20:{local_port}", peer, 80, "SRServer.exe")])
    assert len(findings(rep, "remote-session-active")) == expected


def test_a_peer_inside_the_listening_port_is_counted_once_by_the_inbound_rule():
    exe = r"C:\Program Files (x86)\AnyDesk\AnyDesk.exe"
    backend = process(100, "AnyDesk.exe", exe, [exe, "--backend"])
    rep = report("windows", processes=[backend],
                 connections=[connection("192.168.1.20:7070", "198.51.100.77:50412", 100, "AnyDesk.exe")])
    assert findings(rep, "remote-session-active") == []
    assert len(findings(rep, "remote-session-inbound")) == 1


def test_chrome_remote_desktop_starts_its_desktop_process_for_a_client():
    folder = r"C:\Program Files (x86)\Google\Chrome Remote Desktop\131.0.6778.39"
    host = folder + r"\remoting_host.exe"
    idle = [process(90, "remoting_host.exe", host, [host, "--type=daemon"])]
    assert findings(report("windows", processes=idle), "remote-session-active") == []
    live = idle + [process(91, "remoting_desktop.exe", folder + r"\remoting_desktop.exe")]
    assert only(report("windows", processes=live), "remote-session-active")["evidence"]["tool"]["id"] == \
        "chrome-remote-desktop"


def test_anydesk_backend_with_a_direct_peer_is_a_session():
    exe = r"C:\Program Files (x86)\AnyDesk\AnyDesk.exe"
    backend = process(100, "AnyDesk.exe", exe, [exe, "--backend"])
    rep = report("windows", processes=[backend],
                 connections=[connection("192.168.1.20:50300", "198.51.100.77:7070", 100, "AnyDesk.exe")])
    assert only(rep, "remote-session-active")["severity"] == "critical"


def test_an_rdp_clipboard_redirector_means_a_remote_desktop_session():
    rdpclip = process(110, "rdpclip.exe", r"C:\Windows\System32\rdpclip.exe")
    assert only(report("windows", processes=[rdpclip]), "remote-session-active")["severity"] == "critical"
