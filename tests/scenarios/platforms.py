"""Cases the first three review rounds did not stress: macOS as macOS names things (helpers inside
app bundles, App Translocation, launchd jobs, bundle ids, System Settings' sharing switches, displays
that Apple silicon reports without EDID bytes), Windows as Windows does (services against processes,
Program Files (x86), AppData and ProgramData installs, signers, RDP switched on against an RDP session,
Quick Assist, Remote Help, Windows App, Intune's own agents), displays (dummy plugs, KVM loop-outs,
TVs with CTA extension blocks, invalid manufacturer ids, portable monitors, docks) and mixed weak
signals whose verdict depends on adding them up correctly.

Identities come from docs/detection.md (§H hardware, §T tools, §I indicators) and the
signature catalogue; where a value is not in the research (an ordinary monitor's ids, a dummy plug's EDID,
an Intune component's path) it is a plausible one that no catalogue entry names, and the scenario's
`fact` says which research fact the verdict leans on.
"""

from __future__ import annotations

from devices import ABS, KBD, MSD, REL, bus, interfaces
from edid import FHD_60, QHD_60, UHD_60, MonitorSpec
from parts import App, Conn, Delta, Listen, Login, NetIface, Proc, Screen, Usb
from software import CONTROLLER

SYSTEM = "NT AUTHORITY\\SYSTEM"
PF, PF86, PD = "C:\\Program Files\\", "C:\\Program Files (x86)\\", "C:\\ProgramData\\"
LOCALAPP = "{home}\\AppData\\Local\\"
SYS32 = "C:\\Windows\\System32\\"
REMOTE_MGMT = "/System/Library/CoreServices/RemoteManagement/"
TAILNET_PEER = "100.101.44.9"


# --- macOS sharing switches (System Settings > General > Sharing) -----------------------------

def screen_sharing_on_idle_macos() -> Delta:
    """Screen Sharing switched on: launchd holds 5900 and starts screensharingd only for a viewer."""
    return Delta(remote_access=(("screen_sharing", True),),
                 listeners=(Listen("0.0.0.0", 5900, "launchd"), Listen("::", 5900, "launchd")))


def remote_management_on_idle_macos() -> Delta:
    """Remote Management (ARD) switched on with `kickstart -activate`: ARDAgent runs and listens on 3283,
    launchd holds 5900 for Screen Sharing, which Remote Management turns on with it."""
    return Delta(
        remote_access=(("remote_management", True), ("screen_sharing", True)),
        processes=(Proc(REMOTE_MGMT + "ARDAgent.app/Contents/MacOS/ARDAgent", user="root", parent="launchd",
                        started=8, bundle_id="com.apple.RemoteDesktopAgent"),),
        listeners=(Listen("0.0.0.0", 5900, "launchd"), Listen("::", 5900, "launchd"),
                   Listen("0.0.0.0", 3283, "ARDAgent"), Listen("0.0.0.0", 3283, "ARDAgent", "udp")))


def remote_login_on_idle_macos() -> Delta:
    return Delta(remote_access=(("remote_login", True),),
                 listeners=(Listen("0.0.0.0", 22, "launchd"), Listen("::", 22, "launchd")))


def screen_sharing_session_over_tailnet_macos() -> Delta:
    """Screen Sharing serving a viewer that comes over the owner's tailnet (Tailscale's 100.x)."""
    app = "/Applications/Tailscale.app"
    return screen_sharing_on_idle_macos() + Delta(
        applications=(App("Tailscale", "1.76.6", app, "io.tailscale.ipn.macsys", signer="W5364U7YZB",
                          source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/Tailscale", parent="launchd", bundle_id="io.tailscale.ipn.macsys",
                        started=110),
                   Proc(REMOTE_MGMT + "screensharingd.bundle/Contents/MacOS/screensharingd", user="root",
                        parent="launchd", bundle_id="com.apple.screensharing.server"),
                   Proc(REMOTE_MGMT + "ScreensharingAgent.bundle/Contents/MacOS/ScreensharingAgent", parent="launchd",
                        bundle_id="com.apple.screensharing.agent")),
        interfaces=(NetIface("utun6", "", ("100.88.12.5",), kind="tunnel"),),
        connections=(Conn("100.88.12.5", 5900, TAILNET_PEER, 50122, "screensharingd"),))


# --- macOS remote-control apps as macOS runs them ---------------------------------------------

def splashtop_business_viewer_macos() -> Delta:
    """Splashtop Business, the app one connects *from* (the Streamer is what is connected to)."""
    app = "/Applications/Splashtop Business.app"
    return Delta(
        applications=(App("Splashtop Business", "3.7.2.0", app, "com.splashtop.stb.macosx", signer="CPQQ3AW49Y",
                          source="app_bundle"),
                      App("com.splashtop.stb.macosx.helper.autoupdate",
                          path="/Library/LaunchAgents/com.splashtop.stb.macosx.helper.autoupdate.plist",
                          bundle_id="com.splashtop.stb.macosx.helper.autoupdate", source="launchd")),
        processes=(Proc(app + "/Contents/MacOS/Splashtop Business", parent="launchd",
                        bundle_id="com.splashtop.stb.macosx"),),
        connections=(Conn("100.64.1.9", 61520, "52.24.139.201", 443, "Splashtop Business"),))


