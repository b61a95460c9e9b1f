"""Remote-control tools, tunnels, VPNs and OS remote-access features as laptop deltas.

Process names, paths, services, bundle ids and ports are those in the signature catalogue
and docs/detection.md §T. Each function returns what the tool leaves on a laptop in a given state:
installed only, running idle, or carrying a live inbound session from `CONTROLLER`.
"""

from __future__ import annotations

from parts import App, Conn, Delta, Listen, Login, NetIface, Proc

SYSTEM = "NT AUTHORITY\\SYSTEM"
# The far end of a remote session: a VPN exit and a rented VPS, both on public hosting ranges.
CONTROLLER = "91.245.227.16"
VPS = "139.59.141.20"


# --- AnyDesk ----------------------------------------------------------------------------------

def anydesk_windows(running: bool = True, session: bool = False) -> Delta:
    exe = "C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe"
    installed = Delta(applications=(
        App("AnyDesk", "ad 8.1.0", "C:\\Program Files (x86)\\AnyDesk", publisher="AnyDesk Software GmbH",
            source="registry"),
        App("AnyDesk Service", "8.1.0", exe, source="service")))
    if not running:
        return installed
    idle = Delta(
        processes=(Proc(exe, ("--service",), user=SYSTEM, parent="services.exe", key="AnyDesk.exe", started=12,
                        signer="AnyDesk Software GmbH"),
                   Proc(exe, ("--control",), parent="explorer.exe", key="AnyDesk.exe#tray", started=101,
                        signer="AnyDesk Software GmbH")),
        listeners=(Listen("0.0.0.0", 7070, "AnyDesk.exe"),),
        connections=(Conn("{lan_ip}", 50712, "195.181.174.170", 443, "AnyDesk.exe"),))
    if not session:
        return installed + idle
    return installed + idle + Delta(
        processes=(Proc(exe, ("--backend",), user=SYSTEM, parent="AnyDesk.exe", key="AnyDesk.exe#backend",
                        signer="AnyDesk Software GmbH"),),
        connections=(Conn("{lan_ip}", 7070, CONTROLLER, 61544, "AnyDesk.exe#backend"),))


def anydesk_portable_windows(session: bool = True, file_name: str = "AnyDesk.exe") -> Delta:
    """AnyDesk run from Downloads without installing (no service), as CISA notes portable RMM binaries run;
    saved under whatever `file_name` the browser or the user gave it."""
    exe = "{home}\\Downloads\\" + file_name
    delta = Delta(
        processes=(Proc(exe, parent="explorer.exe", key="AnyDesk.exe", signer="AnyDesk Software GmbH"),
                   Proc(exe, ("--local-service",), parent="AnyDesk.exe", key="AnyDesk.exe#service",
                        signer="AnyDesk Software GmbH"),
                   Proc(exe, ("--local-control",), parent="AnyDesk.exe", key="AnyDesk.exe#control",
                        signer="AnyDesk Software GmbH")),
        listeners=(Listen("0.0.0.0", 7070, "AnyDesk.exe#service"),),
        connections=(Conn("{lan_ip}", 50712, "195.181.174.170", 443, "AnyDesk.exe#service"),))
    if session:
        delta += Delta(connections=(Conn("{lan_ip}", 7070, CONTROLLER, 61544, "AnyDesk.exe#service"),))
    return delta


def anydesk_unix(os: str, session: bool = False) -> Delta:
    if os == "linux":
        exe, service_args, tray_args, bundle = "/usr/bin/anydesk", ("--service",), ("--tray",), ""
        apps = (App("anydesk", "6.3.3", source="dpkg"),
                App("anydesk.service", path="/usr/lib/systemd/system/anydesk.service", source="systemd"))
    else:
        exe, service_args, tray_args, bundle = ("/Applications/AnyDesk.app/Contents/MacOS/AnyDesk", ("--service",),
                                                ("--tray",), "com.philandro.anydesk")
        apps = (App("AnyDesk", "8.1.2", "/Applications/AnyDesk.app", bundle, signer="KHRWM533LU", source="app_bundle"),
                App("com.philandro.anydesk.service", path="/Library/LaunchDaemons/com.philandro.anydesk.service.plist",
                    bundle_id="com.philandro.anydesk.service", source="launchd"))
    parent = "systemd" if os == "linux" else "launchd"
    user_parent = "systemd#user" if os == "linux" else "launchd"
    delta = Delta(
        applications=apps,
        processes=(Proc(exe, service_args, user="root", parent=parent, key="anydesk", started=5, bundle_id=bundle),
                   Proc(exe, tray_args, parent=user_parent, key="anydesk#tray", started=110, bundle_id=bundle)),
        listeners=(Listen("0.0.0.0", 7070, "anydesk"),),
        connections=(Conn("{lan_ip}", 42110, "195.181.174.170", 443, "anydesk"),))
    if session:
        delta += Delta(
            processes=(Proc(exe, ("--backend",), user="root", parent="anydesk", key="anydesk#backend",
                            bundle_id=bundle),),
            connections=(Conn("{lan_ip}", 7070, CONTROLLER, 61544, "anydesk#backend"),))
    return delta


