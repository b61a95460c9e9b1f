"""Network rules: inbound sessions, live tool connections, remote logins, IP forwarding, proxies."""

from __future__ import annotations

import pytest

from test_rules_support import connection, findings, listener, only, process, report, verdict

ANYDESK = process(4120, "AnyDesk.exe", r"C:\Program Files (x86)\AnyDesk\AnyDesk.exe")


# --- remote-session-inbound ----------------------------------------------------------------

def test_inbound_connection_to_a_remote_desktop_port_of_a_running_tool():
    rep = report("windows", processes=[ANYDESK],
                 connections=[connection("192.168.1.20:7070", "198.51.100.77:50412", 4120, "AnyDesk.exe")])
    finding = only(rep, "remote-session-inbound")
    assert finding["severity"] == "critical"
    assert finding["summary"] == "Inbound AnyDesk session from 198.51.100.77:50412 (local port 7070)"
    assert finding["evidence"]["connection"]["local"] == "192.168.1.20:7070"
    assert finding["evidence"]["process"]["name"] == "AnyDesk.exe"
    assert finding["evidence"]["signature"] == {"field": "listen_ports", "value": 7070,
                                                "source": "magicsword-io/LOLRMM:yaml/anydesk.yaml@3c75cf091b10"}


def test_inbound_rdp_without_a_catalogued_process_names_the_service_for_the_os():
    rep = report("windows", processes=[process(1100, "svchost.exe", r"C:\Windows\System32\svchost.exe")],
                 connections=[connection("10.0.0.5:3389", "203.0.113.40:61000", 1100, "svchost.exe")])
    finding = only(rep, "remote-session-inbound")
    assert [t["id"] for t in finding["evidence"]["tools"]] == ["microsoft-remote-desktop-services-rdp-host"]


def test_an_unowned_screen_sharing_socket_is_the_os_server():
    rep = report("macos", connections=[connection("10.0.0.9:5900", "[::ffff:91.245.227.16]:55012", 0, "")])
    finding = only(rep, "remote-session-inbound")
    assert finding["summary"] == "Inbound Apple Remote Desktop session from 91.245.227.16:55012 (local port 5900)"


JEKYLL = process(880, "ruby", "/usr/bin/ruby3.2", ["ruby", "jekyll", "serve", "--host", "0.0.0.0"])


def test_a_lan_peer_of_a_developer_server_on_a_remote_desktop_port_is_no_session():
    rep = report("linux", processes=[JEKYLL], listeners=[listener("0.0.0.0:4000", 880, "ruby")],
                 connections=[connection("192.168.0.9:4000", "192.168.0.40:51522", 880, "ruby")])
    assert findings(rep, "remote-session-inbound") == []


def test_the_port_still_counts_from_a_public_peer_or_for_an_unknown_socket_owner():
    public = report("linux", processes=[JEKYLL],
                    connections=[connection("192.168.0.9:4000", "198.51.100.77:51522", 880, "ruby")])
    unowned = report("linux", connections=[connection("192.168.0.9:4000", "192.168.0.40:51522", 0, "")])
    assert only(public, "remote-session-inbound")["severity"] == "critical"
    assert only(unowned, "remote-session-inbound")["severity"] == "critical"


def test_the_os_remote_desktop_counts_from_the_lan_in_its_system_process():
    rep = report("windows", processes=[process(1100, "svchost.exe", r"C:\Windows\System32\svchost.exe")],
                 connections=[connection("10.0.0.5:3389", "10.0.0.77:61000", 1100, "svchost.exe")])
    assert only(rep, "remote-session-inbound")["severity"] == "critical"


def test_any_port_a_remote_control_process_listens_on_counts():
    rustdesk = process(70, "rustdesk", "/usr/bin/rustdesk", ["rustdesk", "--server"])
    rep = report("linux", processes=[rustdesk], listeners=[listener("0.0.0.0:40123", 70, "rustdesk")],
                 connections=[connection("192.168.1.9:40123", "198.51.100.8:3333", 70, "rustdesk")])
    assert only(rep, "remote-session-inbound")["evidence"]["tools"][0]["id"] == "rustdesk"