def intune_remote_help_macos() -> Delta:
    """An Intune-managed Mac: Company Portal, the Intune agent, Defender, and Microsoft Remote Help open
    (the sharer's side, waiting for a help-desk colleague of the same tenant)."""
    intune = "/Library/Intune/Microsoft Intune Agent.app/Contents/MacOS/"
    wdav = "/Library/Application Support/Microsoft/Defender/"
    help_app = "/Applications/Microsoft Remote Help.app"
    return Delta(
        applications=(App("Company Portal", "5.2409.1", "/Applications/Company Portal.app",
                          "com.microsoft.CompanyPortalMac", signer="UBF8T346G9", source="app_bundle"),
                      App("Microsoft Defender", "101.24092.0004", "/Applications/Microsoft Defender.app",
                          "com.microsoft.wdav", signer="UBF8T346G9", source="app_bundle"),
                      App("Microsoft Remote Help", "1.0.2410", help_app, "com.microsoft.remotehelp",
                          signer="UBF8T346G9", source="app_bundle"),
                      App("com.microsoft.intune.agent", path="/Library/LaunchDaemons/com.microsoft.intune.agent.plist",
                          bundle_id="com.microsoft.intune.agent", source="launchd")),
        processes=(Proc(intune + "IntuneMdmDaemon", user="root", parent="launchd", started=6,
                        bundle_id="com.microsoft.intune.mac.agent"),
                   Proc(intune + "IntuneMdmAgent", parent="launchd", started=100, bundle_id="com.microsoft.intune.mac.agent"),
                   Proc(wdav + "wdavdaemon_enterprise.app/Contents/MacOS/wdavdaemon_enterprise", user="root",
                        parent="launchd", started=6, bundle_id="com.microsoft.wdav.epsext"),
                   Proc(help_app + "/Contents/MacOS/Microsoft Remote Help", parent="launchd",
                        bundle_id="com.microsoft.remotehelp")),
        connections=(Conn("100.64.1.9", 61610, "20.42.65.92", 443, "Microsoft Remote Help"),
                     Conn("100.64.1.9", 61611, "52.167.17.97", 443, "IntuneMdmDaemon")))


def teamviewer_daemon_gui_closed_macos() -> Delta:
    """TeamViewer installed; its window closed, its launchd daemon and privileged helper run on."""
    app = "/Applications/TeamViewer.app"

    def job(label, folder="LaunchDaemons"):
        return App(label, path=f"/Library/{folder}/{label}.plist", bundle_id=label, source="launchd")

    return Delta(
        applications=(App("TeamViewer", "15.59.3", app, "com.teamviewer.TeamViewer", signer="H7UGFBUGV6",
                          source="app_bundle"),
                      job("com.teamviewer.teamviewer_service"), job("com.teamviewer.Helper"),
                      job("com.teamviewer.teamviewer", "LaunchAgents"),
                      job("com.teamviewer.teamviewer_desktop", "LaunchAgents")),
        processes=(Proc(app + "/Contents/MacOS/TeamViewer_Service", user="root", parent="launchd", started=6,
                        bundle_id="com.teamviewer.TeamViewer"),
                   Proc("/Library/PrivilegedHelperTools/com.teamviewer.Helper", user="root", parent="launchd",
                        started=6)),
        connections=(Conn("{lan_ip}", 50388, "217.146.28.9", 5938, "TeamViewer_Service"),))


def anydesk_helper_left_behind_macos() -> Delta:
    """AnyDesk.app dragged to the Trash: its launchd jobs and privileged helper stay and the helper runs."""
    def job(label, folder="LaunchDaemons"):
        return App(label, path=f"/Library/{folder}/{label}.plist", bundle_id=label, source="launchd")

    return Delta(
        applications=(job("com.philandro.anydesk.service"), job("com.philandro.anydesk.Helper"),
                      job("com.philandro.anydesk.Frontend", "LaunchAgents")),
        processes=(Proc("/Library/PrivilegedHelperTools/com.philandro.anydesk.Helper", user="root", parent="launchd",
                        started=6),))


def teamviewer_qs_translocated_macos() -> Delta:
    """TeamViewer QuickSupport opened from Downloads: Gatekeeper's App Translocation runs it from a random
    read-only path under /private/var/folders."""
    app = ("/private/var/folders/7x/k2h4m1qs0bn5v9_0r3tj8d1c0000gn/T/AppTranslocation/"
           "3F2A9C51-6B0D-4E7A-9A31-2C8E5D4B7F10/d/TeamViewerQS.app")
    return Delta(
        processes=(Proc(app + "/Contents/MacOS/TeamViewerQS", parent="launchd", bundle_id="com.teamviewer.TeamViewerQS"),),
        connections=(Conn("{lan_ip}", 50421, "217.146.28.9", 5938, "TeamViewerQS"),))