def meshcentral_agent_linux() -> Delta:
    """A MeshCentral agent installed by its script into /usr/local/mesh_services, connected to its server."""
    folder = "/usr/local/mesh_services/meshagent/"
    return Delta(
        applications=(App("meshagent.service", path="/lib/systemd/system/meshagent.service", source="systemd"),),
        processes=(Proc(folder + "meshagent", ("--installedByUser=0",), user="root", parent="systemd", started=5),),
        connections=(Conn("{lan_ip}", 43322, VPS, 443, "meshagent"),))


# --- TeamViewer -------------------------------------------------------------------------------

def teamviewer_windows(running: bool = True, session: bool = False, folder: str = "C:\\Program Files\\TeamViewer",
                       product: str = "TeamViewer") -> Delta:
    installed = Delta(applications=(
        App(product, "15.59.5", folder, publisher="TeamViewer", source="registry"),
        App("TeamViewer", "15.59.5", folder + "\\TeamViewer_Service.exe", source="service")))
    if not running:
        return installed
    signer = "TeamViewer Germany GmbH"
    delta = installed + Delta(
        processes=(Proc(folder + "\\TeamViewer_Service.exe", user=SYSTEM, parent="services.exe", started=12,
                        signer=signer),
                   Proc(folder + "\\TeamViewer.exe", parent="explorer.exe", started=102, signer=signer)),
        listeners=(Listen("127.0.0.1", 5939, "TeamViewer_Service.exe"),),
        connections=(Conn("{lan_ip}", 50931, "37.252.245.107", 5938, "TeamViewer_Service.exe"),))
    if session:
        delta += Delta(processes=(Proc(folder + "\\TeamViewer_Desktop.exe", ("--IPCport", "5939", "--Module", "1"),
                                       parent="TeamViewer_Service.exe", signer=signer),))
    return delta


def teamviewer_linux() -> Delta:
    return Delta(
        applications=(App("teamviewer", "15.59.3", source="dpkg"),
                      App("teamviewerd.service", path="/etc/systemd/system/teamviewerd.service", source="systemd")),
        processes=(Proc("/opt/teamviewer/tv_bin/teamviewerd", ("-d",), user="root", parent="systemd", started=5),
                   Proc("/opt/teamviewer/tv_bin/TeamViewer", parent="systemd#user", started=120)),
        listeners=(Listen("127.0.0.1", 5939, "teamviewerd"),),
        connections=(Conn("{lan_ip}", 40522, "37.252.245.107", 5938, "teamviewerd"),))


def teamviewer_macos(app: str = "TeamViewer", bundle: str = "com.teamviewer.TeamViewer") -> Delta:
    root = f"/Applications/{app}.app"
    return Delta(
        applications=(App(app, "15.59.5", root, bundle, signer="H7UGFBUGV6", source="app_bundle"),
                      App("com.teamviewer.teamviewer_service",
                          path="/Library/LaunchDaemons/com.teamviewer.teamviewer_service.plist",
                          bundle_id="com.teamviewer.teamviewer_service", source="launchd")),
        processes=(Proc(root + "/Contents/MacOS/TeamViewer_Service", user="root", parent="launchd", started=6,
                        bundle_id=bundle),
                   Proc(root + f"/Contents/MacOS/{app.replace(' ', '')}", parent="launchd", started=130,
                        bundle_id=bundle)),
        listeners=(Listen("127.0.0.1", 5939, "TeamViewer_Service"),),
        connections=(Conn("{lan_ip}", 52100, "37.252.245.107", 5938, "TeamViewer_Service"),))


# --- Other remote-desktop tools (Windows unless named) -----------------------------------------

def chrome_remote_desktop_windows() -> Delta:
    folder = "C:\\Program Files (x86)\\Google\\Chrome Remote Desktop\\131.0.6778.5\\"
    return Delta(
        applications=(App("Chrome Remote Desktop Host", "131.0.6778.5", folder[:-1], publisher="Google LLC",
                          source="registry"),
                      App("Chrome Remote Desktop Service", path=folder + "remoting_host.exe", source="service")),
        processes=(Proc(folder + "remoting_host.exe", ("--type=daemon",), user=SYSTEM, parent="services.exe",
                        started=12, signer="Google LLC"),
                   Proc(folder + "remoting_host.exe", ("--type=host",), user=SYSTEM, parent="remoting_host.exe",
                        key="remoting_host.exe#host", started=14, signer="Google LLC")),
        connections=(Conn("{lan_ip}", 51188, "142.250.72.106", 443, "remoting_host.exe#host"),))


