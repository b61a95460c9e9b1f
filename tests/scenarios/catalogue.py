"""Every scenario: which base laptop, what changes on it, the verdict a careful analyst would give.

`what` and `fact` become the README's table: what the laptop represents and the research fact
(file and section under shared/research/) the scenario leans on.
"""

from __future__ import annotations

from dataclasses import dataclass

import benign
import devices as hw
import software as sw
from parts import Delta, NetIface

RELAY, SUSPICIOUS, CLEAN, ALLOWLISTED = "relay", "suspicious", "clean", "allowlisted"


@dataclass(frozen=True)
class Scenario:
    name: str
    os: str
    verdict: str
    what: str
    fact: str
    delta: Delta = Delta()


def usb(*devices) -> Delta:
    return Delta(usb=tuple(devices))


def screens(*displays) -> Delta:
    return Delta(displays=tuple(displays))


def kvm(os: str, gadget, edid, port: str = "HDMI") -> Delta:
    """An IP-KVM: its USB gadget on a laptop port and its capture input on the laptop's video output."""
    delta = usb(gadget(os))
    return delta + screens(hw.external(os, edid, port)) if edid else delta


def host(**fields) -> Delta:
    return Delta(host=tuple(fields.items()))


def nic(name: str, mac: str, *addresses: str, kind: str = "ethernet") -> Delta:
    return Delta(interfaces=(NetIface(name, mac, addresses, kind=kind),))


W, M, L = "windows", "macos", "linux"

