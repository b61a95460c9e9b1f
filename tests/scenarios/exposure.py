"""Issue 14's classes of miss, each with tools and hardware the first checks did not use, and the
benign look-alikes that keep the new rules honest: streaming hosts and unknown programs with a
stranger inside a listener, tools in a live session by their own signs, RMMs that take over the
desktop, tunnels and mesh VPNs paired with the laptop's own servers, catalogue identities on Linux and macOS.

`ROWS` holds `(name, os, verdict, what, fact, delta)`; catalogue.py turns them into scenarios. Values
not in a source (ports of a peer, pids, versions) are plausible ones; the fact says what the verdict
leans on.
"""

from __future__ import annotations

from parts import App, Conn, Delta, Listen, NetIface, Proc
from software import CONTROLLER, rdp_enabled_windows

SYSTEM = "NT AUTHORITY\\SYSTEM"
PF = "C:\\Program Files\\"
W, M, L = "windows", "macos", "linux"
RELAY, SUSPICIOUS, CLEAN = "relay", "suspicious", "clean"
GAMESTREAM_TCP = (47984, 47989, 47990, 48010)   # signatures/remote_tools/sunshine.json


def _listening(process: str, *ports: int, ip: str = "0.0.0.0") -> tuple[Listen, ...]:
    return tuple(Listen(ip, port, process) for port in ports)


# --- a stranger inside a listener ------------------------------------------------------------

def sunshine_linux() -> Delta:
    """Sunshine as its user unit starts it, a Moonlight client abroad inside its GameStream ports."""
    return Delta(
        applications=(App("sunshine", "2025.924.154138", source="dpkg"),
                      App("sunshine.service", path="/usr/bin/sunshine", source="systemd")),
        processes=(Proc("/usr/bin/sunshine", parent="systemd#user", started=60),),
        listeners=_listening("sunshine", *GAMESTREAM_TCP),
        connections=(Conn("{lan_ip}", 47984, CONTROLLER, 50122, "sunshine"),
                     Conn("{lan_ip}", 48010, CONTROLLER, 50123, "sunshine")))


def wolf_linux() -> Delta:
    """Wolf (games-on-whales/wolf), a Moonlight host the catalogue does not name, on the GameStream ports."""
    return Delta(
        processes=(Proc("/wolf/wolf", parent="systemd", user="root", started=80),),
        listeners=_listening("wolf", 47984, 47989, 48010),
        connections=(Conn("{lan_ip}", 47989, CONTROLLER, 50210, "wolf"),))


def weylus_linux() -> Delta:
    """Weylus (H-M-H/Weylus) serves the screen and takes pen/mouse input in a browser on 1701; nothing in
    the catalogue names it or its port."""
    home = "{home}/.local/bin/"
    return Delta(
        processes=(Proc(home + "weylus", ("--no-gui", "--bind-address", "0.0.0.0"), parent="systemd#user"),),
        listeners=_listening("weylus", 1701, 9001),
        connections=(Conn("{lan_ip}", 1701, CONTROLLER, 51800, "weylus"),
                     Conn("{lan_ip}", 9001, CONTROLLER, 51801, "weylus")))


def syncthing_linux() -> Delta:
    """Syncthing syncing with two devices on the internet: they connect in on 22000 (docs.syncthing.net)."""
    return Delta(
        processes=(Proc("/usr/bin/syncthing", ("serve", "--no-browser"), parent="systemd#user", started=50),),
        listeners=_listening("syncthing", 22000) + (Listen("127.0.0.1", 8384, "syncthing"),),
        connections=(Conn("{lan_ip}", 22000, "198.51.100.23", 41822, "syncthing"),
                     Conn("{lan_ip}", 22000, "203.0.113.71", 52011, "syncthing")))


def steam_and_syncthing_windows() -> Delta:
    """Steam (LAN discovery and Remote Play listener, nobody streaming) and Syncthing with an internet peer."""
    steam = "C:\\Program Files (x86)\\Steam\\"
    sync = "{home}\\AppData\\Local\\Programs\\Syncthing\\syncthing.exe"
    return Delta(
        applications=(App("Steam", "2.10.91.91", steam[:-1], publisher="Valve Corporation", source="registry"),),
        processes=(Proc(steam + "steam.exe", parent="explorer.exe", started=120, signer="Valve Corp."),
                   Proc(steam + "bin\\cef\\cef.win7x64\\steamwebhelper.exe", parent="steam.exe", started=125),
                   Proc(sync, ("serve", "--no-browser"), parent="explorer.exe", started=130)),
        listeners=_listening("steam.exe", 27036) + _listening("syncthing.exe", 22000),
        connections=(Conn("{lan_ip}", 50110, "155.133.248.39", 27019, "steam.exe"),
                     Conn("{lan_ip}", 22000, "198.51.100.23", 41822, "syncthing.exe")))