MWB = process(5300, "MouseWithoutBorders.exe",
              r"C:\Program Files (x86)\Microsoft Garage\Mouse without Borders\MouseWithoutBorders.exe")
BARRIER_SERVER = process(71, "barriers", "/usr/bin/barriers", ["barriers", "-f", "--address", ":24800"])


@pytest.mark.parametrize("proc, local, lan_peer", [
    (MWB, "192.168.1.20:15101", "192.168.1.42:50211"),            # the desk PC shares its keyboard and mouse
    (BARRIER_SERVER, "192.168.1.20:24800", "192.168.1.30:48220"),  # this laptop shares its keyboard with a desk PC
])
def test_a_software_kvm_peer_on_the_lan_is_no_remote_session(proc, local, lan_peer):
    """Input sharing moves keyboard and mouse, not the screen: a LAN peer sits at the same desk."""
    port = int(local.rsplit(":", 1)[1])
    listen = [listener(f"0.0.0.0:{port}", proc["pid"], proc["name"])]
    os = "windows" if proc is MWB else "linux"
    lan = report(os, processes=[proc], listeners=listen, connections=[connection(local, lan_peer, proc["pid"], proc["name"])])
    assert findings(lan, "remote-session-inbound") == []
    public = report(os, processes=[proc], listeners=listen,
                    connections=[connection(local, "198.51.100.77:50211", proc["pid"], proc["name"])])
    assert only(public, "remote-session-inbound")["severity"] == "critical"


@pytest.mark.parametrize("conn", [
    connection("192.168.1.20:52000", "198.51.100.77:7070", 4120, "AnyDesk.exe"),   # outbound: this laptop dials out
    connection("127.0.0.1:7070", "127.0.0.1:50000", 4120, "AnyDesk.exe"),          # loopback
    connection("192.168.1.20:7070", "198.51.100.77:50412", 4120, "AnyDesk.exe", status="TIME_WAIT"),
    connection("[::1]:5900", "[::1]:61000", 0, ""),
])
def test_not_an_inbound_session(conn):
    assert findings(report("windows", processes=[ANYDESK], connections=[conn]), "remote-session-inbound") == []


def test_ipv4_mapped_remote_is_read_as_ipv4():
    rep = report("linux", connections=[connection("[::ffff:192.168.1.4]:5900", "[::ffff:198.51.100.3]:4000", 0, "")])
    assert only(rep, "remote-session-inbound")["evidence"]["connection"]["remote"] == "[::ffff:198.51.100.3]:4000"


# --- remote-tool-connected -----------------------------------------------------------------

def test_running_tool_online_with_an_outside_peer():
    rep = report("windows", processes=[ANYDESK],
                 connections=[connection("192.168.1.20:52000", "80.67.167.2:443", 4120, "AnyDesk.exe")])
    finding = only(rep, "remote-tool-connected")
    assert finding["severity"] == "low"
    assert finding["summary"] == "AnyDesk holds a live connection to 80.67.167.2:443"
    assert findings(rep, "remote-session-inbound") == []


def test_browser_connections_are_not_tool_connections():
    rep = report("windows", processes=[process(9, "chrome.exe")],
                 connections=[connection("192.168.1.20:52000", "142.250.80.46:443", 9, "chrome.exe")])
    assert findings(rep, "remote-tool-connected") == []


# --- remote-login-session ------------------------------------------------------------------

