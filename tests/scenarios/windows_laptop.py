"""The Windows 11 base: a Lenovo ThinkPad X1 Carbon Gen 11 issued to an office employee."""

from __future__ import annotations

from edid import MonitorSpec, WUXGA_60
from parts import App, Conn, Delta, Identity, Listen, Login, NetIface, Proc, Screen, Usb, iface

SYSTEM = "NT AUTHORITY\\SYSTEM"
LOCAL_SERVICE = "NT AUTHORITY\\LOCAL SERVICE"
NETWORK_SERVICE = "NT AUTHORITY\\NETWORK SERVICE"
SYS32 = "C:\\Windows\\System32\\"
PF = "C:\\Program Files\\"
PF86 = "C:\\Program Files (x86)\\"
LOCALAPP = "{home}\\AppData\\Local\\"

IDENTITY = Identity(
    os="windows", os_version="10.0.22631", arch="x86_64", hardware_model="LENOVO 21HMCTO1WW",
    serial_prefix="PF", serial_length=8, hostname_format="ACME-{serial}", login="mrivera",
    account="ACME\\mrivera", home="C:\\Users\\mrivera", timezone="America/Chicago",
    utc_offset_minutes=-360, locale="en-US", keyboard_layouts=("00000409",),
    mac_oui="a4:c3:f0", wifi_interface="Wi-Fi",
)