def vnc_viewer_through_ssh_forward_macos() -> Delta:
    """The Screen Sharing viewer reaching a lab Mac through `ssh -L 5901:localhost:5900`: all loopback and
    outbound."""
    viewer = "/System/Library/CoreServices/Applications/Screen Sharing.app"
    return Delta(
        processes=(Proc("/usr/bin/ssh", ("-N", "-L", "5901:localhost:5900", "jchen@lab-mac.corp.acme.com"),
                        parent="zsh", key="ssh#forward", started=7300),
                   Proc(viewer + "/Contents/MacOS/Screen Sharing", parent="launchd", bundle_id="com.apple.ScreenSharing")),
        listeners=(Listen("127.0.0.1", 5901, "ssh#forward"), Listen("::1", 5901, "ssh#forward")),
        connections=(Conn("100.64.1.9", 61702, "10.40.12.21", 22, "ssh#forward"),
                     Conn("127.0.0.1", 61710, "127.0.0.1", 5901, "Screen Sharing"),
                     Conn("127.0.0.1", 5901, "127.0.0.1", 61710, "ssh#forward")))


def crd_web_app_shim_macos() -> Delta:
    """The Chrome Remote Desktop *web client* installed as a Chrome app: Chrome makes an app shim bundle named
    after it in ~/Applications/Chrome Apps.localized. No host is installed."""
    shim = "/Users/jchen/Applications/Chrome Apps.localized/Chrome Remote Desktop.app"
    bundle = "com.google.Chrome.app.inomeogfingihgjfjlpeplalcfajhgai"
    return Delta(
        applications=(App("Chrome Remote Desktop", "1.0", shim, bundle, signer="EQHXZ8M8AV", source="app_bundle"),),
        processes=(Proc(shim + "/Contents/MacOS/app_mode_loader", parent="launchd", bundle_id=bundle),),
        connections=(Conn("100.64.1.9", 61801, "142.250.72.110", 443, "Google Chrome"),))


def duet_tailscale_macos() -> Delta:
    duet, ts = "/Applications/duet.app", "/Applications/Tailscale.app"
    return Delta(
        applications=(App("Duet", "3.13.2", duet, "com.kairos.duetMac", signer="J6L96W8A86", source="app_bundle"),
                      App("Tailscale", "1.76.6", ts, "io.tailscale.ipn.macsys", signer="W5364U7YZB",
                          source="app_bundle")),
        processes=(Proc(duet + "/Contents/MacOS/duet", parent="launchd", bundle_id="com.kairos.duetMac", started=200),
                   Proc(ts + "/Contents/MacOS/Tailscale", parent="launchd", bundle_id="io.tailscale.ipn.macsys",
                        started=110)),
        interfaces=(NetIface("utun6", "", ("100.88.12.5",), kind="tunnel"),))


def rustdesk_idle_macos() -> Delta:
    app = "/Applications/RustDesk.app"
    return Delta(
        applications=(App("RustDesk", "1.3.2", app, "com.carriez.rustdesk", signer="HZF9JMC8YN", source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/RustDesk", ("--server",), user="root", parent="launchd", started=8,
                        key="RustDesk#server", bundle_id="com.carriez.rustdesk"),),
        connections=(Conn("{lan_ip}", 50610, "65.21.129.11", 21116, "RustDesk#server"),))


# --- Windows: remote help that Windows and Intune ship, clients, services --------------------

def remote_assistance_default_windows() -> Delta:
    """'Allow Remote Assistance connections to this computer' left at Windows's default (on)."""
    return Delta(remote_access=(("remote_assistance", True),))


def quick_assist_installed_windows() -> Delta:
    return Delta(applications=(App("Quick Assist", "2.0.32.0",
                                   PF + "WindowsApps\\MicrosoftCorporationII.QuickAssist_2.0.32.0_x64__8wekyb3d8bbwe",
                                   publisher="Microsoft Corporation", source="appx"),))