@pytest.mark.parametrize("remote_host, origin, severity", [
    ("91.245.227.16", "public", "medium"),
    ("198.51.100.77", "public", "medium"),     # documentation ranges stand for public hosts
    ("192.168.1.15", "private", "info"),
    ("100.101.102.103", "private", "info"),    # Tailscale / CGNAT
    ("fd7a:115c:a1e0::1", "private", "info"),
    ("build-box.corp", "unknown", "low"),
])
def test_remote_login_weight_follows_where_it_comes_from(remote_host, origin, severity):
    rep = report("linux", sessions=[{"user": "dev", "terminal": "pts/1", "remote_host": remote_host}])
    finding = only(rep, "remote-login-session")
    assert (finding["evidence"]["origin"], finding["severity"]) == (origin, severity)


@pytest.mark.parametrize("remote_host", ["", ":0", ":1", "localhost", "127.0.0.1"])
def test_local_sessions_are_not_remote_logins(remote_host):
    rep = report("linux", sessions=[{"user": "dev", "terminal": "tty2", "remote_host": remote_host}])
    assert findings(rep, "remote-login-session") == []


@pytest.mark.parametrize("os, terminal", [("windows", "RDP-Tcp#4"), ("windows", "rdp-tcp#12"), ("linux", ":10")])
def test_remote_desktop_session_from_a_public_address_is_critical(os, terminal):
    rep = report(os, sessions=[{"user": "dev", "terminal": terminal, "remote_host": "198.51.100.77"}])
    finding = only(rep, "remote-desktop-session")
    assert finding["severity"] == "critical"
    assert finding["summary"] == f"dev is driving this laptop's desktop from 198.51.100.77 (session {terminal})"
    assert findings(rep, "remote-login-session") == []
    assert verdict(rep)["verdict"] == "relay"


@pytest.mark.parametrize("terminal, remote_host", [
    ("RDP-Tcp#4", "192.168.1.15"),        # from the LAN or a VPN: a remote login, weighed by origin
    ("RDP-Tcp#4", "helpdesk-pc"),         # a client name, not an address
    ("pts/1", "198.51.100.77"),           # an SSH shell is not a desktop
    ("console", "198.51.100.77"),
])
def test_other_remote_sessions_stay_remote_logins(terminal, remote_host):
    rep = report("windows", sessions=[{"user": "dev", "terminal": terminal, "remote_host": remote_host}])
    assert findings(rep, "remote-desktop-session") == []
    assert len(findings(rep, "remote-login-session")) == 1


# --- ip-forwarding -------------------------------------------------------------------------

def test_unexplained_forwarding_is_medium():
    rep = report("macos", ip_forwarding=True, interfaces=[{"name": "en0"}, {"name": "bridge100", "kind": "bridge"}])
    finding = only(rep, "ip-forwarding")
    assert (finding["severity"], finding["summary"]) == ("medium", "IP forwarding is on")


def test_docker_bridges_explain_forwarding():
    rep = report("linux", ip_forwarding=True, interfaces=[{"name": "wlp0s20f3"}, {"name": "docker0"}, {"name": "br-3f2a"}])
    finding = only(rep, "ip-forwarding")
    assert finding["severity"] == "info"
    assert [r["interface"] for r in finding["evidence"]["explained_by"]] == ["docker0", "br-3f2a"]


@pytest.mark.parametrize("os_name, adapter", [
    ("windows", "VMware Network Adapter VMnet8"),      # Windows names VMware's and VirtualBox's adapters itself
    ("windows", "VirtualBox Host-Only Network"),
    ("macos", "vnic0"),                                # Parallels Desktop
    ("macos", "vmenet0"),                              # a vmnet VM (UTM, Lima, Docker Desktop) in bridge100
    ("linux", "incusbr0"),                             # Incus containers
    ("linux", "lxcbr0"),                               # LXC containers
])
def test_vm_host_adapters_explain_forwarding_on_every_os(os_name, adapter):
    rep = report(os_name, ip_forwarding=True, interfaces=[{"name": "Wi-Fi"}, {"name": adapter}])
    finding = only(rep, "ip-forwarding")
    assert finding["severity"] == "info"
    assert [r["interface"] for r in finding["evidence"]["explained_by"]] == [adapter]