# (svchost group, service, account): one svchost.exe per service, as Windows 11 runs them.
SVCHOST_SERVICES = [
    ("DcomLaunch", "DcomLaunch", SYSTEM), ("DcomLaunch", "PlugPlay", SYSTEM), ("DcomLaunch", "Power", SYSTEM),
    ("RPCSS", "RpcEptMapper", NETWORK_SERVICE), ("RPCSS", "RpcSs", NETWORK_SERVICE),
    ("DcomLaunch", "LSM", SYSTEM), ("netsvcs", "gpsvc", SYSTEM), ("netsvcs", "ProfSvc", SYSTEM),
    ("netsvcs", "Schedule", SYSTEM), ("netsvcs", "UserManager", SYSTEM), ("netsvcs", "Themes", SYSTEM),
    ("netsvcs", "SENS", SYSTEM), ("netsvcs", "Winmgmt", SYSTEM), ("netsvcs", "iphlpsvc", SYSTEM),
    ("netsvcs", "ShellHWDetection", SYSTEM), ("netsvcs", "SessionEnv", SYSTEM), ("netsvcs", "lfsvc", SYSTEM),
    ("netsvcs", "wlidsvc", SYSTEM), ("netsvcs", "BITS", SYSTEM), ("netsvcs", "wuauserv", SYSTEM),
    ("netsvcs", "UsoSvc", SYSTEM), ("netsvcs", "DsmSvc", SYSTEM), ("netsvcs", "Appinfo", SYSTEM),
    ("LocalServiceNetworkRestricted", "Dhcp", LOCAL_SERVICE),
    ("LocalServiceNetworkRestricted", "EventLog", LOCAL_SERVICE),
    ("LocalServiceNetworkRestricted", "lmhosts", LOCAL_SERVICE),
    ("LocalServiceNetworkRestricted", "WinHttpAutoProxySvc", LOCAL_SERVICE),
    ("LocalServiceNetworkRestricted", "AudioEndpointBuilder", SYSTEM),
    ("LocalServiceNoNetworkFirewall", "BFE", LOCAL_SERVICE), ("LocalServiceNoNetworkFirewall", "mpssvc", LOCAL_SERVICE),
    ("LocalServiceNoNetwork", "DPS", LOCAL_SERVICE), ("LocalSystemNetworkRestricted", "SysMain", SYSTEM),
    ("LocalSystemNetworkRestricted", "TrkWks", SYSTEM), ("LocalSystemNetworkRestricted", "hidserv", SYSTEM),
    ("LocalSystemNetworkRestricted", "TabletInputService", SYSTEM),
    ("LocalSystemNetworkRestricted", "WdiSystemHost", SYSTEM), ("LocalService", "nsi", LOCAL_SERVICE),
    ("LocalService", "EventSystem", LOCAL_SERVICE), ("LocalService", "W32Time", LOCAL_SERVICE),
    ("LocalService", "FontCache", LOCAL_SERVICE), ("LocalService", "netprofm", LOCAL_SERVICE),
    ("LocalService", "bthserv", LOCAL_SERVICE), ("LocalService", "CDPSvc", LOCAL_SERVICE),
    ("LocalService", "SSDPSRV", LOCAL_SERVICE), ("LocalService", "WdiServiceHost", LOCAL_SERVICE),
    ("LocalServiceAndNoImpersonation", "FDResPub", LOCAL_SERVICE),
    ("NetworkService", "Dnscache", NETWORK_SERVICE), ("NetworkService", "NlaSvc", NETWORK_SERVICE),
    ("NetworkService", "LanmanWorkstation", NETWORK_SERVICE), ("NetworkService", "CryptSvc", NETWORK_SERVICE),
    ("NetworkService", "DoSvc", NETWORK_SERVICE), ("appmodel", "StateRepository", SYSTEM),
    ("appmodel", "camsvc", SYSTEM), ("appmodel", "AppXSvc", SYSTEM), ("utcsvc", "DiagTrack", SYSTEM),
    ("UnistackSvcGroup", "WpnUserService_3c9e1", "{account}"), ("UnistackSvcGroup", "CDPUserSvc_3c9e1", "{account}"),
    ("UnistackSvcGroup", "OneSyncSvc_3c9e1", "{account}"), ("UnistackSvcGroup", "cbdhsvc_3c9e1", "{account}"),
    ("WbioSvcGroup", "WbioSrvc", SYSTEM), ("wsappx", "ClipSVC", SYSTEM), ("NetSvcs", "WpnService", SYSTEM),
    ("netsvcs", "IKEEXT", SYSTEM), ("netsvcs", "SstpSvc", LOCAL_SERVICE), ("netsvcs", "Wcmsvc", LOCAL_SERVICE),
    ("LocalSystemNetworkRestricted", "WlanSvc", SYSTEM), ("LocalServiceNetworkRestricted", "WFDSConMgrSvc",
     LOCAL_SERVICE),
    ("LocalServiceNoNetwork", "PolicyAgent", NETWORK_SERVICE), ("smphost", "smphost", NETWORK_SERVICE),
    ("print", "PrintWorkflowUserSvc_3c9e1", "{account}"), ("DevicesFlow", "DevicesFlowUserSvc_3c9e1", "{account}"),
    ("LocalService", "DispBrokerDesktopSvc", LOCAL_SERVICE), ("LocalSystemNetworkRestricted", "StorSvc", SYSTEM),
    ("netsvcs", "TokenBroker", SYSTEM), ("NetworkServiceNetworkRestricted", "LanmanServer", SYSTEM),
    ("LocalService", "TimeBrokerSvc", LOCAL_SERVICE), ("netsvcs", "InstallService", SYSTEM),
]


def svchost(group: str, service: str, user: str) -> Proc:
    return Proc(SYS32 + "svchost.exe", ("-k", group, "-p", "-s", service), user=user, parent="services.exe",
                key=f"svchost.exe#{service}", started=9, argv0="C:\\WINDOWS\\system32\\svchost.exe")