def intune_defender_stack_windows() -> Delta:
    """Intune's own agents beside the Intune Management Extension the base runs: Company Portal, the OMA-DM
    client, Defender for Endpoint's sensor, Remote Help installed (not open)."""
    sense = PF + "Windows Defender Advanced Threat Protection\\"
    portal = PF + "WindowsApps\\Microsoft.CompanyPortal_11.2.1002.0_x64__8wekyb3d8bbwe\\"
    return Delta(
        applications=(App("Company Portal", "11.2.1002.0", portal[:-1], publisher="Microsoft Corporation", source="appx"),
                      App("Remote Help", "5.1.1419.0", PF + "Remote Help", publisher="Microsoft Corporation",
                          source="registry"),
                      App("Sense", path=sense + "MsSense.exe", source="service")),
        processes=(Proc(sense + "MsSense.exe", user=SYSTEM, parent="services.exe", started=12,
                        signer="Microsoft Windows Publisher"),
                   Proc(sense + "SenseNdr.exe", user=SYSTEM, parent="MsSense.exe", started=40,
                        signer="Microsoft Corporation"),
                   Proc(sense + "SenseCncProxy.exe", user=SYSTEM, parent="MsSense.exe", started=41,
                        signer="Microsoft Corporation"),
                   Proc(sense + "SenseIR.exe", user=SYSTEM, parent="MsSense.exe", started=3600,
                        signer="Microsoft Corporation"),
                   Proc(SYS32 + "omadmclient.exe", ("/serverid", "MS DM Server"), user=SYSTEM,
                        parent="svchost.exe#DsmSvc", started=3000, signer="Microsoft Windows"),
                   Proc(SYS32 + "DeviceEnroller.exe", ("/o", "2F8E0A15-6A07-4D29-9E28-4F26A1D7C0B2", "/c"),
                        user=SYSTEM, parent="svchost.exe#Schedule", started=3001, signer="Microsoft Windows"),
                   Proc(portal + "CompanyPortal.exe", ("-ServerName:App.AppX7d7bx2y5pk8z.mca",),
                        parent="svchost.exe#DcomLaunch", started=900, signer="Microsoft Corporation")),
        connections=(Conn("{lan_ip}", 52410, "20.190.151.68", 443, "MsSense.exe"),
                     Conn("100.64.1.7", 52411, "52.167.17.97", 443, "omadmclient.exe")))


def remote_help_session_windows() -> Delta:
    """Intune Remote Help open on the sharer's side, in a session with the company's help desk."""
    folder = PF + "Remote Help\\"
    return Delta(
        applications=(App("Remote Help", "5.1.1419.0", folder[:-1], publisher="Microsoft Corporation",
                          source="registry"),),
        processes=(Proc(folder + "RemoteHelp.exe", parent="explorer.exe", signer="Microsoft Corporation"),
                   Proc(PF86 + "Microsoft\\EdgeWebView\\Application\\131.0.2903.70\\msedgewebview2.exe",
                        ("--embedded-browser-webview=1", "--webview-exe-name=RemoteHelp.exe"), parent="RemoteHelp.exe",
                        key="msedgewebview2.exe#remotehelp")),
        connections=(Conn("100.64.1.7", 52501, "20.42.65.90", 443, "RemoteHelp.exe"),
                     Conn("{lan_ip}", 52502, "52.113.194.132", 3478, "RemoteHelp.exe")))


def splashtop_business_client_windows() -> Delta:
    """Splashtop Business, the app a user connects *from*, in its 'Client for STB' folder."""
    folder = PF86 + "Splashtop\\Splashtop Remote\\Client for STB\\"
    return Delta(
        applications=(App("Splashtop Business", "3.7.2.0", folder[:-1], publisher="Splashtop Inc.", source="registry"),),
        processes=(Proc(folder + "strwinclt.exe", parent="explorer.exe", signer="Splashtop Inc."),),
        connections=(Conn("100.64.1.7", 52601, "52.24.139.201", 443, "strwinclt.exe"),))


def crd_web_app_registered_windows() -> Delta:
    """The Chrome Remote Desktop web client installed as a Chrome app: Chrome lists it under Installed apps by
    its own name (publisher 'Google\\Chrome') and opens it through chrome_proxy.exe. No host is installed."""
    chrome = PF + "Google\\Chrome\\Application\\"
    app_id = "inomeogfingihgjfjlpeplalcfajhgai"
    return Delta(
        applications=(App("Chrome Remote Desktop", "1.0", "", publisher="Google\\Chrome", source="registry"),),
        processes=(Proc(chrome + "chrome_proxy.exe", ("--profile-directory=Default", f"--app-id={app_id}"),
                        parent="explorer.exe", signer="Google LLC"),
                   Proc(chrome + "chrome.exe", ("--profile-directory=Default", f"--app-id={app_id}"),
                        parent="chrome_proxy.exe", key="chrome.exe#crd", signer="Google LLC")),
        connections=(Conn("100.64.1.7", 52701, "142.250.72.106", 443, "chrome.exe#crd"),))


def teamviewer_qs_x64_windows() -> Delta:
    exe = "{home}\\Downloads\\TeamViewerQS_x64.exe"
    return Delta(
        processes=(Proc(exe, parent="explorer.exe", signer="TeamViewer Germany GmbH"),),
        connections=(Conn("{lan_ip}", 52801, "217.146.28.9", 5938, "TeamViewerQS_x64.exe"),))