def dev_server_through_corporate_vpn_linux() -> Delta:
    """A developer's server on all interfaces, reached by a colleague over the corporate VPN (10.8/16)."""
    return Delta(
        processes=(Proc("/usr/bin/node", ("{home}/src/app/node_modules/.bin/vite", "--host", "0.0.0.0"),
                        parent="systemd#user"),),
        interfaces=(NetIface("tun0", "", ("10.8.0.14",), kind="tunnel"),),
        listeners=_listening("node", 5173),
        connections=(Conn("10.8.0.14", 5173, "10.8.3.77", 61200, "node"),))


def moonlight_client_macos() -> Delta:
    """Moonlight, the viewer side, streaming *from* the user's gaming PC at home: outbound only."""
    app = "/Applications/Moonlight.app/Contents/MacOS/Moonlight"
    return Delta(
        applications=(App("Moonlight", "6.1.0", "/Applications/Moonlight.app",
                          bundle_id="com.moonlight-stream.Moonlight", source="app_bundle"),),
        processes=(Proc(app, parent="launchd", bundle_id="com.moonlight-stream.Moonlight"),),
        connections=(Conn("{lan_ip}", 50331, "203.0.113.90", 47984, "Moonlight"),
                     Conn("{lan_ip}", 50332, "203.0.113.90", 48010, "Moonlight")))


# --- in session, by the tool's own signs -----------------------------------------------------

def rustdesk_connection_manager_windows() -> Delta:
    """RustDesk installed as a service; a peer connected through the public rendezvous, so its
    connection manager (`--cm`) is open — no direct inbound socket to see."""
    exe = PF + "RustDesk\\rustdesk.exe"
    return Delta(
        applications=(App("RustDesk", "1.3.2", PF + "RustDesk", publisher="RustDesk", source="registry"),),
        processes=(Proc(exe, ("--service",), user=SYSTEM, parent="services.exe", key="rustdesk#service", started=12),
                   Proc(exe, ("--server",), user=SYSTEM, parent="rustdesk#service", key="rustdesk#server", started=14),
                   Proc(exe, ("--tray",), parent="explorer.exe", key="rustdesk#tray", started=110),
                   Proc(exe, ("--cm",), parent="rustdesk#server", key="rustdesk#cm")),
        connections=(Conn("{lan_ip}", 50990, "5.161.196.64", 21116, "rustdesk#server"),))


# --- RMMs that take over the desktop; catalogue identities on Linux and macOS -----------------------

def action1_windows() -> Delta:
    """Action1's agent beside the company's Intune (the base laptop's), its remote-desktop part idle."""
    folder = "C:\\Windows\\Action1\\"
    return Delta(
        applications=(App("Action1 Agent", "5.262", folder[:-1], publisher="Action1 Corporation", source="registry"),
                      App("A1Agent", path=folder + "action1_agent.exe", source="service")),
        processes=(Proc(folder + "action1_agent.exe", user=SYSTEM, parent="services.exe", started=12,
                        signer="Action1 Corporation"),),
        connections=(Conn("{lan_ip}", 51420, "52.0.171.90", 443, "action1_agent.exe"),))


def dwservice_linux() -> Delta:
    """DWService's Linux agent as dwagent.sh installs it: dwagsvc starts dwagent from /usr/share/dwagent."""
    folder = "/usr/share/dwagent/"
    return Delta(
        applications=(App("dwagent.service", path=folder + "native/dwagsvc", source="systemd"),),
        processes=(Proc(folder + "native/dwagsvc", ("run",), user="root", parent="systemd", key="dwagsvc", started=9),
                   Proc(folder + "runtime/bin/dwagent", ("-S", "-m", "agent"), user="root", parent="dwagsvc",
                        name="dwagent", started=10)),
        connections=(Conn("{lan_ip}", 43122, "51.159.34.180", 443, "dwagent"),))