def _kernel_and_session() -> tuple[Proc, ...]:
    return (
        Proc("", name="System Idle Process", user=SYSTEM, started=0, hide_exe=True),
        Proc("", name="System", user=SYSTEM, parent="System Idle Process", started=0, hide_exe=True),
        Proc("", name="Registry", user=SYSTEM, parent="System", started=0, hide_exe=True),
        Proc(SYS32 + "smss.exe", user=SYSTEM, parent="System", started=1, hide_exe=True),
        Proc(SYS32 + "csrss.exe", user=SYSTEM, key="csrss.exe#0", started=3, hide_exe=True),
        Proc(SYS32 + "wininit.exe", user=SYSTEM, started=3),
        Proc(SYS32 + "csrss.exe", user=SYSTEM, key="csrss.exe#1", started=3, hide_exe=True),
        Proc(SYS32 + "winlogon.exe", user=SYSTEM, started=3),
        Proc(SYS32 + "services.exe", user=SYSTEM, parent="wininit.exe", started=4, hide_exe=True),
        Proc(SYS32 + "LsaIso.exe", user=SYSTEM, parent="wininit.exe", started=4, hide_exe=True),
        Proc(SYS32 + "lsass.exe", user=SYSTEM, parent="wininit.exe", started=4, hide_exe=True),
        Proc(SYS32 + "fontdrvhost.exe", user="Font Driver Host\\UMFD-0", parent="wininit.exe", key="fontdrvhost.exe#0",
             started=4),
        Proc(SYS32 + "fontdrvhost.exe", user="Font Driver Host\\UMFD-1", parent="winlogon.exe",
             key="fontdrvhost.exe#1", started=4),
        Proc(SYS32 + "dwm.exe", user="Window Manager\\DWM-1", parent="winlogon.exe", started=5),
        Proc("", name="Memory Compression", user=SYSTEM, parent="System", started=6, hide_exe=True),
    )


def _system_services() -> tuple[Proc, ...]:
    svc = {"parent": "services.exe", "user": SYSTEM, "started": 12}
    return (
        Proc(SYS32 + "spoolsv.exe", **svc),
        Proc("C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MsMpEng.exe", hide_exe=True,
             **svc, signer="Microsoft Windows Publisher"),
        Proc("C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\NisSrv.exe",
             parent="services.exe", user=LOCAL_SERVICE, started=14),
        Proc(SYS32 + "SecurityHealthService.exe", **svc),
        Proc(SYS32 + "SearchIndexer.exe", ("/Embedding",), **svc),
        Proc(SYS32 + "wlanext.exe", **svc),
        Proc(SYS32 + "conhost.exe", ("0x4",), user=SYSTEM, parent="wlanext.exe", started=12),
        Proc(SYS32 + "DriverStore\\FileRepository\\iigd_dch.inf_amd64_3a7d9c1e2b5f4e60\\IntelCpHDCPSvc.exe", **svc),
        Proc(SYS32 + "DriverStore\\FileRepository\\iigd_dch.inf_amd64_3a7d9c1e2b5f4e60\\IntelCpHeciSvc.exe", **svc),
        Proc(SYS32 + "DriverStore\\FileRepository\\iigd_dch.inf_amd64_3a7d9c1e2b5f4e60\\igfxCUIServiceN.exe", **svc),
        Proc(SYS32 + "DriverStore\\FileRepository\\heci.inf_amd64_9f6f4ba5c4a4e3b1\\x64\\TPMProvisioningService.exe",
             **svc),
        Proc(SYS32 + "DriverStore\\FileRepository\\dptf_cpu.inf_amd64_0b8b6c1c9b0d2f55\\esif_uf.exe", **svc),
        Proc(PF86 + "Intel\\Intel(R) Management Engine Components\\iCLS\\jhi_service.exe", **svc),
        Proc(PF86 + "Intel\\Intel(R) Management Engine Components\\LMS\\LMS.exe", **svc),
        Proc(SYS32 + "DriverStore\\FileRepository\\realtekservice.inf_amd64_6c2bb0a2d4f1f3b2\\RtkAudUService64.exe",
             **svc, key="RtkAudUService64.exe#svc"),
        Proc(SYS32 + "DriverStore\\FileRepository\\ibtusb.inf_amd64_58f7c8e7a1b2c3d4\\ibtsiva.exe", **svc),
        Proc(PF86 + "Lenovo\\VantageService\\4.3.56.0\\LenovoVantageService.exe", **svc),
        Proc(PF86 + "Lenovo\\LenovoNow\\x86\\LenovoUtilityService.exe", **svc),
        Proc(SYS32 + "DriverStore\\FileRepository\\fnhotkeywidget.inf_amd64_8d3c2e1f0a9b7c6d\\"
             "LenovoFnAndFunctionKeys.exe", **svc),
        Proc(PF + "CrowdStrike\\CSFalconService.exe", **svc, signer="CrowdStrike, Inc."),
        Proc(PF86 + "Microsoft Intune Management Extension\\Microsoft.Management.Services.IntuneWindowsAgent.exe",
             **svc, signer="Microsoft Corporation"),
        Proc(PF86 + "Microsoft Intune Management Extension\\AgentExecutor.exe", ("-powershell",), user=SYSTEM,
             parent="Microsoft.Management.Services.IntuneWindowsAgent.exe", started=300),
        Proc(PF + "Zscaler\\ZSAService\\ZSAService.exe", **svc, signer="Zscaler, Inc."),
        Proc(PF + "Zscaler\\ZSATunnel\\ZSATunnel.exe", **svc, signer="Zscaler, Inc."),
        Proc(PF + "Zscaler\\ZSATrayManager\\ZSATrayManager.exe", **svc, signer="Zscaler, Inc."),
        Proc(PF + "farmwatch\\farmwatch-agent.exe", ("run",), **svc),
        Proc(PF86 + "Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe", ("/svc",), parent="services.exe",
             user=SYSTEM, started=3600),
        Proc(PF + "WindowsApps\\MicrosoftWindows.Client.WebExperience_424.1301.270.9_x64__cw5n1h2txyewy\\"
             "Dashboard\\WidgetService.exe", ("-Embedding",), user="{account}", parent="svchost.exe#DcomLaunch",
             started=130),
        Proc(SYS32 + "wbem\\WmiPrvSE.exe", ("-Embedding",), user=NETWORK_SERVICE, parent="svchost.exe#DcomLaunch",
             key="WmiPrvSE.exe#0", started=20),
        Proc(SYS32 + "wbem\\WmiPrvSE.exe", ("-Embedding",), user=SYSTEM, parent="svchost.exe#DcomLaunch",
             key="WmiPrvSE.exe#1", started=40),
        Proc(SYS32 + "dllhost.exe", ("/Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}",), user=SYSTEM,
             parent="svchost.exe#DcomLaunch", started=60),
        Proc(SYS32 + "audiodg.exe", ("0x4b4",), user=LOCAL_SERVICE, parent="svchost.exe#AudioEndpointBuilder",
             started=140),
        Proc(SYS32 + "sihost.exe", user="{account}", parent="svchost.exe#UserManager", started=95),
        Proc(SYS32 + "taskhostw.exe", ("{222A245B-E637-4AE9-A93F-A59CA119A75E}",), user="{account}",
             parent="svchost.exe#Schedule", started=96),
        Proc(SYS32 + "ctfmon.exe", user="{account}", parent="svchost.exe#TabletInputService", started=97),
        Proc(SYS32 + "userinit.exe", user="{account}", parent="winlogon.exe", started=95),
    )