RELAYS = [
    Scenario("win_anydesk_inbound_session", W, RELAY,
             "AnyDesk service with a backend process and an inbound session on its direct port 7070",
             "remote_tools.md §4 #1 (AnyDesk.exe, 7070); indicators.md R1: AnyDesk on both farm laptops [MAN-POD]",
             sw.anydesk_windows(session=True)),
    Scenario("win_teamviewer_incoming_session", W, RELAY,
             "TeamViewer running with TeamViewer_Desktop --IPCport 5939 --Module 1, the incoming-session marker",
             "remote_tools.md §5: `TeamViewer_Desktop --IPCport 5939 --Module 1` marks an incoming session",
             sw.teamviewer_windows(session=True)),
    Scenario("win_rdp_inbound_3389", W, RELAY,
             "RDP enabled, TermService on 3389 with an established session from a public address, rdpclip running",
             "indicators.md R4/R6 (3389, remote session type); remote_tools.md §4 #7 (TermService, rdpclip.exe)",
             sw.rdp_inbound_windows()),
    Scenario("win_rdp_session_network_probe_failed", W, RELAY,
             "An RDP session (`RDP-Tcp#0`) from a public address with rdpclip running; the network probe failed, "
             "so only the session table shows it",
             "indicators.md R6 (remote session type), R4; remote_tools.md §4 #7 (TermService, rdpclip.exe)",
             sw.rdp_session_network_probe_failed_windows()),
    Scenario("win_screenconnect_session", W, SUSPICIOUS,
             "ScreenConnect guest client service plus its WindowsClient; whether that process means a live "
             "session is not in the research, and the traffic goes to the vendor relay like an idle client's",
             "remote_tools.md §4 #6 (ScreenConnect.ClientService.exe, `e=Access&y=Guest`, WindowsClient)",
             sw.screenconnect_windows(session=True)),
    Scenario("win_rustdesk_direct_session", W, RELAY,
             "RustDesk service/server with direct IP access on 21118 and an inbound connection on it",
             "remote_tools.md §4 #4 (rustdesk --service/--server, ports 21115-21119)",
             sw.rustdesk_windows(session=True)),
    Scenario("win_tightvnc_inbound_session", W, RELAY,
             "TightVNC server as a service, listening on 5900 with an established viewer connection",
             "remote_tools.md §4 #12 (tvnserver.exe, service TightVNC, 5900)",
             sw.tightvnc_windows(session=True)),
    Scenario("win_ngrok_rdp_session_live", W, RELAY,
             "Someone is on the laptop's RDP through `ngrok tcp 3389`: ngrok holds a loopback connection into 3389 "
             "and the session table shows RDP-Tcp#0 from 127.0.0.1",
             "remote_tools.md §6 (Sigma: `ngrok tcp 3389`); DESIGN.md relay (a live inbound remote-control session): "
             "a tunnel connects to the local port only to carry a client in",
             sw.ngrok_rdp_session_windows()),
    Scenario("win_pikvm", W, RELAY,
             "PiKVM V4 Plus: 1d6b:0104 'PiKVM Composite Device' serial CAFEBABE and the LNX 'PiKVM V4 Plus' EDID",
             "kvm_signatures.md §1 PiKVM row, §2 PiKVM V4 Plus EDID; indicators.md K1/K2/K7",
             kvm(W, hw.pikvm, hw.PIKVM_V4_PLUS)),
    Scenario("win_jetkvm", W, RELAY,
             "JetKVM default: 1d6b:0104 'JetKVM'/'USB Emulation Device', kbd + 2 mice + virtual media, TSB "
             "T749-fHD720 EDID",
             "kvm_signatures.md §1 JetKVM row, §2 JetKVM default EDID",
             kvm(W, hw.jetkvm, hw.JETKVM_EDID)),
    Scenario("win_jetkvm_logitech_preset", W, RELAY,
             "JetKVM using its Logitech USB preset (046d:c52b 'Logitech (x64)', &-serial) yet with mass storage",
             "kvm_signatures.md §1 JetKVM USB presets; indicators.md K6 (spoofed big-brand ids, KVM interface mix)",
             kvm(W, hw.jetkvm_as_logitech, hw.JETKVM_EDID)),
    Scenario("win_glinet_comet", W, RELAY,
             "GL.iNet Comet: GLKVM composite with RNDIS + HID + two mass-storage interfaces and its RNDIS NIC",
             "kvm_signatures.md §1 Comet row (real lsusb/pnputil dumps); indicators.md K4/K5. EDID: glkvm ships "
             "PiKVM's EDID files (§2), so the V3 one is assumed",
             kvm(W, hw.glinet_comet, hw.PIKVM_V3)
             + nic("Ethernet 3", "e2:6b:1f:52:8a:04", "169.254.83.17", "fe80::5c1d:7a2e:91b4:3e0f")),
    Scenario("win_openterface", W, RELAY,
             "Openterface Mini-KVM target side: WCH CH9329 1a86:e129 HID, laptop HDMI into its MS2109 capture",
             "kvm_signatures.md §1 Openterface row (1a86:e129), §3 MS2109 EDID HJW 0x1836 'MACROSILICON'",
             kvm(W, hw.openterface_target, hw.MACROSILICON)),
    Scenario("win_unknown_gadget_composite", W, RELAY,
             "A Linux USB gadget with unknown ids: keyboard + absolute + relative mouse + mass storage + CDC-ECM; "
             "its video side carries an EDID cloned from a real LG monitor",
             "kvm_signatures.md §1 notes (interface mix is the robust tell, kernel bcdDevice 0x0510 default), "
             "§2 EDID notes (KVMs can import the real monitor's EDID); indicators.md K4 [CHELMZY]",
             kvm(W, hw.unknown_gadget, hw.LG_27GL850)),
    Scenario("win_jetkvm_dell_edid_preset", W, RELAY,
             "An external 'DELL D2721H' whose EDID is byte-for-byte JetKVM's preset (serial 3S5GQ23); "
             "the KVM's USB side is not plugged in",
             "kvm_signatures.md §2 JetKVM preset 'DELL D2721H' and EDID notes (presets carry fixed serials); "
             "§8 the real D2721H serials differ", screens(hw.external(W, hw.JETKVM_DELL_PRESET, "HDMI"))),
    Scenario("win_anydesk_portable_session", W, RELAY,
             "AnyDesk run from Downloads without installing (--local-service), an inbound session on 7070",
             "remote_tools.md §5/§6 (portable binaries, execution outside the install path; CISA AA23-025A)",
             sw.anydesk_portable_windows()),
    Scenario("win_glinet_comet_current_firmware", W, RELAY,
             "GL.iNet Comet on firmware >= 1.7.2: vendor 38eb 'Glinet Composite Device', serial CAFEBABE; "
             "its video side shows a cloned LG EDID",
             "kvm_signatures.md §1 GLKVM >= 1.7.2 row (VID 38eb, not in usb.ids)",
             kvm(W, hw.glinet_comet_current, hw.LG_27GL850)),
    Scenario("linux_tinypilot", L, RELAY,
             "TinyPilot Voyager: 1d6b:0104 'tinypilot' serial 6b65796d696d6570690, TSB 'TinyPilot' EDID",
             "kvm_signatures.md §1 TinyPilot row, §2 TinyPilot EDID",
             kvm(L, hw.tinypilot, hw.TINYPILOT_EDID)),
    Scenario("linux_nanokvm", L, RELAY,
             "Sipeed NanoKVM: 3346:1009 with HID + RNDIS (usb.rndis0 on), its host-side USB NIC and 'NanoKVM' EDID",
             "kvm_signatures.md §1 NanoKVM row (48:da:35 MACs), §2 NanoKVM EDID (SPD 0x3301)",
             kvm(L, hw.nanokvm, hw.NANOKVM_EDID)
             + nic("enx48da356d1c2e", "48:da:35:6d:1c:2e", "fe80::4ada:35ff:fe6d:1c2e")),
    Scenario("linux_diy_capture_kvm", L, RELAY,
             "DIY KVM: laptop HDMI into an MS2109 capture dongle plus a Pi HID gadget (1d6b:0104, no strings)",
             "indicators.md K8 (DIY TinyPilot/PiKVM via USB-HDMI dongle); kvm_signatures.md §3 variant 4, §6 gadget "
             "ids",
             kvm(L, hw.pi_hid_gadget, hw.MACROSILICON)),
    Scenario("linux_xrdp_session", L, RELAY,
             "xrdp listening on 3389 with an established session from a public address and an Xorg :10 session",
             "remote_tools.json XRDP (xrdp, xrdp-sesman, 3389); indicators.md R4/R6",
             sw.xrdp_session_linux()),
    Scenario("linux_x11vnc_session", L, RELAY,
             "x11vnc sharing display :0 on 5900 (-forever -shared) with a viewer connected",
             "remote_tools.json x11vnc; remote_tools.md §4 #15 (Linux desktop sharing)",
             sw.x11vnc_session_linux()),
    Scenario("linux_gnome_remote_desktop_session", L, RELAY,
             "GNOME Remote Desktop enabled, its daemon on 3389 with an inbound RDP connection",
             "remote_tools.json GNOME Remote Desktop (gnome-remote-desktop-daemon)",
             sw.gnome_remote_desktop_session_linux()),
    Scenario("linux_anydesk_session", L, RELAY,
             "AnyDesk for Linux (service + tray) with a backend process and an inbound connection on 7070",
             "remote_tools.md §4 #1 (anydesk, anydesk.service, 7070)",
             sw.anydesk_unix(L, session=True)),
    Scenario("mac_screen_sharing_live", M, RELAY,
             "Screen Sharing on: launchd on 5900, screensharingd + ScreensharingAgent with a viewer connected",
             "remote_tools.md §4 #8 (macOS Screen Sharing, 5900); indicators.md R4",
             sw.screen_sharing_macos()),
    Scenario("mac_anydesk_session", M, RELAY,
             "AnyDesk.app (com.philandro.anydesk, Team KHRWM533LU) with an inbound session on 7070",
             "remote_tools.md §4 #1 (macOS AnyDesk, bundle id, Team ID)",
             sw.anydesk_unix(M, session=True)),
    Scenario("mac_pikvm", M, RELAY,
             "PiKVM on a MacBook: the same gadget as ioreg shows it, LNX 'PiKVM V4 Plus' EDID on HDMI",
             "kvm_signatures.md §1 PiKVM, §7 macOS ioreg keys, §2 EDID",
             kvm(M, hw.pikvm, hw.PIKVM_V4_PLUS)),
    Scenario("mac_nanokvm_hid_only", M, RELAY,
             "NanoKVM in HID-only mode (3346:1009, USB 1.1, bcdDevice 0623, keyboard + two mice) with the "
             "Philips 342E2 clone EDID from its source",
             "kvm_signatures.md §1 NanoKVM HID-only row, §2 NanoKVM legacy EDID (PHL 342E2 clone, unconfirmed on "
             "units)",
             kvm(M, hw.nanokvm_hid_only, hw.NANOKVM_PHILIPS_CLONE)),
    Scenario("mac_blikvm", M, RELAY,
             "BliKVM: 1d6b:0106 'smart-kvm' with TinyPilot's serial, Toshiba-H2C TC358743 EDID",
             "kvm_signatures.md §1 BliKVM row, §2 TSB 0x8888 'Toshiba-H2C' (BliKVM today)",
             kvm(M, hw.blikvm, hw.TOSHIBA_H2C)),
]

