"""Software rules: remote-control tools running / installed / several / in session, tunnels, VPNs, jigglers."""

from __future__ import annotations

import pytest

from test_rules_support import application, findings, only, process, report, verdict

ANYDESK_EXE = r"C:\Program Files (x86)\AnyDesk\AnyDesk.exe"


# --- remote-control-running ----------------------------------------------------------------

def test_running_tool_is_named_with_its_process_and_signature():
    rep = report("windows", processes=[process(4120, "AnyDesk.exe", ANYDESK_EXE)])
    finding = only(rep, "remote-control-running")
    assert finding["severity"] == "high"
    assert finding["summary"] == f"AnyDesk is running ({ANYDESK_EXE})"
    assert finding["evidence"]["tool"]["id"] == "anydesk"
    seen = finding["evidence"]["seen"][0]
    assert seen["object"] == {"pid": 4120, "name": "AnyDesk.exe", "exe": ANYDESK_EXE}
    assert seen["signature"]["field"] == "processes.windows"
    assert seen["signature"]["source"].startswith("magicsword-io/LOLRMM")


def test_chrome_is_not_chrome_remote_desktop():
    rep = report("linux", processes=[process(10, "chrome", "/opt/google/chrome/chrome"),
                                     process(11, "chrome_crashpad", "/opt/google/chrome/chrome_crashpad_handler")])
    assert findings(rep, "remote-control-running") == []


def test_chrome_remote_desktop_host_is_found_even_with_a_truncated_linux_name():
    exe = "/opt/google/chrome-remote-desktop/chrome-remote-desktop-host"
    rep = report("linux", processes=[process(77, "chrome-remote-d", exe, [exe, "--audio-pipe-name=x"])])
    finding = only(rep, "remote-control-running")
    assert finding["evidence"]["tool"]["id"] == "chrome-remote-desktop"


@pytest.mark.parametrize("name, tool_id", [("g2mcomm.exe", "goto-meeting"), ("G2MStart.exe", "goto-meeting"),
                                            ("ZohoMeeting.exe", "zoho-meeting")])
def test_meeting_apps_filed_under_remote_access_tools_weigh_low(name, tool_id):
    """GoTo Meeting's G2M*.exe and Zoho Meeting sit inside LOLRMM's GoToMyPC / Zoho Assist lists
    (docs/detection.md §T5 Meetings): a meeting attendee is not a GoToMyPC host."""
    exe = rf"C:\Users\a\AppData\Local\Meeting\{name}"
    finding = only(report("windows", processes=[process(40, name, exe)]), "remote-control-running")
    assert (finding["evidence"]["tool"]["id"], finding["severity"]) == (tool_id, "low")


@pytest.mark.parametrize("name, tool_id", [("g2svc.exe", "gotomypc"), ("g2mainh.exe", "gotomypc"),
                                            ("GoToResolveService.exe", "goto-resolve-gotoassist"),
                                            ("ZAService.exe", "zoho-assist")])
def test_the_remote_access_hosts_of_those_vendors_stay_high(name, tool_id):
    finding = only(report("windows", processes=[process(41, name, rf"C:\Program Files\Vendor\{name}")]),
                   "remote-control-running")
    assert (finding["evidence"]["tool"]["id"], finding["severity"]) == (tool_id, "high")


def test_a_name_containing_a_tool_name_is_not_the_tool():
    rep = report("windows", processes=[process(5, "anydesk-cleanup.exe", r"C:\Tools\anydesk\anydesk-cleanup.exe")])
    assert findings(rep, "remote-control-running") == []


def test_names_are_matched_per_os():
    # "teamviewerd" is the Linux daemon's name; on Windows the same string names nothing in the catalogue
    assert findings(report("windows", processes=[process(9, "teamviewerd")]), "remote-control-running") == []
    assert len(findings(report("linux", processes=[process(9, "teamviewerd")]), "remote-control-running")) == 1