def _desktop() -> tuple[Proc, ...]:
    apps = "C:\\Windows\\SystemApps\\"
    user = {"user": "{account}", "started": 100}
    edge = PF86 + "Microsoft\\Edge\\Application\\msedge.exe"
    webview = PF86 + "Microsoft\\EdgeWebView\\Application\\131.0.2903.70\\msedgewebview2.exe"
    chrome = PF + "Google\\Chrome\\Application\\chrome.exe"
    teams = PF + "WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\\ms-teams.exe"
    procs = [
        Proc("C:\\Windows\\explorer.exe", parent="userinit.exe", **user),
        Proc(apps + "Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy\\StartMenuExperienceHost.exe",
             ("-ServerName:App.AppXywbrabmsek0gm3tkwpr5kwzbs55tkqay.mca",), parent="svchost.exe#DcomLaunch", **user),
        Proc(apps + "MicrosoftWindows.Client.CBS_cw5n1h2txyewy\\SearchHost.exe",
             ("-ServerName:CortanaUI.AppX8z9r6jm96hw4bsbneegw0kyxx296wr9t.mca",), parent="svchost.exe#DcomLaunch",
             **user),
        Proc(apps + "MicrosoftWindows.Client.CBS_cw5n1h2txyewy\\TextInputHost.exe",
             ("-ServerName:InputApp.AppXk0k6mrh4r2q0ct33a9wgbez0x7v9cz5y.mca",), parent="svchost.exe#DcomLaunch",
             **user),
        Proc(apps + "ShellExperienceHost_cw5n1h2txyewy\\ShellExperienceHost.exe",
             ("-ServerName:App.AppXtk181tbxbce2qsex02s8tw7hfxa9xb3t.mca",), parent="svchost.exe#DcomLaunch", **user),
        Proc(SYS32 + "SecurityHealthSystray.exe", parent="explorer.exe", **user),
        Proc("C:\\Windows\\System32\\RtkAudUService64.exe", ("-background",), parent="explorer.exe",
             key="RtkAudUService64.exe#tray", **user),
        Proc(LOCALAPP + "Microsoft\\OneDrive\\OneDrive.exe", ("/background",), parent="explorer.exe", **user),
        Proc(PF + "WindowsApps\\Microsoft.YourPhone_1.24102.120.0_x64__8wekyb3d8bbwe\\PhoneExperienceHost.exe",
             ("-ComServer:Background -Embedding",), parent="svchost.exe#DcomLaunch", **user),
        Proc(PF + "WindowsApps\\MicrosoftWindows.Client.WebExperience_424.1301.270.9_x64__cw5n1h2txyewy\\"
             "Dashboard\\Widgets.exe", parent="svchost.exe#DcomLaunch", **user),
        Proc(PF + "Zscaler\\ZSATray\\ZSATray.exe", parent="explorer.exe", **user, signer="Zscaler, Inc."),
        Proc(PF86 + "Microsoft Office\\root\\Office16\\OUTLOOK.EXE", parent="explorer.exe", user="{account}",
             started=400),
        Proc(PF86 + "Microsoft Office\\root\\Office16\\WINWORD.EXE",
             ("/n", "{home}\\OneDrive - Acme Corp\\Q4 plan.docx"),
             parent="explorer.exe", user="{account}", started=9000),
        Proc(SYS32 + "notepad.exe", parent="explorer.exe", user="{account}", started=12000),
        Proc(edge, ("--no-startup-window", "--win-session-start"), parent="explorer.exe", key="msedge.exe", **user),
        Proc(teams, ("msteams:system-initiated",), parent="explorer.exe", **user),
        Proc(chrome, parent="explorer.exe", key="chrome.exe", user="{account}", started=420),
    ]
    for i in range(5):
        procs.append(Proc(edge, (f"--type={'renderer' if i else 'gpu-process'}",), parent="msedge.exe",
                          key=f"msedge.exe#{i}", **user))
    for i in range(7):
        procs.append(Proc(webview, ("--embedded-browser-webview=1", f"--type={'renderer' if i > 1 else 'utility'}",
                                    "--webview-exe-name=ms-teams.exe"), parent="ms-teams.exe",
                          key=f"msedgewebview2.exe#{i}", **user))
    chrome_types = ["gpu-process", "utility", "utility", "crashpad-handler"] + ["renderer"] * 11
    for i, kind in enumerate(chrome_types):
        procs.append(Proc(chrome, (f"--type={kind}", "--lang=en-US") if kind != "crashpad-handler" else
                          ("--type=crashpad-handler", f"--user-data-dir={LOCALAPP}Google\\Chrome\\User Data"),
                          parent="chrome.exe", key=f"chrome.exe#{i}", user="{account}", started=421 + i * 300))
    procs += [Proc(SYS32 + "RuntimeBroker.exe", ("-Embedding",), parent="svchost.exe#DcomLaunch",
                   key=f"RuntimeBroker.exe#{i}", **user) for i in range(7)]
    procs += [Proc(SYS32 + "backgroundTaskHost.exe", ("-ServerName:BackgroundTaskHost.WebAccountProvider",),
                   parent="svchost.exe#DcomLaunch", user="{account}")]
    procs += [Proc(SYS32 + "conhost.exe", ("0x4",), parent="farmwatch-agent.exe", user=SYSTEM, key="conhost.exe#agent",
                   started=13)]
    return tuple(procs)