def windows_app_avd_client_windows() -> Delta:
    """Microsoft's Windows App (MSIX) and the Remote Desktop client for Azure Virtual Desktop connected to a
    cloud desktop: this laptop is the client."""
    app = PF + "WindowsApps\\MicrosoftCorporationII.Windows365_2.0.285.0_x64__8wekyb3d8bbwe\\"
    rd = PF + "Remote Desktop\\"
    return Delta(
        applications=(App("Windows App", "2.0.285.0", app[:-1], publisher="Microsoft Corporation", source="appx"),
                      App("Remote Desktop", "1.2.5709.0", rd[:-1], publisher="Microsoft Corporation",
                          source="registry")),
        processes=(Proc(app + "Windows365.exe", parent="explorer.exe", signer="Microsoft Corporation"),
                   Proc(rd + "msrdcw.exe", parent="explorer.exe", signer="Microsoft Corporation"),
                   Proc(rd + "msrdc.exe", ("{home}\\AppData\\Local\\rdclientwpf\\a1b2c3d4.rdp",), parent="msrdcw.exe",
                        signer="Microsoft Corporation")),
        connections=(Conn("100.64.1.7", 52901, "40.64.144.5", 443, "msrdc.exe"),
                     Conn("{lan_ip}", 52902, "20.202.248.3", 3478, "msrdc.exe")))


def mouse_without_borders_lan_windows() -> Delta:
    """Microsoft Garage's Mouse Without Borders: the desk PC beside the laptop shares its keyboard and mouse."""
    folder = PF86 + "Microsoft Garage\\Mouse without Borders\\"
    return Delta(
        applications=(App("Mouse without Borders", "2.2.1.327", folder[:-1], publisher="Microsoft Garage",
                          source="registry"),
                      App("MouseWithoutBordersSvc", path=folder + "MouseWithoutBordersSvc.exe", source="service")),
        processes=(Proc(folder + "MouseWithoutBordersSvc.exe", user=SYSTEM, parent="services.exe", started=12),
                   Proc(folder + "MouseWithoutBorders.exe", parent="explorer.exe", started=104)),
        listeners=(Listen("0.0.0.0", 15100, "MouseWithoutBorders.exe"), Listen("0.0.0.0", 15101, "MouseWithoutBorders.exe")),
        connections=(Conn("{lan_ip}", 15101, "{lan_net}.42", 50211, "MouseWithoutBorders.exe"),
                     Conn("{lan_ip}", 50230, "{lan_net}.42", 15101, "MouseWithoutBorders.exe")))


def powertoys_mwb_lan_windows() -> Delta:
    folder = LOCALAPP + "PowerToys\\"
    return Delta(
        applications=(App("PowerToys (Preview) x64", "0.86.0", folder[:-1], publisher="Microsoft Corporation",
                          source="registry"),),
        processes=(Proc(folder + "PowerToys.exe", parent="explorer.exe", started=110, signer="Microsoft Corporation"),
                   Proc(folder + "PowerToys.MouseWithoutBorders.exe", parent="PowerToys.exe", started=112,
                        signer="Microsoft Corporation")),
        listeners=(Listen("0.0.0.0", 15100, "PowerToys.MouseWithoutBorders.exe"),
                   Listen("0.0.0.0", 15101, "PowerToys.MouseWithoutBorders.exe")),
        connections=(Conn("{lan_ip}", 15101, "{lan_net}.42", 50311, "PowerToys.MouseWithoutBorders.exe"),))


def rdp_session_over_tailnet_windows() -> Delta:
    from software import rdp_enabled_windows
    return rdp_enabled_windows() + Delta(
        applications=(App("Tailscale", "1.76.6", PF + "Tailscale", publisher="Tailscale Inc.", source="registry"),),
        processes=(Proc(PF + "Tailscale\\tailscaled.exe", user=SYSTEM, parent="services.exe", started=12,
                        signer="Tailscale Inc."),
                   Proc(SYS32 + "rdpclip.exe", parent="svchost.exe#TermService")),
        interfaces=(NetIface("Tailscale", "", ("100.88.12.5",), kind="tunnel"),),
        connections=(Conn("100.88.12.5", 3389, TAILNET_PEER, 50944, "svchost.exe#TermService"),),
        sessions=(Login("{account}", "RDP-Tcp#0", TAILNET_PEER),), ended_sessions=("console",))


def hyperv_vmconnect_windows() -> Delta:
    """A developer's Hyper-V VM open in VMConnect (an enhanced session runs RDP over VMBus), the Default Switch
    sharing the laptop's connection."""
    return Delta(
        ip_forwarding=True,
        processes=(Proc(SYS32 + "vmms.exe", user=SYSTEM, parent="services.exe", started=12, signer="Microsoft Windows"),
                   Proc(SYS32 + "vmcompute.exe", user=SYSTEM, parent="services.exe", started=12,
                        signer="Microsoft Windows"),
                   Proc(SYS32 + "vmwp.exe", ("5C9E3A1B-7F2D-4E61-9B0A-3D8C6E2F1A47",),
                        user="NT VIRTUAL MACHINE\\5C9E3A1B-7F2D-4E61-9B0A-3D8C6E2F1A47", parent="vmcompute.exe",
                        started=700, signer="Microsoft Windows"),
                   Proc(SYS32 + "VmConnect.exe", ("localhost", "Ubuntu 24.04 LTS"), parent="explorer.exe", started=705,
                        signer="Microsoft Windows")),
        interfaces=(NetIface("vEthernet (Default Switch)", "00:15:5d:01:c3:00", ("172.22.208.1",)),),
        listeners=(Listen("0.0.0.0", 2179, "vmms.exe"),))