def test_generic_names_match_only_inside_the_tools_folder():
    # LOLRMM lists Parsec's bundled "teams.exe"; Microsoft Teams has the same name
    teams = r"C:\Users\a\AppData\Local\Microsoft\Teams\current\Teams.exe"
    elsewhere = report("windows", processes=[process(3, "Teams.exe", teams)])
    assert findings(elsewhere, "remote-control-running") == []
    inside = report("windows", processes=[process(3, "teams.exe", r"C:\Program Files\Parsec\teams.exe")])
    found = only(inside, "remote-control-running")
    assert found["evidence"]["tool"]["id"] == "parsec"
    assert found["evidence"]["seen"][0]["signature"]["field"] == "ambiguous_processes"


def test_management_agents_weigh_little_and_viewers_nothing():
    zabbix = r"C:\Program Files\Zabbix Agent\zabbix_agentd.exe"
    agent = report("windows", processes=[process(8, "zabbix_agentd.exe", zabbix)])
    assert only(agent, "remote-control-running")["severity"] == "low"
    viewer = report("windows", processes=[process(8, "mstsc.exe", r"C:\Windows\System32\mstsc.exe")])
    assert findings(viewer, "remote-control-running") == []


@pytest.mark.parametrize("name, exe, tool_id", [
    ("action1_remote.exe", r"C:\Windows\Action1\action1_remote.exe", "action1"),
    ("NinjaRMMAgent.exe", r"C:\Program Files (x86)\NinjaRMMAgent\NinjaRMMAgent.exe", "ninjaone-ninjarmm"),
    ("ltsvc.exe", r"C:\Windows\LTSvc\ltsvc.exe", "connectwise-automate-labtech"),
    ("tacticalrmm.exe", r"C:\Program Files\TacticalAgent\tacticalrmm.exe", "tactical-rmm"),
])
def test_rmm_agents_that_can_take_over_the_desktop_weigh_as_remote_control(name, exe, tool_id):
    """An RMM whose vendor documents remote desktop control is a remote-control tool (issue 14: Action1
    beside the company's Intune was clean); the company allow-lists its own."""
    rep = report("windows", processes=[process(8, name, exe)])
    finding = only(rep, "remote-control-running")
    assert (finding["evidence"]["tool"]["id"], finding["severity"]) == (tool_id, "medium")
    assert verdict(rep)["verdict"] == "suspicious"


def test_one_product_matched_by_two_catalogue_entries_is_reported_once():
    folder = r"C:\Program Files\RealVNC\VNC Server"
    rep = report("windows", processes=[process(20, "vncserver.exe", folder + r"\vncserver.exe")],
                 applications=[application("VNC Server 7.12.1", folder)])
    evidence = only(rep, "remote-control-running")["evidence"]
    # the generic entry by name, RealVNC's by its install folder: one product
    assert {evidence["tool"]["id"], *evidence["same_product_as"]} == {"vnc", "realvnc-vnc-connect"}
    assert findings(rep, "remote-control-installed") == []
    assert findings(rep, "multiple-remote-control-tools") == []


# --- remote-control-installed --------------------------------------------------------------

def test_installed_but_not_running_weighs_less_than_running():
    rep = report("windows", applications=[application("TeamViewer 15", r"C:\Program Files\TeamViewer")])
    finding = only(rep, "remote-control-installed")
    assert finding["severity"] == "medium"
    assert finding["summary"] == r"TeamViewer is installed but not running (C:\Program Files\TeamViewer)"
    assert finding["evidence"]["seen"][0]["signature"]["field"] == "app_names"


def test_installed_is_silent_when_the_tool_runs_and_for_os_builtins():
    running = report("windows", processes=[process(4120, "AnyDesk.exe", ANYDESK_EXE)],
                     applications=[application("AnyDesk", r"C:\Program Files (x86)\AnyDesk")])
    assert findings(running, "remote-control-installed") == []
    builtin = report("windows", applications=[application("TermService", source="service")])
    assert findings(builtin, "remote-control-installed") == []