def hoptodesk_macos_jobs() -> Delta:
    """HopToDesk's two launchd jobs as its cask lists them, the app itself renamed or moved away."""
    jobs = (("com.hoptodesk.HopToDesk_service", "/Library/LaunchDaemons/"),
            ("com.hoptodesk.HopToDesk_server", "/Library/LaunchAgents/"))
    return Delta(applications=tuple(App(label, path=f"{folder}{label}.plist", bundle_id=label, source="launchd")
                                    for label, folder in jobs))


def screenconnect_linux() -> Delta:
    """The ScreenConnect client's .deb: an init script the systemd generator turns into a unit."""
    unit = "connectwisecontrol-6069f55815889846"
    return Delta(applications=(App(unit + ".service", path="/etc/init.d/" + unit, source="systemd"),))


# --- tunnels and mesh VPNs paired with the laptop's own servers --------------------------------

def cloudflared_and_sshd_linux() -> Delta:
    """cloudflared publishing the laptop's SSH (`cloudflared tunnel run`, ingress to ssh://localhost:22)."""
    return Delta(
        applications=(App("openssh-server", "1:9.6p1-3ubuntu13.5", source="dpkg"),
                      App("cloudflared", "2024.11.1", source="dpkg")),
        remote_access=(("sshd", True),),
        processes=(Proc("/usr/sbin/sshd", ("-D",), user="root", parent="systemd", started=4),
                   Proc("/usr/bin/cloudflared", ("tunnel", "run", "--token", "eyJhIjoiOGQ3"), user="root",
                        parent="systemd", started=6)),
        listeners=_listening("sshd", 22),
        connections=(Conn("{lan_ip}", 40122, "198.41.192.7", 7844, "cloudflared"),))


def zerotier_and_rdp_windows() -> Delta:
    """ZeroTier joined to a network, Remote Desktop switched on: anyone on that network reaches 3389."""
    folder = "C:\\ProgramData\\ZeroTier\\One\\"
    return rdp_enabled_windows() + Delta(
        applications=(App("ZeroTier One", "1.14.2", PF + "ZeroTier\\One", publisher="ZeroTier, Inc.",
                          source="registry"),),
        processes=(Proc(folder + "zerotier-one_x64.exe", user=SYSTEM, parent="services.exe", started=12),),
        interfaces=(NetIface("ZeroTier One [8056c2e21c000001]", "", ("10.147.17.20",), kind="tunnel"),))


def tailscale_exit_node_linux() -> Delta:
    """tailscaled advertising an exit node: forwarding on, the tailnet's traffic leaves through this laptop."""
    return Delta(
        ip_forwarding=True,
        processes=(Proc("/usr/sbin/tailscaled", ("--state=/var/lib/tailscale/tailscaled.state",), user="root",
                        parent="systemd", started=5),),
        interfaces=(NetIface("tailscale0", "", ("100.90.11.4",), kind="tunnel"),),
        connections=(Conn("{lan_ip}", 41641, "192.200.0.104", 443, "tailscaled"),))


def tailscale_and_sshd_linux() -> Delta:
    """A developer reaching their laptop's SSH over the company tailnet; nobody logged in now."""
    return Delta(
        applications=(App("openssh-server", "1:9.6p1-3ubuntu13.5", source="dpkg"),),
        remote_access=(("sshd", True),),
        processes=(Proc("/usr/sbin/sshd", ("-D",), user="root", parent="systemd", started=4),
                   Proc("/usr/sbin/tailscaled", ("--state=/var/lib/tailscale/tailscaled.state",), user="root",
                        parent="systemd", started=5)),
        interfaces=(NetIface("tailscale0", "", ("100.90.11.4",), kind="tunnel"),),
        listeners=_listening("sshd", 22))