def chrome_remote_desktop_linux() -> Delta:
    base = "/opt/google/chrome-remote-desktop/"
    return Delta(
        applications=(App("chrome-remote-desktop", "131.0.6778.5", source="dpkg"),
                      App("chrome-remote-desktop@dkowalski.service",
                          path="/usr/lib/systemd/system/chrome-remote-desktop@.service", source="systemd")),
        processes=(Proc("/usr/bin/python3", (base + "chrome-remote-desktop", "--start", "--new-session"),
                        parent="systemd", key="crd-launcher", started=40),
                   Proc(base + "chrome-remote-desktop-host",
                        ("--host-config=-",
                         "--audio-pipe-name={home}/.config/chrome-remote-desktop/pulseaudio#3f8c1a2b/fifo_output",
                         "--ssh-auth-sockname=/tmp/chromoting.{user}.ssh_auth_sock"),
                        parent="crd-launcher", started=42),
                   Proc("/usr/bin/Xvfb", (":20", "-auth", "/home/dkowalski/.Xauthority", "-nolisten", "tcp", "-noreset",
                                          "-screen", "0", "3840x2560x24"), parent="crd-launcher", started=41)),
        connections=(Conn("{lan_ip}", 49210, "142.250.72.106", 443, "chrome-remote-desktop-host"),))


def chrome_remote_desktop_macos() -> Delta:
    helpers = "/Library/PrivilegedHelperTools/"
    host_app = helpers + "org.chromium.chromoting.me2me_host.app"
    return Delta(
        applications=(App("org.chromium.chromoting", path="/Library/LaunchAgents/org.chromium.chromoting.plist",
                          bundle_id="org.chromium.chromoting", source="launchd"),
                      App("Chrome Remote Desktop Host Uninstaller", "131.0.6778.5",
                          "/Applications/Chrome Remote Desktop Host Uninstaller.app",
                          "com.google.chromeremotedesktop.host_uninstaller", signer="EQHXZ8M8AV", source="app_bundle")),
        processes=(Proc("/bin/sh", (helpers + "org.chromium.chromoting.me2me.sh", "--run-from-launchd"),
                        parent="launchd", key="chromoting.me2me.sh", started=100),
                   Proc(host_app + "/Contents/MacOS/remoting_me2me_host",
                        ("--host-config=" + helpers + "org.chromium.chromoting.json",), parent="chromoting.me2me.sh",
                        started=101, bundle_id="com.google.Chrome.Remote.Desktop.me2me_host")),
        connections=(Conn("{lan_ip}", 52410, "142.250.72.106", 443, "remoting_me2me_host"),))


def rustdesk_windows(session: bool = False) -> Delta:
    exe = "C:\\Program Files\\RustDesk\\rustdesk.exe"
    delta = Delta(
        applications=(App("RustDesk", "1.3.2", "C:\\Program Files\\RustDesk", publisher="RustDesk", source="registry"),
                      App("RustDesk", path=exe, source="service")),
        processes=(Proc(exe, ("--service",), user=SYSTEM, parent="services.exe", key="rustdesk.exe", started=12),
                   Proc(exe, ("--server",), user=SYSTEM, parent="rustdesk.exe", key="rustdesk.exe#server", started=100),
                   Proc(exe, ("--tray",), parent="explorer.exe", key="rustdesk.exe#tray", started=102)),
        listeners=(Listen("0.0.0.0", 21118, "rustdesk.exe#server"), Listen("0.0.0.0", 21119, "rustdesk.exe#server")),
        connections=(Conn("{lan_ip}", 50311, "209.250.254.15", 21116, "rustdesk.exe#server"),))
    if session:
        delta += Delta(connections=(Conn("{lan_ip}", 21118, CONTROLLER, 58231, "rustdesk.exe#server"),))
    return delta


def rustdesk_linux() -> Delta:
    return Delta(
        applications=(App("rustdesk", "1.3.2", source="dpkg"),
                      App("rustdesk.service", path="/usr/lib/systemd/system/rustdesk.service", source="systemd")),
        processes=(Proc("/usr/bin/rustdesk", ("--service",), user="root", parent="systemd", key="rustdesk", started=5),
                   Proc("/usr/bin/rustdesk", ("--server",), user="root", parent="rustdesk", key="rustdesk#server",
                        started=95),
                   Proc("/usr/bin/rustdesk", ("--tray",), parent="systemd#user", key="rustdesk#tray", started=120)),
        connections=(Conn("{lan_ip}", 39122, "209.250.254.15", 21116, "rustdesk#server"),))


def rustdesk_macos_jobs() -> Delta:
    """RustDesk's launchd daemon and agent, as `--service` and `--server` register them."""
    return Delta(
        applications=(App("com.carriez.RustDesk_service",
                          path="/Library/LaunchDaemons/com.carriez.RustDesk_service.plist",
                          bundle_id="com.carriez.RustDesk_service", source="launchd"),
                      App("com.carriez.RustDesk_server", path="/Library/LaunchAgents/com.carriez.RustDesk_server.plist",
                          bundle_id="com.carriez.RustDesk_server", source="launchd")))