@pytest.mark.parametrize("service, executable, tool", [
    ("ToDesk_Service", r"C:\Program Files\ToDesk\ToDesk_Service.exe", "todesk"),              # by its executable's name
    ("nxservice", r"C:\Program Files (x86)\NoMachine\bin\nxservice64.exe", "nomachine"),     # by a name glob
    ("SomeHelper", r"C:\Program Files\Parsec\helper.exe", "parsec"),                          # in the tool's own folder
])
def test_a_service_is_the_tool_whose_executable_it_runs(service, executable, tool):
    rep = report("windows", applications=[application(service, executable, source="service")])
    finding = only(rep, "remote-control-installed")
    assert finding["evidence"]["tool"]["id"] == tool
    assert finding["evidence"]["seen"][0]["how"] == "service"


def test_a_service_running_an_unknown_or_generic_executable_is_no_tool():
    generic = application("Agent", r"C:\Windows\System32\agent.exe", source="service")  # ambiguous outside the tool's folder
    other = application("Zscaler", r"C:\Program Files\Zscaler\ZSAService\ZSAService.exe", source="service")
    assert findings(report("windows", applications=[generic, other]), "remote-control-installed") == []


def test_services_and_bundle_ids_count_as_installed():
    service = report("linux", applications=[application("rustdesk.service", source="systemd")])
    assert only(service, "remote-control-installed")["evidence"]["seen"][0]["how"] == "service"
    bundle = report("macos", applications=[application("Remote Helper", "/Applications/Remote Helper.app",
                                                       source="app_bundle", bundle_id="com.carriez.rustdesk")])
    assert only(bundle, "remote-control-installed")["evidence"]["tool"]["id"] == "rustdesk"


# --- multiple-remote-control-tools ---------------------------------------------------------

def test_several_vendors_on_one_laptop():
    rep = report("windows", processes=[process(1, "AnyDesk.exe", ANYDESK_EXE),
                                       process(2, "rustdesk.exe", r"C:\Program Files\RustDesk\rustdesk.exe")],
                 applications=[application("Splashtop Streamer", r"C:\Program Files (x86)\Splashtop\Splashtop Remote")])
    finding = only(rep, "multiple-remote-control-tools")
    assert finding["severity"] == "high"
    assert finding["summary"] == "3 different remote-control tools on one laptop: AnyDesk, RustDesk, Splashtop"
    assert finding["evidence"]["running"] == ["anydesk", "rustdesk"]


def test_one_vendor_is_not_several():
    rep = report("windows", processes=[process(1, "AnyDesk.exe", ANYDESK_EXE), process(2, "AnyDeskMSI.exe")])
    assert findings(rep, "multiple-remote-control-tools") == []


# --- remote-session-active -----------------------------------------------------------------

def test_teamviewer_incoming_session_marker():
    exe = r"C:\Program Files\TeamViewer\TeamViewer_Desktop.exe"
    rep = report("windows", processes=[process(30, "TeamViewer_Desktop.exe", exe, [exe, "--IPCport", "5939", "--Module", "1"])])
    finding = only(rep, "remote-session-active")
    assert finding["severity"] == "critical"
    assert finding["evidence"]["session_signs"][0]["args"] == "--module 1"


def test_teamviewer_other_module_is_not_a_session():
    exe = r"C:\Program Files\TeamViewer\TeamViewer_Desktop.exe"
    rep = report("windows", processes=[process(30, "TeamViewer_Desktop.exe", exe, [exe, "--IPCport", "5939", "--Module", "12"])])
    assert findings(rep, "remote-session-active") == []


# --- tunnel-running ------------------------------------------------------------------------

def test_tunnel_tool_is_medium_and_high_when_it_publishes_a_desktop_port():
    plain = report("windows", processes=[process(40, "ngrok.exe", r"C:\tools\ngrok.exe", ["ngrok", "http", "8000"])])
    assert only(plain, "tunnel-running")["severity"] == "medium"
    rdp = report("windows", processes=[process(40, "ngrok.exe", r"C:\tools\ngrok.exe", ["ngrok", "tcp", "3389"])])
    finding = only(rdp, "tunnel-running")
    assert finding["severity"] == "high"
    assert finding["evidence"]["exposes_remote_desktop_ports"] == [3389]