def test_forwarding_off_is_silent():
    assert findings(report("linux", ip_forwarding=False, interfaces=[{"name": "docker0"}]), "ip-forwarding") == []


# --- proxy-listening -----------------------------------------------------------------------

def test_socks_port_open_to_the_network():
    rep = report("linux", processes=[process(80, "microsocks", "/usr/local/bin/microsocks")],
                 listeners=[listener("0.0.0.0:1080", 80, "microsocks")])
    finding = only(rep, "proxy-listening")
    assert finding["summary"] == "SOCKS proxy is listening on 0.0.0.0:1080"
    assert finding["evidence"]["proxy_port"] == {"port": 1080, "name": "SOCKS proxy"}


def test_proxy_on_loopback_only_is_fine():
    rep = report("linux", listeners=[listener("127.0.0.1:1080", 80, "ssh"), listener("[::1]:3128", 81, "squid")])
    assert findings(rep, "proxy-listening") == []


def test_tool_started_in_proxy_mode():
    cmd = ["/usr/sbin/tailscaled", "--socks5-server=localhost:1055"]
    rep = report("linux", processes=[process(90, "tailscaled", cmd[0], cmd)])
    finding = only(rep, "proxy-listening")
    assert finding["evidence"]["markers"] == ["--socks5-server"]
    assert findings(report("linux", processes=[process(90, "tailscaled", cmd[0], cmd[:1])]), "proxy-listening") == []


def test_tunnel_tool_listening_beyond_loopback():
    rep = report("linux", processes=[process(95, "frps", "/opt/frp/frps")], listeners=[listener("0.0.0.0:7000", 95, "frps")])
    assert only(rep, "proxy-listening")["summary"] == "frp (fast reverse proxy) is listening on 0.0.0.0:7000"


@pytest.mark.parametrize("cmdline, forwards", [
    (["ssh", "-N", "-R", "0.0.0.0:15900:localhost:5900", "tunnel@vps.example"], ["0.0.0.0:15900:localhost:5900"]),
    (["ssh", "-fNR8080:localhost:80", "me@host"], ["8080:localhost:80"]),
    (["/usr/bin/ssh", "-o", "RemoteForward=2222 localhost:22", "host"], ["2222 localhost:22"]),
    (["ssh", "-oRemoteForward=2222 localhost:22", "host"], ["2222 localhost:22"]),
    (["ssh", "-oremoteforward 2222:localhost:22", "host"], ["2222:localhost:22"]),
    (["ssh", "-o", "RemoteForward 0.0.0.0:2222 localhost:22", "host"], ["0.0.0.0:2222 localhost:22"]),
])
def test_ssh_reverse_tunnel(cmdline, forwards):
    rep = report("linux", processes=[process(400, "ssh", "/usr/bin/ssh", cmdline)])
    finding = only(rep, "ssh-reverse-tunnel")
    assert finding["evidence"]["forwards"] == forwards
    assert finding["evidence"]["process"]["pid"] == 400


def test_ssh_reverse_tunnel_publishing_a_desktop_port_is_high():
    cmd = ["ssh", "-N", "-R", "0.0.0.0:15900:localhost:5900", "tunnel@vps.example"]
    finding = only(report("linux", processes=[process(400, "ssh", "/usr/bin/ssh", cmd)]), "ssh-reverse-tunnel")
    assert finding["severity"] == "high"
    assert finding["evidence"]["exposes_remote_desktop_ports"] == [5900]


@pytest.mark.parametrize("name, exe", [("plink.exe", r"C:\Program Files\PuTTY\plink.exe"),
                                       ("PLINK.EXE", r"C:\Tools\PLINK.EXE"), ("plink", "/usr/bin/plink")])