def rustdesk_macos() -> Delta:
    exe = "/Applications/RustDesk.app/Contents/MacOS/RustDesk"
    bundle = "com.carriez.rustdesk"
    return Delta(
        applications=(App("RustDesk", "1.3.2", "/Applications/RustDesk.app", bundle, signer="HZF9JMC8YN",
                          source="app_bundle"),) + rustdesk_macos_jobs().applications,
        processes=(Proc(exe, ("--service",), user="root", parent="launchd", key="RustDesk", started=6,
                        bundle_id=bundle),
                   Proc(exe, ("--server",), parent="launchd", key="RustDesk#server", started=100, bundle_id=bundle),
                   Proc(exe, ("--tray",), parent="launchd", key="RustDesk#tray", started=101, bundle_id=bundle)),
        connections=(Conn("{lan_ip}", 52330, "209.250.254.15", 21116, "RustDesk#server"),))



def todesk_service_windows() -> Delta:
    """ToDesk installed as a Windows service only (the service's own key name is not in the research)."""
    return Delta(applications=(App("ToDesk_Service", path="C:\\Program Files\\ToDesk\\ToDesk_Service.exe",
                                   source="service"),))


def nomachine_macos() -> Delta:
    """NoMachine's server on a Mac: nxd and nxserver run from inside the app bundle, nxd listens on 4000."""
    app = "/Applications/NoMachine.app"
    bin_dir = app + "/Contents/Frameworks/bin/"
    return Delta(
        applications=(App("NoMachine", "8.14.2", app, "com.nomachine.nomachine", signer="493C5JZAGR",
                          source="app_bundle"),
                      App("com.nomachine.server", path="/Library/LaunchDaemons/com.nomachine.server.plist",
                          bundle_id="com.nomachine.server", source="launchd")),
        processes=(Proc(bin_dir + "nxd", user="root", parent="launchd", key="nxd", started=20),
                   Proc(bin_dir + "nxserver.bin", ("--daemon",), user="nx", parent="launchd", started=21)),
        listeners=(Listen("0.0.0.0", 4000, "nxd"),))

def splashtop_windows() -> Delta:
    folder = "C:\\Program Files (x86)\\Splashtop\\Splashtop Remote\\Server\\"
    signer = "Splashtop Inc."
    return Delta(
        applications=(App("Splashtop Streamer", "3.7.2.0", folder[:-1], publisher="Splashtop Inc.", source="registry"),
                      App("SplashtopRemoteService", path=folder + "SRService.exe", source="service")),
        processes=(Proc(folder + "SRService.exe", user=SYSTEM, parent="services.exe", started=12, signer=signer),
                   Proc(folder + "SRServer.exe", user=SYSTEM, parent="SRService.exe", started=15, signer=signer),
                   Proc(folder + "SRAgent.exe", parent="SRServer.exe", started=100, signer=signer),
                   Proc(folder + "SRManager.exe", parent="explorer.exe", started=104, signer=signer)),
        connections=(Conn("{lan_ip}", 50420, "54.200.88.129", 443, "SRServer.exe"),))


def splashtop_macos() -> Delta:
    app = "/Applications/Splashtop Streamer.app"
    bundle = "com.splashtop.Splashtop-Streamer"
    return Delta(
        applications=(App("Splashtop Streamer", "3.7.2.0", app, bundle, signer="CPQQ3AW49Y", source="app_bundle"),
                      App("com.splashtop.streamer-daemon",
                          path="/Library/LaunchDaemons/com.splashtop.streamer-daemon.plist",
                          bundle_id="com.splashtop.streamer-daemon", source="launchd")),
        processes=(Proc(app + "/Contents/MacOS/Splashtop Streamer", ("-daemon",), user="root", parent="launchd",
                        key="Splashtop Streamer#daemon", started=6, bundle_id=bundle),
                   Proc(app + "/Contents/MacOS/Splashtop Streamer", parent="launchd", started=130, bundle_id=bundle)),
        connections=(Conn("{lan_ip}", 52290, "54.200.88.129", 443, "Splashtop Streamer#daemon"),))


def screenconnect_windows(session: bool = False) -> Delta:
    folder = "C:\\Program Files (x86)\\ScreenConnect Client (8f3b2c1d9e4a7f60)\\"
    service_args = ("?e=Access&y=Guest&h=instance-k3j9xq-relay.screenconnect.com&p=443&s=6a1f0c9e-3b72-4d15-8e0a-"
                    "2c5d9b7e41f3&k=BgIAAACkAABSU0ExAAgAAAEAAQ",)
    delta = Delta(
        applications=(App("ScreenConnect Client (8f3b2c1d9e4a7f60)", "24.3.7.9067", folder[:-1],
                          publisher="ScreenConnect Software", source="registry"),
                      App("ScreenConnect Client (8f3b2c1d9e4a7f60)", path=folder + "ScreenConnect.ClientService.exe",
                          source="service")),
        processes=(Proc(folder + "ScreenConnect.ClientService.exe", service_args, user=SYSTEM, parent="services.exe",
                        started=12, signer="ConnectWise, LLC"),),
        connections=(Conn("{lan_ip}", 50602, "147.75.62.34", 443, "ScreenConnect.ClientService.exe"),))
    if session:
        delta += Delta(processes=(Proc(folder + "ScreenConnect.WindowsClient.exe", ("RunRole", "0f2c4b1e-9d3a",
                                                                                   "Interactive"),
                                       parent="ScreenConnect.ClientService.exe", signer="ConnectWise, LLC"),),
                       connections=(Conn("{lan_ip}", 50688, "147.75.62.34", 443, "ScreenConnect.WindowsClient.exe"),))
    return delta