def test_ssh_clients_are_not_tunnels_here():
    rep = report("windows", processes=[process(41, "putty.exe", r"C:\Program Files\PuTTY\putty.exe")])
    assert findings(rep, "tunnel-running") == []


# --- vpn-client ----------------------------------------------------------------------------

def test_astrill_is_strong_even_when_only_installed():
    rep = report("macos", applications=[application("Astrill", "/Applications/Astrill.app", source="app_bundle")])
    finding = only(rep, "vpn-client")
    assert finding["severity"] == "high"
    assert finding["evidence"]["tool"]["id"] == "astrill-vpn"


def test_vpn_names_match_whole_names_only():
    rep = report("macos", applications=[application("Astrill Notes", "/Applications/Astrill Notes.app", source="app_bundle")],
                 processes=[process(51, "astrill-sync", "/usr/local/bin/astrill-sync")])
    assert findings(rep, "vpn-client") == []


def test_corporate_mesh_vpn_is_weak():
    rep = report("linux", processes=[process(50, "tailscaled", "/usr/sbin/tailscaled")])
    assert only(rep, "vpn-client")["severity"] == "low"


# --- jiggler-software ----------------------------------------------------------------------

def test_jiggler_software():
    rep = report("windows", processes=[process(60, "MouseJiggle.exe", r"C:\Users\a\Downloads\MouseJiggle.exe")])
    assert only(rep, "jiggler-software")["summary"].startswith("Mouse-jiggler software Mouse Jiggler")
    other = report("windows", processes=[process(60, "MouseJigglePlanner.exe")])
    assert findings(other, "jiggler-software") == []


def test_viewer_side_identifiers_of_host_tools_are_not_matched():
    viewer = "/System/Library/CoreServices/Applications/Screen Sharing.app/Contents/MacOS/Screen Sharing"
    rep = report("macos", processes=[process(44, "Screen Sharing", viewer, bundle_id="com.apple.ScreenSharing")],
                 applications=[application("VNC Viewer", "/Applications/VNC Viewer.app", source="app_bundle",
                                           bundle_id="com.realvnc.vncviewer")])
    assert findings(rep, "remote-control-running") == []
    assert findings(rep, "remote-control-installed") == []


def test_jump_desktop_viewer_is_not_the_host():
    app = "/Applications/Jump Desktop.app"
    viewer = process(45, "Jump Desktop", app + "/Contents/MacOS/Jump Desktop", bundle_id="com.p5sys.jump.mac.viewer.web")
    unnamed = process(46, "Jump Desktop", app + "/Contents/MacOS/Jump Desktop")   # no bundle id reported
    for proc in (viewer, unnamed):
        assert findings(report("macos", processes=[proc]), "remote-control-running") == []
    host = process(47, "JumpConnect", "/Library/Application Support/Jump Desktop/Connect/JumpConnect",
                   bundle_id="com.p5sys.jump.connect")
    assert only(report("macos", processes=[host]), "remote-control-running")["evidence"]["tool"]["id"] == "jump-desktop"


# --- renamed binaries, install folders, signers --------------------------------------------

@pytest.mark.parametrize("name", ["AnyDesk (1).exe", "AnyDesk(2).exe", "AnyDesk 8.1.0.exe", "anydesk_v8.exe"])
def test_a_download_renamed_by_the_browser_or_a_version_is_still_the_tool(name):
    exe = rf"C:\Users\a\Downloads\{name}"
    finding = only(report("windows", processes=[process(70, name, exe)]), "remote-control-running")
    assert finding["evidence"]["tool"]["id"] == "anydesk"
    assert finding["evidence"]["seen"][0]["signature"] == {"field": "processes.windows", "value": "anydesk.exe",
                                                           "source": finding["evidence"]["seen"][0]["signature"]["source"]}