def processes() -> tuple[Proc, ...]:
    services = tuple(svchost(*row) for row in SVCHOST_SERVICES)
    core = _kernel_and_session()
    # services.exe must exist before its svchost children; the rest of the system follows.
    return core + services + _system_services() + _desktop()


def applications() -> tuple[App, ...]:
    reg = "registry"
    return (
        App("Microsoft Edge", "131.0.2903.70", PF86 + "Microsoft\\Edge\\Application",
            publisher="Microsoft Corporation", source=reg),
        App("Microsoft Edge WebView2 Runtime", "131.0.2903.70", PF86 + "Microsoft\\EdgeWebView\\Application",
            publisher="Microsoft Corporation", source=reg),
        App("Google Chrome", "131.0.6778.86", PF + "Google\\Chrome\\Application", publisher="Google LLC", source=reg),
        App("Microsoft 365 Apps for enterprise - en-us", "16.0.18129.20158", PF + "Microsoft Office",
            publisher="Microsoft Corporation", source=reg),
        App("Microsoft Teams", "24295.605.3225.8804",
            PF + "WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe",
            publisher="Microsoft Corporation", source="appx"),
        App("Microsoft OneDrive", "24.216.1027.0001", LOCALAPP + "Microsoft\\OneDrive",
            publisher="Microsoft Corporation", source=reg),
        App("Adobe Acrobat (64-bit)", "24.004.20243", PF + "Adobe\\Acrobat DC", publisher="Adobe", source=reg),
        App("7-Zip 24.08 (x64)", "24.08", PF + "7-Zip", publisher="Igor Pavlov", source=reg),
        App("CrowdStrike Windows Sensor", "7.18.18911.0", PF + "CrowdStrike", publisher="CrowdStrike, Inc.",
            source=reg),
        App("Zscaler", "4.5.0.337", PF + "Zscaler", publisher="Zscaler Inc.", source=reg),
        App("Microsoft Intune Management Extension", "1.83.107.0", PF86 + "Microsoft Intune Management Extension",
            publisher="Microsoft Corporation", source=reg),
        App("farmwatch agent", "0.1.0", PF + "farmwatch", publisher="Acme Corp IT", source=reg),
        App("Lenovo Vantage Service", "4.3.56.0", PF86 + "Lenovo\\VantageService", publisher="Lenovo Group Ltd.",
            source=reg),
        App("Intel(R) Management Engine Components", "2406.5.5.0",
            PF86 + "Intel\\Intel(R) Management Engine Components",
            publisher="Intel Corporation", source=reg),
        App("Intel(R) Graphics Driver", "31.0.101.5590", publisher="Intel Corporation", source=reg),
        App("Realtek Audio Driver", "6.0.9549.1", publisher="Realtek Semiconductor Corp.", source=reg),
        App("Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.40.33816", "14.40.33816.0",
            publisher="Microsoft Corporation", source=reg),
        App("Microsoft Visual C++ 2015-2022 Redistributable (x86) - 14.40.33816", "14.40.33816.0",
            publisher="Microsoft Corporation", source=reg),
        App("Microsoft .NET Runtime - 8.0.10 (x64)", "64.40.25059", publisher="Microsoft Corporation", source=reg),
        App("Microsoft Update Health Tools", "5.72.0.0", publisher="Microsoft Corporation", source=reg),
        App("Windows PC Health Check", "3.7.2204.15001", publisher="Microsoft Corporation", source=reg),
        App("Cisco Webex Meetings", "44.10.2", LOCALAPP + "WebEx", publisher="Cisco Webex LLC", source=reg),
        App("CrowdStrike Falcon Sensor Platform", "7.18.18911.0", PF + "CrowdStrike", source="service"),
        App("Zscaler Service", "4.5.0.337", PF + "Zscaler\\ZSAService", source="service"),
    )