def test_plink_remote_forward_is_an_ssh_reverse_tunnel(name, exe):
    cmd = [exe, "-ssh", "-N", "-R", "0.0.0.0:13389:127.0.0.1:3389", "tunnel@203.0.113.40"]
    finding = only(report("windows", processes=[process(402, name, exe, cmd)]), "ssh-reverse-tunnel")
    assert finding["severity"] == "high"
    assert finding["evidence"]["exposes_remote_desktop_ports"] == [3389]


@pytest.mark.parametrize("name, cmdline", [
    ("ssh", ["ssh", "alice@build-server"]),                       # a plain login
    ("ssh", ["ssh", "-L", "8080:localhost:80", "host"]),          # a local forward reaches out, not in
    ("ssh", ["ssh", "-oLocalForward=8080 localhost:80", "host"]),   # other -o options
    ("ssh", ["ssh", "-o", "ServerAliveInterval=30", "host"]),
    ("sshd", ["sshd:", "alice", "-R"]),                           # the server, not a client
    ("rsync", ["rsync", "-R", "src/", "host:dst/"]),              # -R means something else elsewhere
])
def test_ssh_without_a_remote_forward_is_not_a_tunnel(name, cmdline):
    rep = report("linux", processes=[process(401, name, f"/usr/bin/{name}", cmdline)])
    assert findings(rep, "ssh-reverse-tunnel") == []


# --- remote-session-tunnelled --------------------------------------------------------------

NGROK = process(610, "ngrok.exe", r"C:\Users\a\ngrok.exe", [r"C:\Users\a\ngrok.exe", "tcp", "3389"])
TERMSERVICE = process(1100, "svchost.exe", r"C:\Windows\System32\svchost.exe")


def test_a_tunnel_connected_into_a_remote_desktop_port_carries_a_session():
    rep = report("windows", processes=[NGROK, TERMSERVICE],
                 listeners=[listener("0.0.0.0:3389", 1100, "svchost.exe")],
                 connections=[connection("127.0.0.1:51544", "127.0.0.1:3389", 610, "ngrok.exe"),
                              connection("127.0.0.1:3389", "127.0.0.1:51544", 1100, "svchost.exe")])
    finding = only(rep, "remote-session-tunnelled")
    assert finding["severity"] == "critical"
    assert finding["summary"].startswith("ngrok carries a connection into this laptop's Microsoft Remote Desktop")
    assert verdict(rep)["verdict"] == "relay"


def test_ssh_with_a_remote_forward_connected_into_vnc_carries_a_session():
    ssh = process(70, "ssh", "/usr/bin/ssh", ["ssh", "-N", "-R", "15900:localhost:5900", "tunnel@vps"])
    x11vnc = process(71, "x11vnc", "/usr/bin/x11vnc", ["x11vnc", "-localhost"])
    rep = report("linux", processes=[ssh, x11vnc], listeners=[listener("127.0.0.1:5900", 71, "x11vnc")],
                 connections=[connection("127.0.0.1:40310", "127.0.0.1:5900", 70, "ssh")])
    assert only(rep, "remote-session-tunnelled")["summary"].startswith("ssh carries a connection into this laptop's x11vnc")


@pytest.mark.parametrize("cmdline, port, owner", [
    (["ssh", "-N", "-L", "5900:lab:5900", "jump"], 5900, None),        # no remote forward: ssh is a client here
    (["ngrok", "http", "4000"], 4000, "ruby"),                         # a dev server on NoMachine's port
])
def test_loopback_connections_that_carry_no_remote_desktop(cmdline, port, owner):
    tunnel = process(70, cmdline[0], "/usr/local/bin/" + cmdline[0], cmdline)
    listeners = [listener(f"127.0.0.1:{port}", 71, owner)] if owner else []
    rep = report("linux", processes=[tunnel, process(71, "ruby", "/usr/bin/ruby")], listeners=listeners,
                 connections=[connection("127.0.0.1:40310", f"127.0.0.1:{port}", 70, cmdline[0])])
    assert findings(rep, "remote-session-tunnelled") == []