def test_a_binary_signed_by_the_one_vendor_of_a_tool_is_that_tool_whatever_its_name():
    proc = process(71, "invoice.exe", r"C:\Users\a\Downloads\invoice.exe", signer="AnyDesk Software GmbH")
    seen = only(report("windows", processes=[proc]), "remote-control-running")["evidence"]["seen"][0]
    assert seen["signature"]["field"] == "signers"
    assert seen["signature"]["value"] == "AnyDesk Software GmbH"


@pytest.mark.parametrize("signer", ["Google LLC", "Microsoft Corporation", "ConnectWise, LLC", "Zscaler, Inc.",
                                    "Parallels International GmbH"])
def test_generic_and_shared_signers_name_no_tool(signer):
    # Google signs Chrome as well as Chrome Remote Desktop; ConnectWise signs two catalogued tools
    proc = process(72, "helper.exe", r"C:\Program Files\Vendor\helper.exe", signer=signer)
    assert findings(report("windows", processes=[proc]), "remote-control-running") == []


def test_a_process_inside_a_tools_own_folder_is_the_tool():
    exe = "/usr/local/mesh_services/meshagent/meshagent"
    finding = only(report("linux", processes=[process(80, "meshagent", exe)]), "remote-control-running")
    assert finding["evidence"]["tool"]["id"] == "meshcentral"
    assert finding["evidence"]["seen"][0]["signature"]["field"] == "install_paths.linux"


@pytest.mark.parametrize("os, exe", [
    ("linux", "/usr/bin/bash"), ("linux", "/usr/local/bin/node"), ("linux", "/opt/google/chrome/chrome"),
    ("windows", r"C:\Windows\System32\svchost.exe"), ("windows", r"C:\Program Files\Google\Chrome\Application\chrome.exe"),
    ("windows", r"C:\Users\a\AppData\Local\Temp\setup.exe"), ("windows", r"C:\ProgramData\Microsoft\Windows Defender\MsMpEng.exe"),
    ("macos", "/Applications/Safari.app/Contents/MacOS/Safari"),
    ("macos", "/Library/Application Support/Jamf/bin/jamfAgent"),
])
def test_ordinary_program_folders_name_no_tool(os, exe):
    name = exe.replace("\\", "/").rsplit("/", 1)[-1]
    assert findings(report(os, processes=[process(81, name, exe)]), "remote-control-running") == []


def test_a_viewer_inside_a_host_tools_folder_is_not_the_host():
    # RealVNC's viewer is catalogued as the client side; its folder sits beside VNC Server's
    exe = r"C:\Program Files\RealVNC\VNC Server\vncviewer.exe"
    assert findings(report("windows", processes=[process(82, "vncviewer.exe", exe)]), "remote-control-running") == []


def test_a_vendors_signature_on_its_viewer_does_not_make_the_viewer_the_host():
    """RealVNC signs VNC Viewer as it signs VNC Server: the signer names the vendor, the name says viewer."""
    exe = r"C:\Program Files\RealVNC\VNC Viewer\vncviewer.exe"
    viewer = process(83, "vncviewer.exe", exe, signer="RealVNC Limited")
    assert findings(report("windows", processes=[viewer]), "remote-control-running") == []
    server = process(84, "vncserver.exe", r"C:\Program Files\RealVNC\VNC Server\vncserver.exe", signer="RealVNC Limited")
    assert only(report("windows", processes=[server]), "remote-control-running")["evidence"]["tool"]["id"] in {
        "realvnc-vnc-connect", "vnc"}