def usb_devices() -> tuple[Usb, ...]:
    return (
        Usb("04f2", "b7b6", "Chicony Electronics Co.,Ltd.", "Integrated Camera", "0001", "ef", "0011", 480.0,
            "Port_#0006.Hub_#0001", (iface("0e/01/00", "usbvideo"), iface("0e/02/00", "usbvideo"),
                                     iface("0e/01/01", "usbvideo"), iface("0e/02/01", "usbvideo"))),
        Usb("8087", "0033", "", "", "", "e0", "0000", 12.0, "Port_#0010.Hub_#0001",
            (iface("e0/01/01", "BTHUSB"), iface("e0/01/01", "BTHUSB"))),
        Usb("06cb", "00fc", "Synaptics", "", "4b0a2f1d93c8", "ff", "0000", 12.0, "Port_#0009.Hub_#0001",
            (iface("ff/00/00", "WUDFRd"),)),
    )


BUILT_IN_PANEL = MonitorSpec("BOE", 0x0B66, 0, 1, 2023, 302, 188, WUXGA_60,
                             panel_strings=("BOE CQ", "NE140WUM-N6G"))


def displays() -> tuple[Screen, ...]:
    return (Screen("DISPLAY\\BOE0B66\\4&2f3c1a7&0&UID8388688", BUILT_IN_PANEL, built_in=True),)