SUSPICIOUS_ONES = [
    Scenario("win_anydesk_idle", W, SUSPICIOUS, "AnyDesk installed and running, no session",
             "indicators.md R1 (installed/running: M-S, FP M)", sw.anydesk_windows()),
    Scenario("win_teamviewer_installed_not_running", W, SUSPICIOUS,
             "TeamViewer installed (registry + service entry) but not running",
             "issue 3: installed-but-not-running is a lower-weight signal; indicators.md R1",
             sw.teamviewer_windows(running=False)),
    Scenario("win_chrome_remote_desktop_host", W, SUSPICIOUS,
             "Chrome Remote Desktop host (remoting_host.exe daemon + host) running, no session",
             "remote_tools.md §4 #3 (remoting_host.exe, service chromoting); indicators.md R1 [SOPH] CRD",
             sw.chrome_remote_desktop_windows()),
    Scenario("win_splashtop_idle", W, SUSPICIOUS, "Splashtop Streamer service and agent running, no session",
             "remote_tools.md §4 #5 (SRService/SRServer/SRAgent/SRManager)", sw.splashtop_windows()),
    Scenario("win_realvnc_listening", W, SUSPICIOUS, "RealVNC Server service listening on 5900, nobody connected",
             "remote_tools.md §4 #11 (RealVNC, 5900 listener)", sw.realvnc_server_windows()),
    Scenario("win_several_rmm_tools_idle", W, SUSPICIOUS,
             "AnyDesk, RustDesk and TeamViewer (installed, not running) on one laptop, no session",
             "indicators.md R2 (several remote-access tools) [SOPH][ELASTIC >=2 vendors]",
             sw.anydesk_windows() + sw.rustdesk_windows() + sw.teamviewer_windows(running=False)),
    Scenario("win_ngrok_tcp_3389", W, SUSPICIOUS,
             "RDP enabled and exposed through `ngrok tcp 3389` (agent API on 127.0.0.1:4040), no session yet",
             "remote_tools.md §4 tunnels (ngrok, 4040, cmdline `tcp 3389`); indicators.md V5",
             sw.ngrok_rdp_windows()),
    Scenario("win_cloudflared_tunnel", W, SUSPICIOUS, "cloudflared service running `tunnel run --token` to Cloudflare",
             "remote_tools.md §6 (cloudflared `tunnel run --token`); indicators.md V5", sw.cloudflared_windows()),
    Scenario("win_internet_connection_sharing", W, SUSPICIOUS,
             "Internet Connection Sharing on: IP forwarding, SharedAccess serving DHCP/DNS on 192.168.137.1",
             "indicators.md V6 (IP forwarding / ICS, inference, FP M)", sw.internet_sharing_windows()),
    Scenario("win_rdp_enabled_idle", W, SUSPICIOUS,
             "Remote Desktop switched on (TermService on 3389), nobody connected",
             "indicators.md R4 (RDP host enabled, port 3389: M / FP M)", sw.rdp_enabled_windows()),
    Scenario("win_fujitsu_bmc_remote_kvm", W, SUSPICIOUS,
             "A Fujitsu Component 0430:a101 remote keyboard and mouse (BMC-style console redirection) on a laptop",
             "kvm_signatures.md §1 Aspeed row (BMC virtual devices: Fujitsu Component 0430:a101..a113)",
             usb(hw.fujitsu_bmc_remote_kvm(W))),
    Scenario("linux_avocent_kvm_hub", L, SUSPICIOUS,
             "The hub of an Avocent KVM (04cc:1520) on the laptop's USB; Avocent also makes local desk switches",
             "kvm_signatures.md §1 Avocent row (04cc:1520 'USB 2.0 Hub (Avocent KVM)')",
             usb(hw.avocent_kvm_hub(L))),
    Scenario("win_jiggler_posing_as_logitech", W, SUSPICIOUS,
             "A DIY jiggler flashed with Logitech Bolt ids (046d:c548 'USB RECEIVER', serial 'USB RECEIVER'), "
             "one low-speed mouse interface",
             "kvm_signatures.md §5 (DIY Digispark jiggler README example ids/strings); indicators.md B2",
             usb(hw.diy_jiggler_as_logitech(W))),
    Scenario("win_mouse_jiggler_app", W, SUSPICIOUS, "MouseJiggle.exe running from Downloads, nothing else",
             "indicators.md B1 (arkane MouseJiggle.exe) [MAN][JIG]", sw.mouse_jiggler_windows()),
    Scenario("linux_frp_client", L, SUSPICIOUS, "frpc reverse proxy client connected to a VPS on 7000",
             "remote_tools.md §4 tunnels (frpc, frps 7000); indicators.md V5", sw.frpc_linux()),
    Scenario("linux_chisel_reverse_socks", L, SUSPICIOUS, "chisel client with R:socks to a VPS (reverse SOCKS)",
             "remote_tools.md §6 (chisel `-reverse`, `-socks5`); indicators.md V5", sw.chisel_linux()),
    Scenario("linux_ssh_reverse_tunnel", L, SUSPICIOUS,
             "A plain ssh client holding `-R 0.0.0.0:15900:localhost:5900` to a VPS (publishes a local VNC port)",
             "indicators.md V5 (tunnels); remote_tools.md §1 (SSH clients filed under tunnel for port forwarding)",
             sw.ssh_reverse_tunnel_linux()),
    Scenario("win_anydesk_browser_duplicate_idle", W, SUSPICIOUS,
             "Portable AnyDesk downloaded twice, so saved as `AnyDesk (1).exe`, running idle from Downloads",
             "remote_tools.md §6 (process names are trivially renamed; portable binaries run without install), "
             "§5 (a renamed tool should still raise); indicators.md R1",
             sw.anydesk_portable_windows(session=False, file_name="AnyDesk (1).exe")),
    Scenario("win_anydesk_renamed_signed", W, SUSPICIOUS,
             "Portable AnyDesk renamed `support-session.exe`, running idle; only its AnyDesk Software GmbH "
             "signature names it",
             "remote_tools.md §6 (code signature is the most robust identity; renamed binaries); indicators.md R1",
             sw.anydesk_portable_windows(session=False, file_name="support-session.exe")),
    Scenario("linux_meshcentral_agent", L, SUSPICIOUS,
             "MeshCentral agent in /usr/local/mesh_services/meshagent, running and connected to its server",
             "remote_tools.md §4 (MeshCentral, meshagent); remote_tools.json MeshCentral install_paths.linux",
             sw.meshcentral_agent_linux()),
    Scenario("win_plink_reverse_rdp", W, SUSPICIOUS,
             "PuTTY's plink holding `-R 0.0.0.0:13389:127.0.0.1:3389` to a VPS: the laptop's RDP published there",
             "remote_tools.md §2 (PuTTY/plink filed under tunnel for port forwarding); indicators.md V5, R4",
             sw.plink_reverse_rdp_windows()),
    Scenario("mac_ssh_joined_remote_forward", M, SUSPICIOUS,
             "ssh with `-oRemoteForward=2222 localhost:22` (option joined to -o) publishing the Mac's SSH on a VPS",
             "indicators.md V5 (tunnels); remote_tools.md §1 (SSH clients filed under tunnel for port forwarding)",
             sw.ssh_joined_remote_forward_macos()),
    Scenario("linux_tailscale_socks5_server", L, SUSPICIOUS,
             "tailscaled started with --socks5-server=0.0.0.0:1055: the laptop offers a SOCKS proxy",
             "remote_tools.md §4 tunnels (Tailscale `--socks5-server` / `--outbound-http-proxy-listen` flags)",
             sw.tailscale_socks_linux()),
    Scenario("linux_socks_proxy_listening", L, SUSPICIOUS,
             "Dante SOCKS server listening on 0.0.0.0:1080 with a client from a public address",
             "issue 3 heuristic: a proxy listening; indicators.md V5", sw.dante_socks_linux()),
    Scenario("linux_astrill_vpn", L, SUSPICIOUS, "Astrill VPN (astrill /autostart, asovpnc, asproxy) with tun0 up",
             "indicators.md V1 (Astrill: S, named in [MAN-POD], [SOPH], [LB]; Linux names "
             "[AST-L])", sw.astrill_linux()),
    Scenario("linux_rustdesk_idle", L, SUSPICIOUS, "RustDesk service, server and tray running, connected to rendezvous",
             "remote_tools.md §4 #4 (rustdesk --service/--server/--tray, 21116)", sw.rustdesk_linux()),
    Scenario("linux_teamviewer_idle", L, SUSPICIOUS, "teamviewerd and the TeamViewer GUI running, no session",
             "remote_tools.md §4 #2 (teamviewerd, 5938/5939)", sw.teamviewer_linux()),
    Scenario("linux_chrome_remote_desktop_host", L, SUSPICIOUS,
             "chrome-remote-desktop-host with its Xvfb virtual session, no client connected",
             "remote_tools.md §4 #3 (chrome-remote-desktop-host in /opt/google/chrome-remote-desktop)",
             sw.chrome_remote_desktop_linux()),
    Scenario("linux_hardware_jiggler", L, SUSPICIOUS, "A WiebeTech Mouse Jiggler MJ-1 (0e90:0028), nothing else",
             "kvm_signatures.md §5 (0e90:0028); indicators.md B2", usb(hw.wiebetech_jiggler(L))),
    Scenario("linux_ssh_from_internet", L, SUSPICIOUS,
             "OpenSSH server with an interactive login from a public address",
             "issue 3 heuristic: a remote login session; indicators.md R6", sw.ssh_server(L, sw.CONTROLLER)),
    Scenario("mac_astrill_vpn", M, SUSPICIOUS, "Astrill.app (com.Astrill.app) connected, utun up",
             "indicators.md V1; remote_tools.md §4 tunnels (pkg id com.Astrill.app)", sw.astrill_macos()),
    Scenario("mac_anydesk_idle_with_astrill", M, SUSPICIOUS,
             "AnyDesk running idle and Astrill connected: the pairing in the Mandiant case, but no live session",
             "indicators.md §2 #1 / remote_tools.md §1 ([MAN-POD]: both farm laptops ran AnyDesk via Astrill)",
             sw.anydesk_unix(M) + sw.astrill_macos()),
    Scenario("mac_internet_sharing", M, SUSPICIOUS,
             "Internet Sharing on: IP forwarding, bridge100, bootpd and natpmpd",
             "indicators.md V6 (macOS Internet Sharing, inference)", sw.internet_sharing_macos()),
    Scenario("mac_splashtop_idle", M, SUSPICIOUS, "Splashtop Streamer (daemon + agent) running, no session",
             "remote_tools.md §4 #5 (Splashtop Streamer, Team CPQQ3AW49Y)", sw.splashtop_macos()),
    Scenario("mac_teamviewer_idle", M, SUSPICIOUS, "TeamViewer.app in /Applications running, no session",
             "remote_tools.md §4 #2 (TeamViewer, Team H7UGFBUGV6)", sw.teamviewer_macos()),
    Scenario("mac_hdmi_capture_output", M, SUSPICIOUS,
             "The MacBook's HDMI goes into an MS2109S 'HD TO USB' capture dongle; no HID device attached",
             "kvm_signatures.md §3 variant 8 (HJW 0x2109 'HD TO USB'); indicators.md K8",
             screens(hw.external(M, hw.HD_TO_USB, "HDMI"))),
    Scenario("mac_chrome_remote_desktop_host", M, SUSPICIOUS,
             "Chrome Remote Desktop host (remoting_me2me_host under PrivilegedHelperTools) running, no client",
             "remote_tools.md §4 #3 (macOS remoting_me2me_host, launchd org.chromium.chromoting, Team EQHXZ8M8AV)",
             sw.chrome_remote_desktop_macos()),
    Scenario("mac_rustdesk_idle", M, SUSPICIOUS, "RustDesk.app service/server/tray running, connected to rendezvous",
             "remote_tools.md §4 #4 (com.carriez.rustdesk, Team HZF9JMC8YN, 21116)", sw.rustdesk_macos()),
    Scenario("win_todesk_service_only", W, SUSPICIOUS,
             "A Windows service running ToDesk_Service.exe, nothing else of ToDesk: found by the service's executable",
             "remote_tools.md §4 #25 (ToDesk.exe, ToDesk_Service.exe; no service name sourced)",
             sw.todesk_service_windows()),
    Scenario("mac_nomachine_server_idle", M, SUSPICIOUS,
             "NoMachine server on a Mac: nxd (listening on 4000) and nxserver running inside NoMachine.app, no session",
             "remote_tools.md §4 #10 (NoMachine: /Applications/NoMachine.app, launchd com.nomachine.server, 4000/tcp)",
             sw.nomachine_macos()),
    Scenario("mac_rustdesk_launchd_jobs_only", M, SUSPICIOUS,
             "RustDesk's launchd daemon and agent (com.carriez.RustDesk_service/_server) without the app bundle",
             "remote_tools.json RustDesk install_paths.macos (/Library/LaunchDaemons/com.carriez.RustDesk_service.plist, "
             "/Library/LaunchAgents/com.carriez.RustDesk_server.plist); remote_tools.md §4 #4",
             sw.rustdesk_macos_jobs()),
    Scenario("mac_remote_login_from_internet", M, SUSPICIOUS,
             "Remote Login on with an ssh session from a public address",
             "issue 3 heuristic: a remote login session", sw.ssh_server(M, sw.CONTROLLER)),
]