def tightvnc_windows(session: bool = False) -> Delta:
    exe = "C:\\Program Files\\TightVNC\\tvnserver.exe"
    delta = Delta(
        applications=(App("TightVNC", "2.8.81", "C:\\Program Files\\TightVNC", publisher="GlavSoft LLC.",
                          source="registry"),
                      App("tvnserver", path=exe, source="service")),
        processes=(Proc(exe, ("-service",), user=SYSTEM, parent="services.exe", key="tvnserver.exe", started=12),
                   Proc(exe, ("-controlservice", "-slave"), parent="explorer.exe", key="tvnserver.exe#tray",
                        started=105)),
        listeners=(Listen("0.0.0.0", 5900, "tvnserver.exe"), Listen("0.0.0.0", 5800, "tvnserver.exe")))
    if session:
        delta += Delta(connections=(Conn("{lan_ip}", 5900, CONTROLLER, 60218, "tvnserver.exe"),))
    return delta


def realvnc_server_windows() -> Delta:
    folder = "C:\\Program Files\\RealVNC\\VNC Server\\"
    return Delta(
        applications=(App("VNC Server 7.12.1", "7.12.1", folder[:-1], publisher="RealVNC Ltd", source="registry"),
                      App("vncserver", path=folder + "vncserver.exe", source="service")),
        processes=(Proc(folder + "vncserver.exe", ("-service",), user=SYSTEM, parent="services.exe", started=12,
                        signer="RealVNC Limited"),
                   Proc(folder + "vncserverui.exe", ("service", "4"), parent="explorer.exe", started=106,
                        signer="RealVNC Limited")),
        listeners=(Listen("0.0.0.0", 5900, "vncserver.exe"),))


def rdp_client_windows() -> Delta:
    """The laptop drives a server over RDP: the controlling side, not the controlled one."""
    return Delta(
        processes=(Proc("C:\\Windows\\System32\\mstsc.exe", ("{home}\\Documents\\build-server.rdp",),
                        parent="explorer.exe"),),
        connections=(Conn("100.64.1.7", 53388, "10.40.12.8", 3389, "mstsc.exe"),))


def jump_desktop_viewer_macos() -> Delta:
    """The Jump Desktop app, the viewer, connected out to a lab Mac: Jump Desktop Connect, the host, is absent."""
    app = "/Applications/Jump Desktop.app"
    return Delta(
        applications=(App("Jump Desktop", "9.1.7", app, "com.p5sys.jump.mac.viewer.web", signer="2HCKV38EEC",
                          source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/Jump Desktop", parent="launchd", signer="2HCKV38EEC",
                        bundle_id="com.p5sys.jump.mac.viewer.web"),),
        connections=(Conn("100.64.1.9", 61180, "10.40.12.9", 5900, "Jump Desktop"),))


def screen_sharing_client_macos() -> Delta:
    """The Mac's own Screen Sharing viewer, open on a lab Mac: this laptop is the one in control."""
    app = "/System/Library/CoreServices/Applications/Screen Sharing.app"
    return Delta(
        processes=(Proc(app + "/Contents/MacOS/Screen Sharing", parent="launchd",
                        bundle_id="com.apple.ScreenSharing"),),
        connections=(Conn("100.64.1.9", 61022, "10.40.12.9", 5900, "Screen Sharing"),))


def remmina_client_linux() -> Delta:
    """Remmina viewing a lab machine over VNC: an outbound client session."""
    return Delta(
        applications=(App("remmina", "1.4.35+dfsg-0ubuntu5", source="dpkg"),
                      App("remmina-plugin-vnc", "1.4.35+dfsg-0ubuntu5", source="dpkg"),
                      App("Remmina", path="/usr/share/applications/org.remmina.Remmina.desktop", source="desktop")),
        processes=(Proc("/usr/bin/remmina", parent="systemd#user"),),
        connections=(Conn("{lan_ip}", 40112, "10.40.12.9", 5900, "remmina"),))


def mouse_jiggler_windows() -> Delta:
    return Delta(processes=(Proc("{home}\\Downloads\\MouseJiggle.exe", ("-j", "-m"), parent="explorer.exe"),))


# --- OS remote-access features --------------------------------------------------------------

def rdp_enabled_windows() -> Delta:
    """Remote Desktop switched on: TermService in its own svchost, listening on 3389."""
    return Delta(
        remote_access=(("rdp", True),),
        processes=(Proc("C:\\Windows\\System32\\svchost.exe", ("-k", "NetworkService", "-s", "TermService"),
                        user="NT AUTHORITY\\NETWORK SERVICE", parent="services.exe", key="svchost.exe#TermService",
                        started=12, argv0="C:\\WINDOWS\\System32\\svchost.exe"),),
        listeners=(Listen("0.0.0.0", 3389, "svchost.exe#TermService"),
                   Listen("0.0.0.0", 3389, "svchost.exe#TermService", "udp")))