ROWS = [
    ("linux_sunshine_moonlight_peer_abroad", L, RELAY,
     "Sunshine (the host side of Moonlight) with a Moonlight client abroad inside its GameStream ports",
     "signatures/remote_tools/sunshine.json (LizardByte docs: 47984-47990, 48010); docs/detection.md §S6",
     sunshine_linux()),
    ("linux_wolf_moonlight_host_uncatalogued", L, RELAY,
     "Wolf, a Moonlight host no catalogue entry names, serving a peer abroad on the GameStream port 47989",
     "games-on-whales/wolf (GameStream ports); docs/detection.md §S6: a port the catalogue knows, whatever holds it",
     wolf_linux()),
    ("linux_weylus_unknown_listener_peer_abroad", L, SUSPICIOUS,
     "Weylus (screen and input in a browser) on 1701 with a peer abroad: a program and port nothing names",
     "H-M-H/Weylus (serves on 1701/9001); docs/detection.md §S6 inbound-internet-session", weylus_linux()),
    ("win_rustdesk_connection_manager_open", W, RELAY,
     "RustDesk's connection manager (`rustdesk --cm`) open for a peer that came through the public rendezvous",
     "signatures/remote_tools/rustdesk.json session (rustdesk --cm); docs/detection.md §S6",
     rustdesk_connection_manager_windows()),
    ("win_action1_beside_intune", W, SUSPICIOUS,
     "Action1's agent running beside the company's Intune, not allow-listed",
     "signatures/remote_tools/action1.json (Action1 Remote Desktop); docs/detection.md §S6 RMMs", action1_windows()),
    ("linux_dwservice_agent", L, SUSPICIOUS,
     "DWService's Linux agent (dwagsvc, dwagent from /usr/share/dwagent, dwagent.service) running",
     "signatures/remote_tools/dw-service.json (Linux identities)", dwservice_linux()),
    ("mac_hoptodesk_launchd_jobs_only", M, SUSPICIOUS,
     "HopToDesk's launchd daemon and agent (com.hoptodesk.HopToDesk_service/_server) without the app bundle",
     "signatures/remote_tools/hoptodesk.json (Homebrew cask hoptodesk.rb: launchd jobs and their plists)",
     hoptodesk_macos_jobs()),
    ("linux_screenconnect_client_unit", L, SUSPICIOUS,
     "The ScreenConnect client's unit connectwisecontrol-<instance id>.service from its init script",
     "signatures/remote_tools/connectwise-screenconnect.json (the .deb's /etc/init.d/connectwisecontrol-<id>)",
     screenconnect_linux()),
    ("linux_cloudflared_publishing_sshd", L, SUSPICIOUS,
     "cloudflared running beside the laptop's own OpenSSH server, nobody logged in",
     "docs/detection.md §T6 (cloudflared tunnel run --token); §S6 tunnel-exposes-remote-access",
     cloudflared_and_sshd_linux()),
    ("win_zerotier_with_rdp_on", W, SUSPICIOUS,
     "ZeroTier joined to a network with Remote Desktop switched on, nobody connected",
     "docs/detection.md R4; §S6 (a mesh VPN beside the remote desktop)", zerotier_and_rdp_windows()),
    ("linux_tailscale_exit_node", L, SUSPICIOUS,
     "Tailscale advertising an exit node: IP forwarding on, no container or VM bridge to explain it",
     "docs/detection.md V6; §S6 (a mesh VPN routing for others)", tailscale_exit_node_linux()),
    ("linux_syncthing_internet_peers", L, CLEAN,
     "Syncthing with two devices on the internet connected in on 22000",
     "docs.syncthing.net firewall page (peers connect in on 22000); network.json peer_to_peer", syncthing_linux()),
    ("win_steam_and_syncthing", W, CLEAN,
     "Steam idle (its LAN listener on 27036) and Syncthing with an internet peer",
     "network.json peer_to_peer (Syncthing); docs/detection.md §S6 look-alikes", steam_and_syncthing_windows()),
    ("linux_dev_server_through_corporate_vpn", L, CLEAN,
     "A developer's Vite server on all interfaces reached by a colleague over the corporate VPN (10.8/16)",
     "docs/detection.md §S6 (private peers are not the internet)", dev_server_through_corporate_vpn_linux()),
    ("mac_moonlight_client_outbound", M, CLEAN,
     "Moonlight, the viewer, streaming from the user's own gaming PC: outbound connections only",
     "docs/detection.md §T5 (the laptop drives something else); §S6 inbound only", moonlight_client_macos()),
    ("linux_tailscale_and_sshd_developer", L, CLEAN,
     "A developer's laptop with Tailscale and OpenSSH on, nobody logged in",
     "docs/detection.md §T5 developers; §S6 (a mesh VPN's SSH is left out)", tailscale_and_sshd_linux()),
]