def anydesk_idle_windows() -> Delta:
    from software import anydesk_windows
    return anydesk_windows()


def tightvnc_service_stopped_windows() -> Delta:
    folder = PF + "TightVNC\\"
    return Delta(applications=(
        App("TightVNC", "2.8.85", folder[:-1], publisher="GlavSoft LLC.", source="registry"),
        App("tvnserver", path=folder + "tvnserver.exe", source="service")))


def realvnc_viewer_outbound_windows() -> Delta:
    folder = PF + "RealVNC\\VNC Viewer\\"
    return Delta(
        applications=(App("RealVNC Viewer 7.12.1", "7.12.1", folder[:-1], publisher="RealVNC Ltd", source="registry"),),
        processes=(Proc(folder + "vncviewer.exe", ("lab-build-07.corp.acme.com",), parent="explorer.exe",
                        signer="RealVNC Limited"),),
        connections=(Conn("100.64.1.7", 53001, "10.40.12.27", 5900, "vncviewer.exe"),))


def rustdesk_service_only_windows() -> Delta:
    exe = PF + "RustDesk\\rustdesk.exe"
    return Delta(
        applications=(App("RustDesk", "1.3.2", PF + "RustDesk", publisher="RustDesk", source="registry"),
                      App("RustDesk", path=exe, source="service")),
        processes=(Proc(exe, ("--service",), user=SYSTEM, parent="services.exe", started=12),),
        connections=(Conn("{lan_ip}", 53110, "65.21.129.11", 21116, "rustdesk.exe"),))


def rustdesk_session_windows() -> Delta:
    exe = PF + "RustDesk\\rustdesk.exe"
    return rustdesk_service_only_windows() + Delta(
        processes=(Proc(exe, ("--server",), user=SYSTEM, parent="rustdesk.exe", key="rustdesk.exe#server"),),
        listeners=(Listen("0.0.0.0", 21118, "rustdesk.exe#server"),),
        connections=(Conn("{lan_ip}", 21118, CONTROLLER, 61877, "rustdesk.exe#server"),))


def goto_app_windows() -> Delta:
    """The GoTo app (GoTo Connect phone system and meetings), installed per user."""
    folder = LOCALAPP + "Programs\\GoTo\\"
    return Delta(
        applications=(App("GoTo", "4.15.1", folder[:-1], publisher="GoTo Technologies USA, Inc.", source="registry"),),
        processes=(Proc(folder + "GoTo.exe", parent="explorer.exe", started=150, signer="GoTo Technologies USA, LLC",
                        key="GoTo.exe"),
                   Proc(folder + "GoTo.exe", ("--type=renderer",), parent="GoTo.exe", key="GoTo.exe#renderer",
                        started=151, signer="GoTo Technologies USA, LLC")),
        connections=(Conn("100.64.1.7", 53201, "216.115.208.230", 443, "GoTo.exe"),))


def quick_assist_running_windows() -> Delta:
    from field import quick_assist_windows
    return quick_assist_windows()


def ninjaone_tailscale_windows() -> Delta:
    from field import tailscale_windows
    folder = PF86 + "NinjaRMMAgent\\"
    return tailscale_windows() + Delta(
        applications=(App("NinjaRMMAgent", "5.9.1158", folder[:-1], publisher="NinjaRMM LLC", source="registry"),),
        processes=(Proc(folder + "NinjaRMMAgent.exe", user=SYSTEM, parent="services.exe", started=12,
                        signer="NinjaOne LLC"),),
        connections=(Conn("{lan_ip}", 53301, "34.214.71.40", 443, "NinjaRMMAgent.exe"),))


def obs_capture_windows() -> Delta:
    exe = PF + "obs-studio\\bin\\64bit\\obs64.exe"
    return Delta(
        applications=(App("OBS Studio", "30.2.3", PF + "obs-studio", publisher="OBS Project", source="registry"),),
        processes=(Proc(exe, parent="explorer.exe", started=900),),
        listeners=(Listen("127.0.0.1", 4455, "obs64.exe"),))


def x11vnc_session_linux() -> Delta:
    from software import x11vnc_session_linux as session
    return session()


# --- USB ---------------------------------------------------------------------------------------

def ms2109_capture_into_laptop(os: str) -> Usb:
    """A MacroSilicon MS2109 HDMI-to-USB capture dongle plugged into this laptop (capturing a console)."""
    return Usb("534d", "2109", "MACROSILICON", "USB Video", "20210623", "ef", "2100", 480.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"), interfaces(os, "0e/01/00", "0e/02/00", "01/01/00",
                                                                                   "01/02/00"))