CLEAN_ONES = [
    Scenario("win_office_plain", W, CLEAN, "Office laptop: Chrome, Edge, Teams, Outlook, Zoom, Slack",
             "remote_tools.md §5 (plain chrome.exe is not Chrome Remote Desktop's remoting_host.exe)",
             benign.zoom_and_slack_windows()),
    Scenario("win_usbc_dock", W, CLEAN,
             "Dell WD19 dock: hubs, Realtek USB LAN, USB audio, Dell D2721H on DP, Logitech Bolt, YubiKey, C920",
             "kvm_signatures.md §8 (Logitech receiver and YubiKey are kbd+mouse composites; the real D2721H "
             "serial differs from JetKVM's preset)",
             usb(*hw.dell_wd19_dock(W), hw.logitech_bolt(W, "Port_#0001.Hub_#0006"),
                 hw.yubikey5(W, "Port_#0002.Hub_#0006"), hw.logitech_c920(W, "Port_#0003.Hub_#0006"))
             + screens(hw.external(W, hw.DELL_D2721H, "DP")) + benign.logi_options_windows()
             + nic("Ethernet 2", "c8:4b:d6:3e:70:15", "{lan_net}.61", "fe80::2d4e:a1c9:5b7f:8830")),
    Scenario("win_gamer_logitech_wheel", W, CLEAN,
             "Gamer: Logitech G29 wheel, G502 mouse (with a keyboard interface), LG 27GL850, Steam and G HUB",
             "kvm_signatures.md §8 (LG 27GL850 real EDID); HID composites without storage or network",
             usb(hw.logitech_g29(W), hw.logitech_g502(W)) + screens(hw.external(W, hw.LG_27GL850, "DP"))
             + benign.gaming_windows()),
    Scenario("win_rdp_client_outbound", W, CLEAN,
             "mstsc.exe connected out to a build server's 3389 over the company VPN",
             "remote_tools.md §2/§5 (RDP clients mean the laptop controls something else)", sw.rdp_client_windows()),
    Scenario("mac_screen_sharing_client_outbound", M, CLEAN,
             "The built-in Screen Sharing viewer (com.apple.ScreenSharing) connected out to a lab Mac's 5900",
             "remote_tools.json Apple Remote Desktop lists com.apple.ScreenSharing, the client; remote_tools.md §5",
             sw.screen_sharing_client_macos()),
    Scenario("mac_jump_desktop_viewer_outbound", M, CLEAN,
             "The Jump Desktop viewer (com.p5sys.jump.mac.viewer.web) connected out to a lab Mac's 5900",
             "remote_tools.md §4 #21 (host com.p5sys.jump.connect, viewer `Jump Desktop`), §5 (clients: the "
             "laptop controls something else)", sw.jump_desktop_viewer_macos()),
    Scenario("linux_remmina_client_outbound", L, CLEAN, "Remmina connected out to a lab machine's VNC server",
             "remote_tools.md §5 (Remmina is a client: the laptop controls something else)",
             sw.remmina_client_linux()),
    Scenario("win_wacom_tablet", W, CLEAN, "A Wacom Intuos pen tablet (absolute pointer HID) with its driver service",
             "kvm_signatures.md §4 (absolute pointers: tablets are legitimate, a KVM pairs one with a keyboard)",
             usb(hw.wacom_intuos(W)) + benign.wacom_windows()),
    Scenario("win_desk_kvm_switch", W, CLEAN,
             "A local ATEN CS682 desk KVM switch (emulated keyboard + mouse) sharing a Dell D2721H with a home PC",
             "kvm_signatures.md §1 ATEN row (0557:2213 CS682 is a local KVM switch, not an IP-KVM)",
             usb(hw.aten_cs682_desk_kvm(W)) + screens(hw.external(W, hw.DELL_D2721H, "HDMI"))),
    Scenario("mac_iphone_connected", M, CLEAN,
             "An iPhone on USB for charging and sync (PTP + usbmux + network interfaces)",
             "phones enumerate vendor network functions (indicators.md K5 FP note: phones tethering)",
             usb(hw.iphone(M))),
    Scenario("linux_android_usb_tethering", L, CLEAN,
             "A Pixel phone sharing its mobile data over USB (RNDIS) as a backup link",
             "indicators.md K5 (a USB network adapter: FP M, phones tethering); no HID on the device",
             usb(hw.pixel_tethering(L)) + benign.usb_tethering_linux()),
    Scenario("win_presenter_tv_hdmi", W, CLEAN, "Presenting PowerPoint on an LG TV over HDMI",
             "a TV's EDID names a real monitor maker (GSM), unlike a capture input",
             screens(hw.external(W, hw.LG_TV, "HDMI")) + benign.powerpoint_windows()),
    Scenario("win_streamer_cam_link", W, CLEAN, "Elgato Cam Link 4K capturing a camera into OBS (websocket on 4455)",
             "kvm_signatures.md §3 (Elgato Cam Link 4K 0fd9:0066 as benign look-alike)",
             usb(hw.elgato_cam_link_4k(W)) + benign.obs_windows()),
    Scenario("linux_docker_ssh_developer", L, CLEAN,
             "Developer: Docker (docker0 + compose bridge, IP forwarding on), sshd with a session from the LAN",
             "indicators.md V6 FP note (developers, VMs, Docker)",
             benign.docker_linux() + sw.ssh_server(L, "{lan_net}.57")),
    Scenario("win_vmware_virtualbox_host", W, CLEAN,
             "Developer: VMware Workstation and VirtualBox host adapters (VMnet1/VMnet8, Host-Only), IP forwarding on",
             "indicators.md V6 FP note (developers, VMs, Docker): Windows names the adapters, not vmnet*/vboxnet*",
             benign.vm_hosts_windows()),
    Scenario("mac_parallels_desktop_vm", M, CLEAN,
             "Parallels Desktop running a VM on its shared (vnic0) and host-only (vnic1) networks, IP forwarding on",
             "indicators.md V6 FP note (developers, VMs, Docker)",
             benign.parallels_macos()),
    Scenario("linux_vscode_localhost_forwards", L, CLEAN,
             "VS Code Remote-SSH (ssh -D on 127.0.0.1), an ssh -L forward and a vite dev server, all on loopback",
             "remote_tools.md §5 (developers' tunnels); loopback-only listeners reach nobody outside",
             benign.vscode_remote_linux()),
    Scenario("linux_jekyll_preview_lan_4000", L, CLEAN,
             "Jekyll serving a site on 0.0.0.0:4000 (NoMachine's port), viewed from a phone on the home LAN",
             "remote_tools.md §8 (a port is evidence of the tool that listens on it; NoMachine 4000 is sourced "
             "from a docker README); the socket belongs to ruby, not to a remote-control tool",
             benign.jekyll_preview_linux()),
    Scenario("linux_lenovo_dock", L, CLEAN,
             "ThinkPad USB-C Dock Gen2 (hubs, r8152 NIC, audio), Unifying receiver, YubiKey, LG 27GL850 on DP",
             "kvm_signatures.md §8 (docks enumerate many functions; Unifying receiver kbd+mouse)",
             usb(*hw.lenovo_usbc_dock_gen2(L), hw.logitech_unifying(L, "3-1.2"), hw.yubikey5(L, "3-1.3"))
             + screens(hw.external(L, hw.LG_27GL850, "DP"))
             + nic("enx0c3796b2d0e1", "0c:37:96:b2:d0:e1", "{lan_net}.63", "fe80::e37:96ff:feb2:d0e1")),
    Scenario("linux_office_plain", L, CLEAN, "The Ubuntu base as issued: Firefox, Slack, GNOME",
             "baseline: webcam, Bluetooth and fingerprint reader only; Firefox and Chrome are browsers, not remote "
             "tools"),
    Scenario("mac_office_plain", M, CLEAN, "The MacBook base as issued: Chrome, Slack, Teams, Outlook, Zoom",
             "baseline: the internal keyboard/trackpad is a kbd+mouse HID composite (T2)"),
    Scenario("mac_designer_capture_calibrated", M, CLEAN,
             "Designer: Elgato HD60 S+ capture card, EIZO CG2700X calibrated with ColorNavigator, Photoshop",
             "kvm_signatures.md §3/§8 (Elgato HD60 S+ 0fd9:006a benign look-alike)",
             usb(hw.elgato_hd60s_plus(M)) + screens(hw.external(M, hw.EIZO_CG2700X, "DP")) + benign.creative_macos()),
    Scenario("mac_caldigit_dock", M, CLEAN,
             "CalDigit TS4: VIA hubs, CalDigit Pro Audio, BenQ SW272U, Unifying receiver, YubiKey, C920",
             "kvm_signatures.md §8 (CalDigit 2188:4042)",
             usb(*hw.caldigit_ts4(M), hw.logitech_unifying(M, "0x02110000"), hw.yubikey5(M, "0x02120000"),
                 hw.logitech_c920(M, "0x02130000"))
             + screens(hw.external(M, hw.BENQ_SW272U, "DP"))),
    Scenario("mac_korean_layout_kst", M, CLEAN,
             "Korean employee: only the Korean 2-Set input source, Asia/Seoul time zone, ko_KR locale, KakaoTalk",
             "indicators.md L6 (no primary source ties a Korean IME to farms; FP: heritage speakers) and §6 #10",
             host(timezone="Asia/Seoul", utc_offset_minutes=540, locale="ko_KR",
                  keyboard_layouts=["com.apple.inputmethod.Korean.2SetKorean"]) + benign.kakaotalk_macos()),
]

ALLOWLISTED_ONES = [
    Scenario("win_teamviewer_helpdesk", W, ALLOWLISTED,
             "The company's TeamViewer in C:\\Program Files\\TeamViewer, running idle",
             "remote_tools.md §5 (IT's sanctioned remote support needs an allow-list)",
             sw.teamviewer_windows()),
    Scenario("mac_teamviewer_host_helpdesk", M, ALLOWLISTED,
             "The company's TeamViewer Host in /Applications/TeamViewerHost.app, running idle",
             "remote_tools.md §5; TeamViewerHost / com.teamviewer.TeamViewerHost in remote_tools.json",
             sw.teamviewer_macos("TeamViewerHost", "com.teamviewer.TeamViewerHost")),
]

SCENARIOS = RELAYS + SUSPICIOUS_ONES + CLEAN_ONES + ALLOWLISTED_ONES