@pytest.mark.parametrize("os, proc, app", [
    ("windows", process(85, "strwinclt.exe", r"C:\Program Files (x86)\Splashtop\Splashtop Remote\Client for STB\strwinclt.exe",
                        signer="Splashtop Inc."),
     application("Splashtop Business", r"C:\Program Files (x86)\Splashtop\Splashtop Remote\Client for STB")),
    ("macos", process(86, "Splashtop Business", "/Applications/Splashtop Business.app/Contents/MacOS/Splashtop Business",
                      bundle_id="com.splashtop.stb.macosx"),
     application("Splashtop Business", "/Applications/Splashtop Business.app", source="app_bundle",
                 bundle_id="com.splashtop.stb.macosx")),
])
def test_splashtop_business_is_the_app_one_connects_from(os, proc, app):
    """Splashtop's Business (and Personal) app is the viewer; the Streamer is what is connected to."""
    job = application("com.splashtop.stb.macosx.helper.autoupdate", source="launchd",
                      path="/Library/LaunchAgents/com.splashtop.stb.macosx.helper.autoupdate.plist")
    rep = report(os, processes=[proc], applications=[app, job])
    assert findings(rep, "remote-control-running") == [] and findings(rep, "remote-control-installed") == []
    streamer = process(87, "SRService.exe", r"C:\Program Files (x86)\Splashtop\Splashtop Remote\Server\SRService.exe",
                       signer="Splashtop Inc.")
    assert only(report("windows", processes=[streamer]), "remote-control-running")["evidence"]["tool"]["id"] == "splashtop"


@pytest.mark.parametrize("os, app", [
    ("windows", application("Chrome Remote Desktop", "", publisher="Google\\Chrome")),
    ("macos", application("Chrome Remote Desktop", "/Users/a/Applications/Chrome Apps.localized/Chrome Remote Desktop.app",
                          source="app_bundle", bundle_id="com.google.Chrome.app.inomeogfingihgjfjlpeplalcfajhgai")),
])
def test_the_chrome_remote_desktop_web_client_installed_as_an_app_is_no_host(os, app):
    """Chrome lists an installed web app under its own name; the host installs as 'Chrome Remote Desktop Host'."""
    assert findings(report(os, applications=[app]), "remote-control-installed") == []
    host = application("Chrome Remote Desktop Host", r"C:\Program Files (x86)\Google\Chrome Remote Desktop")
    assert only(report("windows", applications=[host]), "remote-control-installed")["evidence"]["tool"]["id"] == \
        "chrome-remote-desktop"


def test_intune_remote_help_is_the_companys_channel_and_weighs_low():
    """Remote Help's helper signs in to the company's tenant with an Intune role (docs/detection.md §T5)."""
    app = "/Applications/Microsoft Remote Help.app"
    rep = report("macos", processes=[process(88, "Microsoft Remote Help", app + "/Contents/MacOS/Microsoft Remote Help",
                                             bundle_id="com.microsoft.remotehelp")],
                 applications=[application("Microsoft Remote Help", app, source="app_bundle")])
    assert only(rep, "remote-control-running")["severity"] == "low"
    assert verdict(rep)["verdict"] == "clean"


def test_tightvncs_server_is_named_tightvnc_not_tigervnc():
    """LOLRMM files tvnserver.exe and TightVNC's folder under TigerVNC too (docs/detection.md §T7 collisions)."""
    exe = r"C:\Program Files\TightVNC\tvnserver.exe"
    rep = report("windows", processes=[process(89, "tvnserver.exe", exe, ["tvnserver.exe", "-service"])])
    finding = only(rep, "remote-control-running")
    assert finding["evidence"]["tool"]["id"] == "tightvnc" and "same_product_as" not in finding["evidence"]


def test_jump_desktop_on_windows_is_the_viewer_and_jump_desktop_connect_the_host():
    folder = r"C:\Program Files (x86)\Phase Five Systems" + "\\"
    viewer = process(90, "JumpDesktop.exe", folder + r"Jump Desktop\JumpDesktop.exe", signer="Phase Five Systems LLC")
    assert findings(report("windows", processes=[viewer]), "remote-control-running") == []
    host = process(91, "JumpService.exe", folder + r"Jump Desktop Connect\JumpService.exe", signer="Phase Five Systems LLC")
    assert only(report("windows", processes=[host]), "remote-control-running")["evidence"]["tool"]["id"] == "jump-desktop"