def logitech_unifying_receiver(os: str) -> Usb:
    return Usb("046d", "c52b", "Logitech", "USB Receiver", "", "00", "1211", 12.0,
               bus(os, "1-3", "Port_#0003.Hub_#0001", "0x00130000"), interfaces(os, KBD, REL, ABS))


def wiebetech_mj1(os: str) -> Usb:
    return Usb("0e90", "0028", "", "", "", "00", "0100", 1.5,
               bus(os, "1-4", "Port_#0004.Hub_#0001", "0x00150000"), interfaces(os, REL))


def digispark_keyboard(os: str) -> Usb:
    return Usb("16c0", "27db", "digistump.com", "DigiKey", "", "00", "0100", 1.5,
               bus(os, "1-3", "Port_#0003.Hub_#0001", "0x00130000"), interfaces(os, KBD))


def glkvm_loop_out(os: str) -> Usb:
    """A GL.iNet KVM (firmware >= 1.7.2, vendor 38eb) whose HDMI loop-out feeds the desk monitor."""
    return Usb("38eb", "0131", "Glinet", "Glinet Composite Device", "CAFEBABE", "00", "0100", 480.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"), interfaces(os, KBD, ABS, REL, MSD))


def pikvm_v4(os: str) -> Usb:
    return Usb("1d6b", "0104", "PiKVM", "PiKVM Composite Device", "CAFEBABE", "00", "0100", 480.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"), interfaces(os, KBD, ABS, REL, MSD))


def lenovo_tb_dock(os: str) -> tuple[Usb, ...]:
    return (
        Usb("17ef", "a3b0", "Lenovo", "ThinkPad Thunderbolt 4 Dock USB2.0 Hub", "", "09", "5040", 480.0, "3-1",
            interfaces(os, "09/00/00")),
        Usb("17ef", "a3b2", "Lenovo", "ThinkPad TBT 4 Dock Ethernet", "301A00000", "00", "3104", 5000.0, "4-1.2",
            interfaces(os, "ff/ff/00", "02/06/00", "0a/00/00")),
    )


# --- displays ----------------------------------------------------------------------------------

# A cheap 4K HDMI dummy plug: an EEPROM with some monitor's EDID and nothing behind it.
DUMMY_PLUG_4K = MonitorSpec("RTK", 0x2160, 0x00000001, 1, 2019, 600, 340, UHD_60, "4K HDMI", extension_blocks=1)
# The same kind of plug rewritten with a capture dongle's EDID (as hobbyists do to set its resolution).
DUMMY_PLUG_CLONED_MS2109 = MonitorSpec("HJW", 0x1836, 0, 1, 2018, 0, 0, FHD_60, "MACROSILICON")
SONY_TV = MonitorSpec("SNY", 0x7A04, 0x01010101, 1, 2022, 0, 0, UHD_60, "SONY TV  *00", extension_blocks=1)
ZERO_ID_PROJECTOR = MonitorSpec("@@@", 0x0000, 0, 1, 2015, 0, 0, FHD_60, "PROJECTOR")
UNNLINK_ENCODER = MonitorSpec("___", 0x8360, 0, 1, 2019, 0, 0, FHD_60, "HDMI Encoder")
PORTABLE_NO_NAME = MonitorSpec("NCP", 0x0016, 0, 1, 2023, 344, 194, FHD_60)
VGA_ADAPTER = MonitorSpec("MST", 0x0000, 0, 1, 2017, 0, 0, FHD_60)
MACROSILICON_EDID = MonitorSpec("HJW", 0x1836, 0, 1, 2018, 0, 0, FHD_60, "MACROSILICON")
HD_TO_USB_EDID = MonitorSpec("HJW", 0x2109, 0, 1, 2020, 0, 0, FHD_60, "HD TO USB")
BENQ_GW2790 = MonitorSpec("BNQ", 0x8067, 0x0000A51B, 11, 2024, 597, 336, FHD_60, "BenQ GW2790", "ETK4R0123451",
                          extension_blocks=1)
DELL_P2723D = MonitorSpec("DEL", 0x4267, 0x4C305A47, 20, 2023, 597, 336, QHD_60, "DELL P2723D", "8YQZ1L3",
                          extension_blocks=1)
DELL_P2723D_B = MonitorSpec("DEL", 0x4267, 0x4C33484B, 20, 2023, 597, 336, QHD_60, "DELL P2723D", "FZQZ1L3",
                            extension_blocks=1)
DELL_U2723QE_M = MonitorSpec("DEL", 0x41B1, 0x4C32314B, 33, 2022, 597, 336, UHD_60, "DELL U2723QE", "7JPZLN3")
LG_ULTRAFINE_M = MonitorSpec("GSM", 0x5B71, 0x0004E2A1, 10, 2021, 597, 336, UHD_60, "LG UltraFine", "104NTBK2A345")
PIKVM_V4_PLUS_M = MonitorSpec("LNX", 0x7773, 0x01010101, 35, 2016, 0, 0, FHD_60, "PiKVM V4 Plus", "CAFEBABE")
JETKVM_DELL_PRESET_M = MonitorSpec("DEL", 0x2013, 0x39363945, 32, 2020, 597, 336, FHD_60, "DELL D2721H", "3S5GQ23")
SIDECAR = MonitorSpec("@@@", 0x0000, 0, 1, 2024, 0, 0, FHD_60, "Sidecar Display")
ASUS_SCREENPAD = MonitorSpec("TSB", 0x8888, 0x88888800, 28, 2011, 0, 0, FHD_60, "ScreenXpert-")


def hdmi(os: str, monitor: MonitorSpec) -> Screen:
    from devices import external
    return external(os, monitor, "HDMI")


def dp(os: str, monitor: MonitorSpec) -> Screen:
    from devices import external
    return external(os, monitor, "DP")


def profiled(monitor: MonitorSpec, index: int) -> Screen:
    """An external display as system_profiler reports it on Apple silicon: identity only, no EDID bytes."""
    return Screen(f"external-{index}", monitor, with_edid=False)


def windows_screen(connector: str, monitor: MonitorSpec) -> Screen:
    return Screen(connector, monitor)


# --- second batch ----------------------------------------------------------------------------------

def jump_desktop_viewer_windows() -> Delta:
    """Jump Desktop, the viewer (Jump Desktop *Connect* is the host), reaching the user's Mac at home."""
    folder = PF86 + "Phase Five Systems\\Jump Desktop\\"
    return Delta(
        applications=(App("Jump Desktop", "9.1.12.0", folder[:-1], publisher="Phase Five Systems LLC",
                          source="registry"),),
        processes=(Proc(folder + "JumpDesktop.exe", parent="explorer.exe", signer="Phase Five Systems LLC"),),
        connections=(Conn("{lan_ip}", 53401, "54.213.160.9", 443, "JumpDesktop.exe"),))


def jump_desktop_connect_windows() -> Delta:
    folder = PF86 + "Phase Five Systems\\Jump Desktop Connect\\"
    return Delta(
        applications=(App("Jump Desktop Connect", "7.1.62.0", folder[:-1], publisher="Phase Five Systems LLC",
                          source="registry"),
                      App("JumpConnect", path=folder + "JumpService.exe", source="service")),
        processes=(Proc(folder + "JumpService.exe", user=SYSTEM, parent="services.exe", started=12,
                        signer="Phase Five Systems LLC"),
                   Proc(folder + "JumpConnect.exe", parent="explorer.exe", started=104, signer="Phase Five Systems LLC")),
        connections=(Conn("{lan_ip}", 53402, "54.213.160.9", 443, "JumpService.exe"),))


def wslg_windows() -> Delta:
    """WSL's Linux GUI apps: Windows draws them with its own RDP client (msrdc.exe) over a Hyper-V socket."""
    return Delta(
        processes=(Proc(PF + "WSL\\wslservice.exe", user=SYSTEM, parent="services.exe", started=290,
                        signer="Microsoft Corporation"),
                   Proc(SYS32 + "wsl.exe", ("-d", "Ubuntu"), parent="explorer.exe", started=600),
                   Proc(PF + "WSL\\msrdc.exe", ("C:\\Program Files\\WSL\\wslg.rdp", "/v:1F2E3D4C-5B6A-4978-8C9D-0E1F2A3B4C5D",
                                              "/hvsocketserviceid:{2F8E0A15-6A07-4D29-9E28-4F26A1D7C0B2}", "/silent",
                                              "/wslg"), parent="wslservice.exe", started=605,
                        signer="Microsoft Corporation")),
        interfaces=(NetIface("vEthernet (WSL (Hyper-V firewall))", "00:15:5d:4a:1e:07", ("172.27.96.1",)),))


def rdp_session_custom_port_windows() -> Delta:
    """RDP moved to port 33890 (the RDP-Tcp PortNumber value) with someone connected from outside: the socket
    is on no catalogued port, the session table still shows RDP-Tcp#0."""
    return Delta(
        remote_access=(("rdp", True),),
        processes=(Proc(SYS32 + "svchost.exe", ("-k", "NetworkService", "-s", "TermService"),
                        user="NT AUTHORITY\\NETWORK SERVICE", parent="services.exe", key="svchost.exe#TermService",
                        started=12, argv0="C:\\WINDOWS\\System32\\svchost.exe"),
                   Proc(SYS32 + "rdpclip.exe", parent="svchost.exe#TermService")),
        listeners=(Listen("0.0.0.0", 33890, "svchost.exe#TermService"),),
        connections=(Conn("{lan_ip}", 33890, CONTROLLER, 50971, "svchost.exe#TermService"),),
        sessions=(Login("{account}", "RDP-Tcp#0", CONTROLLER),), ended_sessions=("console",))