def rdp_session_windows() -> Delta:
    """An RDP user on the laptop as the session table shows it: rdpclip and an `RDP-Tcp#0` session."""
    return rdp_enabled_windows() + Delta(
        processes=(Proc("C:\\Windows\\System32\\rdpclip.exe", parent="svchost.exe#TermService"),),
        # the remote user takes over the console session, as RDP does on a workstation
        sessions=(Login("{account}", "RDP-Tcp#0", CONTROLLER),), ended_sessions=("console",))


def rdp_inbound_windows() -> Delta:
    return rdp_session_windows() + Delta(
        connections=(Conn("{lan_ip}", 3389, CONTROLLER, 50944, "svchost.exe#TermService"),))


def rdp_session_network_probe_failed_windows() -> Delta:
    """The same session when the agent could not read the socket table: only the session shows it."""
    return rdp_session_windows() + Delta(failed_probes=(("network", "GetExtendedTcpTable: timed out after 5 s"),))


def xrdp_session_linux() -> Delta:
    return Delta(
        remote_access=(("xrdp", True),),
        applications=(App("xrdp", "0.9.24-4", source="dpkg"),
                      App("xrdp.service", path="/usr/lib/systemd/system/xrdp.service", source="systemd")),
        processes=(Proc("/usr/sbin/xrdp-sesman", user="root", parent="systemd", started=4),
                   Proc("/usr/sbin/xrdp", user="xrdp", parent="systemd", started=4),
                   Proc("/usr/sbin/xrdp", user="xrdp", parent="xrdp", key="xrdp#session"),
                   Proc("/usr/lib/xorg/Xorg", (":10", "-auth", ".Xauthority", "-config", "xrdp/xorg.conf", "-noreset",
                                               "-nolisten", "tcp", "-logfile", ".xorgxrdp.%s.log"),
                        parent="xrdp-sesman"),
                   Proc("/usr/sbin/xrdp-chansrv", parent="xrdp-sesman")),
        listeners=(Listen("::", 3389, "xrdp"), Listen("127.0.0.1", 3350, "xrdp-sesman")),
        connections=(Conn("::ffff:{lan_ip}", 3389, "::ffff:" + CONTROLLER, 51230, "xrdp#session"),),
        sessions=(Login("{account}", ":10", CONTROLLER),))


def x11vnc_session_linux() -> Delta:
    return Delta(
        applications=(App("x11vnc", "0.9.16-10", source="dpkg"),),
        processes=(Proc("/usr/bin/x11vnc", ("-display", ":0", "-auth", "guess", "-forever", "-shared", "-rfbport",
                                            "5900",
                                            "-rfbauth", "/home/dkowalski/.vnc/passwd"), parent="systemd#user"),),
        listeners=(Listen("0.0.0.0", 5900, "x11vnc"), Listen("::", 5900, "x11vnc")),
        connections=(Conn("{lan_ip}", 5900, CONTROLLER, 60421, "x11vnc"),))


def gnome_remote_desktop_session_linux() -> Delta:
    return Delta(
        remote_access=(("gnome-remote-desktop", True),),
        processes=(Proc("/usr/libexec/gnome-remote-desktop-daemon", parent="systemd#user", started=95),),
        listeners=(Listen("::", 3389, "gnome-remote-desktop-daemon"),),
        connections=(Conn("::ffff:{lan_ip}", 3389, "::ffff:" + CONTROLLER, 52113, "gnome-remote-desktop-daemon"),))


def screen_sharing_macos(session: bool = True) -> Delta:
    remote = "/System/Library/CoreServices/RemoteManagement/"
    delta = Delta(
        remote_access=(("screen_sharing", True),),
        listeners=(Listen("0.0.0.0", 5900, "launchd"), Listen("::", 5900, "launchd")))
    if session:
        delta += Delta(
            processes=(Proc(remote + "screensharingd.bundle/Contents/MacOS/screensharingd", user="root",
                            parent="launchd",
                            bundle_id="com.apple.screensharing.server"),
                       Proc(remote + "ScreensharingAgent.bundle/Contents/MacOS/ScreensharingAgent", parent="launchd",
                            bundle_id="com.apple.screensharing.agent")),
            connections=(Conn("{lan_ip}", 5900, CONTROLLER, 55012, "screensharingd"),))
    return delta