def network() -> Delta:
    return Delta(
        interfaces=(
            NetIface("Wi-Fi", "", ("{lan_ip}", "fe80::8d1c:4b2e:9a31:6f02"), kind="wifi"),
            NetIface("Ethernet", "a4:c3:f0:1b:22:9e", (), is_up=False),
            NetIface("Bluetooth Network Connection", "a4:c3:f0:1b:22:a2", (), is_up=False, kind="other"),
            NetIface("Zscaler", "02:50:f2:00:00:01", ("100.64.1.7",), kind="tunnel"),
            NetIface("Loopback Pseudo-Interface 1", "", ("127.0.0.1", "::1"), kind="loopback"),
        ),
        listeners=(
            Listen("0.0.0.0", 135, "svchost.exe#RpcEptMapper"), Listen("0.0.0.0", 445, "System"),
            Listen("{lan_ip}", 139, "System"), Listen("0.0.0.0", 5040, "svchost.exe#CDPSvc"),
            Listen("0.0.0.0", 7680, "svchost.exe#DoSvc"), Listen("0.0.0.0", 49664, "lsass.exe"),
            Listen("0.0.0.0", 49665, "wininit.exe"), Listen("0.0.0.0", 49666, "svchost.exe#EventLog"),
            Listen("0.0.0.0", 49667, "svchost.exe#Schedule"), Listen("0.0.0.0", 49668, "spoolsv.exe"),
            Listen("0.0.0.0", 49669, "services.exe"), Listen("127.0.0.1", 9000, "ZSATunnel.exe"),
            Listen("0.0.0.0", 5353, "svchost.exe#Dnscache", "udp"), Listen("0.0.0.0", 5355, "svchost.exe#Dnscache",
                   "udp"),
            Listen("0.0.0.0", 123, "svchost.exe#W32Time", "udp"), Listen("0.0.0.0", 500, "svchost.exe#IKEEXT", "udp"),
            Listen("0.0.0.0", 4500, "svchost.exe#IKEEXT", "udp"), Listen("{lan_ip}", 1900, "svchost.exe#SSDPSRV",
                   "udp"),
            Listen("{lan_ip}", 137, "System", "udp"), Listen("{lan_ip}", 138, "System", "udp"),
        ),
        connections=(
            Conn("{lan_ip}", 52114, "165.225.48.10", 443, "ZSATunnel.exe"),
            Conn("{lan_ip}", 52120, "104.18.9.153", 443, "CSFalconService.exe"),
            Conn("100.64.1.7", 52201, "52.112.95.4", 443, "ms-teams.exe"),
            Conn("100.64.1.7", 52233, "52.123.129.14", 443, "OUTLOOK.EXE"),
            Conn("100.64.1.7", 52240, "142.250.191.78", 443, "chrome.exe#5"),
            Conn("100.64.1.7", 52241, "142.250.115.95", 443, "chrome.exe#6"),
            Conn("100.64.1.7", 52266, "13.107.42.14", 443, "OneDrive.exe"),
            Conn("127.0.0.1", 52280, "127.0.0.1", 9000, "chrome.exe#7"),
            Conn("127.0.0.1", 9000, "127.0.0.1", 52280, "ZSATunnel.exe"),
        ),
    )


def content() -> Delta:
    return Delta(
        processes=processes(), applications=applications(), usb=usb_devices(), displays=displays(),
        sessions=(Login("{account}", "console", started=95),), remote_access=(("rdp", False),
                  ("remote_assistance", False)),
        ip_forwarding=False,
    ) + network()