def ssh_server(os: str, peer: str) -> Delta:
    """Remote Login / OpenSSH server with one interactive session from `peer`."""
    parent = "launchd" if os == "macos" else "systemd"
    listener_owner = "launchd" if os == "macos" else "sshd"
    apps = () if os == "macos" else (App("openssh-server", "1:9.6p1-3ubuntu13.5", source="dpkg"),)
    procs = () if os == "macos" else (Proc("/usr/sbin/sshd", ("-D",), user="root", parent=parent, started=4,
                                           argv0="sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"),)
    return Delta(
        applications=apps,
        remote_access=(("remote_login" if os == "macos" else "sshd", True),),
        processes=procs + (
            Proc("/usr/sbin/sshd", user="root", parent=listener_owner, key="sshd#session",
                 argv0="sshd: {user} [priv]"),
            Proc("/usr/sbin/sshd", parent="sshd#session", key="sshd#user", argv0="sshd: {user}@pts/1"),
            Proc("/bin/zsh" if os == "macos" else "/usr/bin/bash", parent="sshd#user", key="shell#ssh")),
        listeners=(Listen("0.0.0.0", 22, listener_owner), Listen("::", 22, listener_owner)),
        connections=(Conn("{lan_ip}", 22, peer, 53218, "sshd#session"),),
        sessions=(Login("{account}", "pts/1" if os == "linux" else "ttys001", peer),))


# --- Tunnels, proxies, VPNs, sharing ----------------------------------------------------------

def ngrok_rdp_windows() -> Delta:
    exe = "{home}\\Downloads\\ngrok-v3-stable-windows-amd64\\ngrok.exe"
    return rdp_enabled_windows() + Delta(
        processes=(Proc(exe, ("tcp", "3389"), parent="explorer.exe", signer="ngrok LLC"),),
        listeners=(Listen("127.0.0.1", 4040, "ngrok.exe"),),
        connections=(Conn("{lan_ip}", 51502, "3.134.125.175", 443, "ngrok.exe"),))


def ngrok_rdp_session_windows() -> Delta:
    """Someone came in through `ngrok tcp 3389`: ngrok holds a loopback connection into TermService's port and
    the session table shows an RDP session whose client is loopback."""
    return ngrok_rdp_windows() + Delta(
        processes=(Proc("C:\\Windows\\System32\\rdpclip.exe", parent="svchost.exe#TermService"),),
        connections=(Conn("127.0.0.1", 51544, "127.0.0.1", 3389, "ngrok.exe"),
                     Conn("127.0.0.1", 3389, "127.0.0.1", 51544, "svchost.exe#TermService")),
        sessions=(Login("{account}", "RDP-Tcp#0", "127.0.0.1"),), ended_sessions=("console",))


def cloudflared_windows() -> Delta:
    exe = "C:\\Program Files (x86)\\cloudflared\\cloudflared.exe"
    return Delta(
        applications=(App("cloudflared", "2024.11.1", "C:\\Program Files (x86)\\cloudflared",
                          publisher="Cloudflare, Inc.",
                          source="registry"),
                      App("Cloudflared", path=exe, source="service")),
        processes=(Proc(exe, ("tunnel", "run", "--token", "eyJhIjoiNWFiNGU5Z"), user=SYSTEM, parent="services.exe",
                        started=12, signer="Cloudflare, Inc."),),
        listeners=(Listen("127.0.0.1", 20241, "cloudflared.exe"),),
        connections=(Conn("{lan_ip}", 51610, "198.41.192.67", 7844, "cloudflared.exe"),
                     Conn("{lan_ip}", 51611, "198.41.200.73", 7844, "cloudflared.exe")))


def frpc_linux() -> Delta:
    folder = "{home}/tools/frp_0.61.0_linux_amd64/"
    return Delta(
        processes=(Proc(folder + "frpc", ("-c", folder + "frpc.toml"), parent="systemd#user"),),
        connections=(Conn("{lan_ip}", 45872, VPS, 7000, "frpc"),))


def ssh_reverse_tunnel_linux() -> Delta:
    """`ssh -R` publishing the laptop's VNC port on a VPS: a tunnel built from a plain ssh client."""
    return Delta(
        processes=(Proc("/usr/bin/ssh", ("-N", "-o", "ServerAliveInterval=30", "-R", "0.0.0.0:15900:localhost:5900",
                                         f"tunnel@{VPS}"), parent="systemd#user"),),
        connections=(Conn("{lan_ip}", 44870, VPS, 22, "ssh"),))


def plink_reverse_rdp_windows() -> Delta:
    """PuTTY's plink publishing the laptop's RDP port on a VPS (`-R`), the Windows form of `ssh -R`."""
    exe = "C:\\Program Files\\PuTTY\\plink.exe"
    return rdp_enabled_windows() + Delta(
        applications=(App("PuTTY release 0.81 (64-bit)", "0.81.0.0", "C:\\Program Files\\PuTTY\\",
                          publisher="Simon Tatham", source="registry"),),
        processes=(Proc(exe, ("-ssh", "-batch", "-N", "-R", "0.0.0.0:13389:127.0.0.1:3389", f"tunnel@{VPS}"),
                        parent="explorer.exe", signer="Simon Tatham"),),
        connections=(Conn("{lan_ip}", 51733, VPS, 22, "plink.exe"),))


def ssh_joined_remote_forward_macos() -> Delta:
    """`ssh -oRemoteForward=...`: the option joined to `-o`, publishing the Mac's own SSH port on a VPS."""
    return Delta(
        processes=(Proc("/usr/bin/ssh", ("-N", "-oServerAliveInterval=30", "-oRemoteForward=2222 localhost:22",
                                         f"tunnel@{VPS}"), parent="launchd"),),
        connections=(Conn("{lan_ip}", 60412, VPS, 22, "ssh"),))


def tailscale_socks_linux() -> Delta:
    return Delta(
        applications=(App("tailscale", "1.76.6", source="dpkg"),
                      App("tailscaled.service", path="/usr/lib/systemd/system/tailscaled.service", source="systemd")),
        processes=(Proc("/usr/sbin/tailscaled", ("--state=/var/lib/tailscale/tailscaled.state",
                                                 "--socket=/run/tailscale/tailscaled.sock", "--port=41641",
                                                 "--socks5-server=0.0.0.0:1055"), user="root", parent="systemd",
                        started=4),),
        interfaces=(NetIface("tailscale0", "", ("100.101.7.42", "fd7a:115c:a1e0::1f01:72a"), kind="tunnel"),),
        listeners=(Listen("0.0.0.0", 1055, "tailscaled"), Listen("0.0.0.0", 41641, "tailscaled", "udp")),
        connections=(Conn("{lan_ip}", 51022, "192.200.0.102", 443, "tailscaled"),))


def chisel_linux() -> Delta:
    return Delta(
        processes=(Proc("/usr/local/bin/chisel", ("client", "--auth", "u:p", f"https://{VPS}:443", "R:socks"),
                        parent="systemd#user"),),
        connections=(Conn("{lan_ip}", 47310, VPS, 443, "chisel"),))


def dante_socks_linux() -> Delta:
    return Delta(
        applications=(App("dante-server", "1.4.3+dfsg-1", source="dpkg"),
                      App("danted.service", path="/usr/lib/systemd/system/danted.service", source="systemd")),
        processes=(Proc("/usr/sbin/danted", ("-f", "/etc/danted.conf"), user="root", parent="systemd", started=5),),
        listeners=(Listen("0.0.0.0", 1080, "danted"),),
        connections=(Conn("{lan_ip}", 1080, CONTROLLER, 49812, "danted"),))


def astrill_linux() -> Delta:
    folder = "/usr/local/Astrill/"
    return Delta(
        applications=(App("astrill", "3.10.0.2812", source="dpkg"),),
        processes=(Proc(folder + "astrill", ("/autostart",), parent="systemd#user", started=120),
                   Proc(folder + "asovpnc", user="root", parent="astrill", started=125),
                   Proc(folder + "asproxy", user="root", parent="astrill", started=125)),
        interfaces=(NetIface("tun0", "", ("10.8.14.22",), kind="tunnel"),),
        connections=(Conn("{lan_ip}", 50112, "104.254.90.18", 443, "asovpnc"),))


def astrill_macos() -> Delta:
    app = "/Applications/Astrill.app"
    return Delta(
        applications=(App("Astrill", "3.10.1", app, "com.Astrill.app", source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/Astrill", parent="launchd", started=140, bundle_id="com.Astrill.app"),
                   Proc(app + "/Contents/Resources/asovpnc", user="root", parent="Astrill", started=145)),
        interfaces=(NetIface("utun5", "", ("10.8.14.22",), kind="tunnel"),),
        connections=(Conn("{lan_ip}", 50112, "104.254.90.18", 443, "asovpnc"),))


def internet_sharing_windows() -> Delta:
    return Delta(
        ip_forwarding=True,
        processes=(Proc("C:\\Windows\\System32\\svchost.exe", ("-k", "netsvcs", "-p", "-s", "SharedAccess"),
                        user=SYSTEM, parent="services.exe", key="svchost.exe#SharedAccess", started=400,
                        argv0="C:\\WINDOWS\\system32\\svchost.exe"),),
        interfaces=(NetIface("Local Area Connection* 10", "a6:c3:f0:1b:22:9f", ("192.168.137.1",), kind="wifi"),),
        listeners=(Listen("192.168.137.1", 53, "svchost.exe#SharedAccess", "udp"),
                   Listen("192.168.137.1", 67, "svchost.exe#SharedAccess", "udp")))


def internet_sharing_macos() -> Delta:
    return Delta(
        ip_forwarding=True,
        processes=(Proc("/usr/libexec/InternetSharing", user="root", parent="launchd", started=600),
                   Proc("/usr/libexec/bootpd", ("-d",), user="root", parent="InternetSharing", started=601),
                   Proc("/usr/sbin/natpmpd", ("-y", "bridge100", "en0"), user="root", parent="InternetSharing",
                        started=601)),
        interfaces=(NetIface("bridge100", "f2:18:98:4a:11:64", ("192.168.2.1",), kind="bridge"),),
        listeners=(Listen("0.0.0.0", 67, "bootpd", "udp"), Listen("192.168.2.1", 53, "mDNSResponder", "udp")))
