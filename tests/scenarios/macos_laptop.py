"""The macOS 15 base: a 16-inch MacBook Pro (2019, T2) issued to an office employee."""

from __future__ import annotations

from edid import MonitorSpec, RETINA_16
from parts import App, Conn, Delta, Identity, Listen, Login, NetIface, Proc, Screen, Usb, iface

IDENTITY = Identity(
    os="macos", os_version="15.1.1", arch="x86_64", hardware_model="MacBookPro16,1",
    serial_prefix="C02", serial_length=12, hostname_format="ACME-MBP-{serial}", login="jchen",
    account="jchen", home="/Users/jchen", timezone="America/Los_Angeles", utc_offset_minutes=-480,
    locale="en_US", keyboard_layouts=("com.apple.keylayout.US",), mac_oui="f0:18:98", wifi_interface="en0",
    reports_bssid=False,
)

SBIN, LIBEXEC, CORE = "/usr/sbin/", "/usr/libexec/", "/System/Library/CoreServices/"
FRAMEWORKS, PRIVATE = "/System/Library/Frameworks/", "/System/Library/PrivateFrameworks/"

# (executable, account) for daemons launchd starts at boot.
DAEMONS = [
    (SBIN + "syslogd", "root"), (LIBEXEC + "logd", "root"), (LIBEXEC + "UserEventAgent", "root"),
    (LIBEXEC + "uninstalld", "root"), (LIBEXEC + "kextd", "root"), (LIBEXEC + "fseventsd", "root"),
    (LIBEXEC + "mediaremoted", "root"), (LIBEXEC + "systemstats", "root"), (LIBEXEC + "configd", "root"),
    (LIBEXEC + "endpointsecurityd", "root"), (CORE + "powerd.bundle/powerd", "root"),
    (LIBEXEC + "remoted", "root"), (LIBEXEC + "watchdogd", "root"),
    (FRAMEWORKS + "CoreServices.framework/Frameworks/Metadata.framework/Support/mds", "root"),
    (FRAMEWORKS + "CoreServices.framework/Frameworks/Metadata.framework/Support/mds_stores", "root"),
    (LIBEXEC + "kernelmanagerd", "root"), (LIBEXEC + "diskarbitrationd", "root"),
    (SBIN + "coreduetd", "root"), (LIBEXEC + "thermalmonitord", "root"), (LIBEXEC + "opendirectoryd", "root"),
    (FRAMEWORKS + "CoreServices.framework/Frameworks/LaunchServices.framework/Support/lsd", "root"),
    (LIBEXEC + "securityd", "root"), (SBIN + "securityd_service", "root"), (LIBEXEC + "apsd", "root"),
    (SBIN + "notifyd", "root"), (SBIN + "distnoted", "_distnote"), (LIBEXEC + "dasd", "root"),
    (CORE + "loginwindow.app/Contents/MacOS/loginwindow", "jchen"), (SBIN + "mDNSResponder", "_mdnsresponder"),
    (SBIN + "mDNSResponderHelper", "root"), (LIBEXEC + "corebrightnessd", "root"), (SBIN + "cfprefsd", "root"),
    (LIBEXEC + "AirPlayXPCHelper", "root"), (LIBEXEC + "airportd", "root"), (LIBEXEC + "sandboxd", "root"),
    (LIBEXEC + "amfid", "root"), (LIBEXEC + "runningboardd", "root"), (LIBEXEC + "locationd", "_locationd"),
    (LIBEXEC + "coreaudiod", "_coreaudiod"), (LIBEXEC + "usbmuxd", "_usbmuxd"), (LIBEXEC + "timed", "_timed"),
    (LIBEXEC + "symptomsd", "_networkd"), (LIBEXEC + "nehelper", "root"), (LIBEXEC + "nesessionmanager", "root"),
    (LIBEXEC + "trustd", "root"), (LIBEXEC + "syspolicyd", "root"), (LIBEXEC + "smd", "root"),
    (LIBEXEC + "logind", "root"), (LIBEXEC + "backupd-helper", "root"), (LIBEXEC + "bluetoothd", "root"),
    (SBIN + "WirelessRadioManagerd", "root"), (LIBEXEC + "searchpartyd", "root"), (LIBEXEC + "sysmond", "root"),
    (LIBEXEC + "wifip2pd", "root"), (LIBEXEC + "wifianalyticsd", "root"), (LIBEXEC + "usermanagerd", "root"),
    (LIBEXEC + "PerfPowerServices", "root"), (LIBEXEC + "biometrickitd", "root"), (LIBEXEC + "powerdatad", "root"),
    (LIBEXEC + "analyticsd", "_analyticsd"), (LIBEXEC + "softwareupdated", "_softwareupdate"),
    (LIBEXEC + "appleeventsd", "_appleevents"), (LIBEXEC + "nsurlsessiond", "_nsurlsessiond"),
    (LIBEXEC + "mobileassetd", "root"), (LIBEXEC + "taskgated", "root"), (LIBEXEC + "containermanagerd", "root"),
    (LIBEXEC + "rtcreportingd", "root"), (LIBEXEC + "modelmanagerd", "root"), (LIBEXEC + "audioclocksyncd",
     "_coreaudiod"),
    (LIBEXEC + "bootinstalld", "root"), (LIBEXEC + "authd", "root"), (LIBEXEC + "ThermalPressure", "root"),
    (LIBEXEC + "keybagd", "root"), (LIBEXEC + "corespeechd", "root"),
    (LIBEXEC + "rapportd", "root"), (LIBEXEC + "cryptexd", "root"), (LIBEXEC + "tccd", "root"),
    (LIBEXEC + "storagekitd", "root"), (LIBEXEC + "mdmclient", "root"),
    (SBIN + "auditd", "root"), (LIBEXEC + "colorsyncd", "root"), (LIBEXEC + "displaypolicyd", "root"),
    (LIBEXEC + "ioupsd", "root"), (LIBEXEC + "findmydeviced", "root"), (LIBEXEC + "deleted_helper", "root"),
    (PRIVATE + "SkyLight.framework/Resources/WindowServer", "_windowserver"),
    (PRIVATE + "MobileDevice.framework/Versions/A/AppleMobileDeviceHelper.app/Contents/Resources/"
     "AppleMobileDeviceHelper", "root"),
    ("/Library/Application Support/JAMF/Jamf.app/Contents/MacOS/Jamf", "root"),
    ("/usr/local/jamf/bin/jamf", "root"),
    ("/Library/CS/falcond", "root"),
    ("/Applications/Falcon.app/Contents/Library/SystemExtensions/com.crowdstrike.falcon.Agent.systemextension/"
     "Contents/MacOS/com.crowdstrike.falcon.Agent", "root"),
    ("/Applications/Zscaler/Zscaler.app/Contents/PlugIns/ZscalerTunnel", "root"),
    ("/Applications/Zscaler/Zscaler.app/Contents/PlugIns/ZscalerService", "root"),
    ("/Library/Application Support/farmwatch/bin/farmwatch-agent", "root"),
]

# (executable, bundle id) for per-user agents in the console session.
AGENTS = [
    (CORE + "Dock.app/Contents/MacOS/Dock", "com.apple.dock"),
    (CORE + "SystemUIServer.app/Contents/MacOS/SystemUIServer", "com.apple.systemuiserver"),
    (CORE + "Finder.app/Contents/MacOS/Finder", "com.apple.finder"),
    (CORE + "ControlCenter.app/Contents/MacOS/ControlCenter", "com.apple.controlcenter"),
    (CORE + "NotificationCenter.app/Contents/MacOS/NotificationCenter", "com.apple.notificationcenterui"),
    (CORE + "WindowManager.app/Contents/MacOS/WindowManager", "com.apple.WindowManager"),
    (CORE + "Spotlight.app/Contents/MacOS/Spotlight", "com.apple.Spotlight"),
    (CORE + "TextInputMenuAgent.app/Contents/MacOS/TextInputMenuAgent", "com.apple.TextInputMenuAgent"),
    (CORE + "WiFiAgent.app/Contents/MacOS/WiFiAgent", "com.apple.wifi.WiFiAgent"),
    (CORE + "UniversalControl.app/Contents/MacOS/UniversalControl", "com.apple.universalcontrol"),
    (CORE + "AirPlayUIAgent.app/Contents/MacOS/AirPlayUIAgent", "com.apple.AirPlayUIAgent"),
    (CORE + "talagent", ""), (SBIN + "cfprefsd", ""), (SBIN + "distnoted", ""), (LIBEXEC + "trustd", ""),
    (LIBEXEC + "secd", ""), (LIBEXEC + "lsd", ""), (LIBEXEC + "pboard", ""), (LIBEXEC + "knowledge-agent", ""),
    (LIBEXEC + "sharingd", ""), (LIBEXEC + "rapportd", ""), (LIBEXEC + "useractivityd", ""),
    (LIBEXEC + "nsurlsessiond", ""), (LIBEXEC + "ctkd", ""), (LIBEXEC + "identityservicesd", ""),
    (LIBEXEC + "imagent", ""), (LIBEXEC + "routined", ""), (LIBEXEC + "cloudd", ""), (LIBEXEC + "bird", ""),
    (LIBEXEC + "fileproviderd", ""), (LIBEXEC + "ContextStoreAgent", ""), (LIBEXEC + "universalaccessd", ""),
    (LIBEXEC + "coreautha", ""), (LIBEXEC + "tccd", ""), (LIBEXEC + "usernoted", ""), (LIBEXEC + "akd", ""),
    (LIBEXEC + "accountsd", ""), (LIBEXEC + "CallHistoryPluginHelper", ""), (LIBEXEC + "siriactionsd", ""),
    (LIBEXEC + "sirittsd", ""), (LIBEXEC + "assistantd", ""), (LIBEXEC + "photoanalysisd", ""),
    (LIBEXEC + "mediaanalysisd", ""), (LIBEXEC + "suggestd", ""), (LIBEXEC + "contactsd", ""),
    (LIBEXEC + "calaccessd", ""), (LIBEXEC + "findmylocateagent", ""), (LIBEXEC + "heard", ""),
    (LIBEXEC + "nearbyd", ""), (LIBEXEC + "ViewBridgeAuxiliary", ""), (LIBEXEC + "corespotlightd", ""),
    (LIBEXEC + "spotlightknowledged", ""), (LIBEXEC + "mdbulkimport", ""), (LIBEXEC + "AMPDeviceDiscoveryAgent", ""),
    (LIBEXEC + "WiFiVelocityAgent", ""), (LIBEXEC + "dmd", ""), (LIBEXEC + "keyboardservicesd", ""),
    (LIBEXEC + "TextInputSwitcher", ""), (LIBEXEC + "chronod", ""), (LIBEXEC + "avconferenced", ""),
    (LIBEXEC + "callservicesd", ""), (LIBEXEC + "replayd", ""), (LIBEXEC + "screencaptureui", ""),
    (LIBEXEC + "ThemeWidgetControlViewService", ""), (LIBEXEC + "passd", ""), (LIBEXEC + "studentd", ""),
    (LIBEXEC + "intelligenceplatformd", ""), (LIBEXEC + "backgroundtaskmanagementagent", ""),
    (PRIVATE + "AMPLibraryAgent.framework/Versions/A/Support/AMPLibraryAgent", ""),
    (PRIVATE + "CommerceKit.framework/Versions/A/Resources/commerce", ""),
    (PRIVATE + "IMCore.framework/imagent.app/Contents/MacOS/imagent", ""),
    (PRIVATE + "TelephonyUtilities.framework/callservicesd", ""),
    (PRIVATE + "CloudDocsDaemon.framework/Versions/A/Support/bird", ""),
    (FRAMEWORKS + "InputMethodKit.framework/Resources/imklaunchagent", ""),
    (FRAMEWORKS + "CoreServices.framework/Frameworks/Metadata.framework/Versions/A/Support/mdwrite", ""),
    (CORE + "Siri.app/Contents/MacOS/Siri", "com.apple.Siri"),
    (CORE + "Wallpaper.app/Contents/MacOS/Wallpaper", "com.apple.wallpaper.agent"),
    (CORE + "FolderActionsDispatcher.app/Contents/MacOS/FolderActionsDispatcher", "com.apple.FolderActionsDispatcher"),
    ("/Applications/Zscaler/Zscaler.app/Contents/MacOS/Zscaler", "com.zscaler.Zscaler"),
    ("/Applications/Falcon.app/Contents/MacOS/Falcon", "com.crowdstrike.falcon.App"),
]


def _chromium_app(path: str, bundle: str, helper: str, helper_bundle: str, key: str, renderers: int,
                  started: int) -> tuple[Proc, ...]:
    main = Proc(path, parent="launchd", key=key, bundle_id=bundle, started=started)
    helpers = [Proc(helper, (f"--type={kind}",), parent=key, key=f"{key}#{i}", bundle_id=helper_bundle,
                    started=started + 2 + i * 60)
               for i, kind in enumerate(["gpu-process", "utility", "utility"] + ["renderer"] * renderers)]
    return (main, *helpers)


def processes() -> tuple[Proc, ...]:
    procs = [
        Proc("", name="kernel_task", user="root", started=0, hide_exe=True),
        Proc("/sbin/launchd", user="root", parent="kernel_task", started=0),
    ]
    procs += [Proc(path, user=user, parent="launchd", started=4) for path, user in DAEMONS]
    procs += [Proc(path, user="jchen", parent="launchd", key=path.rsplit("/", 1)[-1] + "#user", bundle_id=bundle,
                   started=100) for path, bundle in AGENTS]
    for i in range(6):
        procs.append(Proc(FRAMEWORKS + "CoreServices.framework/Frameworks/Metadata.framework/Versions/A/"
                          "Support/mdworker_shared",
                          ("-s", "mdworker", "-c", "MDSImporterWorker", "-m", "com.apple.mdworker.shared"),
                          user="jchen", parent="launchd", key=f"mdworker_shared#{i}"))
    for i in range(4):
        procs.append(Proc(FRAMEWORKS + "WebKit.framework/Versions/A/XPCServices/com.apple.WebKit.WebContent.xpc/"
                          "Contents/MacOS/com.apple.WebKit.WebContent", user="jchen", parent="launchd",
                          key=f"WebContent#{i}", bundle_id="com.apple.WebKit.WebContent", started=900))
    procs += _chromium_app("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", "com.google.Chrome",
                           "/Applications/Google Chrome.app/Contents/Frameworks/Google Chrome Framework.framework/"
                           "Versions/131.0.6778.86/Helpers/Google Chrome Helper (Renderer).app/Contents/MacOS/"
                           "Google Chrome Helper (Renderer)", "com.google.Chrome.helper.renderer", "Google Chrome",
                           12, 300)
    procs += _chromium_app("/Applications/Slack.app/Contents/MacOS/Slack", "com.tinyspeck.slackmacgap",
                           "/Applications/Slack.app/Contents/Frameworks/Slack Helper (Renderer).app/Contents/MacOS/"
                           "Slack Helper (Renderer)", "com.tinyspeck.slackmacgap.helper.Renderer", "Slack", 3, 200)
    procs += _chromium_app("/Applications/Microsoft Teams.app/Contents/MacOS/MSTeams", "com.microsoft.teams2",
                           "/Applications/Microsoft Teams.app/Contents/Helpers/Microsoft Teams WebView.app/Contents/"
                           "Frameworks/Microsoft Teams WebView Helper (Renderer).app/Contents/MacOS/"
                           "Microsoft Teams WebView Helper (Renderer)", "com.microsoft.teams2.helper.renderer",
                           "MSTeams", 3, 210)
    procs += [
        Proc("/Applications/Microsoft Outlook.app/Contents/MacOS/Microsoft Outlook", user="jchen", parent="launchd",
             bundle_id="com.microsoft.Outlook", started=220),
        Proc("/Applications/zoom.us.app/Contents/MacOS/zoom.us", user="jchen", parent="launchd",
             bundle_id="us.zoom.xos", started=5400),
        Proc("/Applications/1Password.app/Contents/MacOS/1Password", user="jchen", parent="launchd",
             bundle_id="com.1password.1password", started=230),
        Proc("/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal", user="jchen", parent="launchd",
             bundle_id="com.apple.Terminal", started=7200),
        Proc("/usr/bin/login", ("-pf", "jchen"), user="root", parent="Terminal", started=7201),
        Proc("/bin/zsh", ("-zsh",), user="jchen", parent="login", started=7201, argv0="-zsh"),
    ]
    return tuple(procs)


def applications() -> tuple[App, ...]:
    def bundle(name, version, bundle_id, team=""):
        return App(name, version, f"/Applications/{name}.app", bundle_id, signer=team, source="app_bundle")

    def launchd(label, path):
        return App(label, path=path, bundle_id=label, source="launchd")

    return (
        bundle("Google Chrome", "131.0.6778.86", "com.google.Chrome", "EQHXZ8M8AV"),
        bundle("Safari", "18.1.1", "com.apple.Safari"),
        bundle("Slack", "4.41.97", "com.tinyspeck.slackmacgap", "BQR82RBBHL"),
        bundle("Microsoft Teams", "24295.605.3225.8804", "com.microsoft.teams2", "UBF8T346G9"),
        bundle("Microsoft Outlook", "16.91", "com.microsoft.Outlook", "UBF8T346G9"),
        bundle("Microsoft Word", "16.91", "com.microsoft.Word", "UBF8T346G9"),
        bundle("Microsoft Excel", "16.91", "com.microsoft.Excel", "UBF8T346G9"),
        bundle("zoom.us", "6.2.11", "us.zoom.xos", "BJ4HAAB9B3"),
        bundle("1Password", "8.10.54", "com.1password.1password", "2BUA8C4S2C"),
        bundle("Falcon", "7.19.18810", "com.crowdstrike.falcon.App", "X9E956P446"),
        App("Zscaler", "4.4.0.159", "/Applications/Zscaler/Zscaler.app", "com.zscaler.Zscaler", signer="PCBCQZJ7S7",
            source="app_bundle"),
        bundle("Self Service", "11.10.0", "com.jamfsoftware.selfservice.mac", "483DWKW443"),
        bundle("Keynote", "14.2", "com.apple.iWork.Keynote"),
        bundle("Numbers", "14.2", "com.apple.iWork.Numbers"),
        bundle("Pages", "14.2", "com.apple.iWork.Pages"),
        bundle("Xcode", "16.1", "com.apple.dt.Xcode"),
        App("Terminal", "2.14", "/System/Applications/Utilities/Terminal.app", "com.apple.Terminal",
            source="app_bundle"),
        launchd("com.jamf.management.daemon", "/Library/LaunchDaemons/com.jamf.management.daemon.plist"),
        launchd("com.jamfsoftware.task.1", "/Library/LaunchDaemons/com.jamfsoftware.task.1.plist"),
        launchd("com.crowdstrike.falcond", "/Library/LaunchDaemons/com.crowdstrike.falcond.plist"),
        launchd("com.zscaler.service", "/Library/LaunchDaemons/com.zscaler.service.plist"),
        launchd("com.zscaler.tunnel", "/Library/LaunchDaemons/com.zscaler.tunnel.plist"),
        launchd("com.google.keystone.daemon", "/Library/LaunchDaemons/com.google.keystone.daemon.plist"),
        launchd("com.microsoft.autoupdate.helper", "/Library/LaunchDaemons/com.microsoft.autoupdate.helper.plist"),
        launchd("com.acme.farmwatch.agent", "/Library/LaunchDaemons/com.acme.farmwatch.agent.plist"),
        launchd("com.google.keystone.agent", "/Library/LaunchAgents/com.google.keystone.agent.plist"),
        launchd("us.zoom.updater", "/Library/LaunchAgents/us.zoom.updater.plist"),
    )


def usb_devices() -> tuple[Usb, ...]:
    def t2(pid, product, interfaces, speed=480.0, path="0x01100000"):
        return Usb("05ac", pid, "Apple Inc.", product, "", "00", "0100", speed, path, interfaces)

    return (
        t2("8233", "Apple T2 Controller", (iface("ff/fd/01"),), path="0x01100000"),
        t2("8600", "iBridge", (iface("ff/fe/00"), iface("0e/01/00"), iface("0e/02/00")), path="0x01200000"),
        t2("0340", "Apple Internal Keyboard / Trackpad",
           (iface("03/01/01", "AppleUserHIDDrivers"), iface("03/00/00", "AppleUserHIDDrivers"),
            iface("03/00/00", "AppleUserHIDDrivers"), iface("03/00/00", "AppleUserHIDDrivers")),
           12.0, "0x01300000"),
        t2("8262", "Ambient Light Sensor", (iface("03/00/00"),), 12.0, "0x01400000"),
        t2("8514", "FaceTime HD Camera (Built-in)", (iface("0e/01/00"), iface("0e/02/00")), path="0x01500000"),
        t2("8302", "Touch Bar Display", (iface("ff/01/00"),), path="0x01600000"),
        t2("8102", "Touch Bar Backlight", (iface("03/00/00"),), 12.0, "0x01700000"),
        t2("8103", "Headset", (iface("01/01/00"), iface("01/02/00"), iface("03/00/00")), path="0x01800000"),
    )


BUILT_IN_PANEL = MonitorSpec("APP", 0xA045, 0, 10, 2019, 345, 215, RETINA_16, monitor_name="Color LCD")


def content() -> Delta:
    return Delta(
        processes=processes(), applications=applications(), usb=usb_devices(),
        displays=(Screen("internal", BUILT_IN_PANEL, built_in=True),),
        interfaces=(
            NetIface("lo0", "", ("127.0.0.1", "::1"), kind="loopback"),
            NetIface("en0", "", ("{lan_ip}", "fe80::1c3a:9e2f:7b41:5d10"), kind="wifi"),
            NetIface("awdl0", "4e:21:7a:9c:03:b8", ("fe80::4c21:7aff:fe9c:3b8",), kind="wifi"),
            NetIface("llw0", "4e:21:7a:9c:03:b8", ("fe80::4c21:7aff:fe9c:3b8",), kind="other"),
            NetIface("utun0", "", ("fe80::7b1c:2e9a:4f10:3c2d",), kind="tunnel"),
            NetIface("utun3", "", ("100.64.1.9",), kind="tunnel"),
            NetIface("bridge0", "36:8a:5e:21:7c:40", (), is_up=False, kind="bridge"),
            NetIface("ap1", "f2:18:98:4a:11:02", (), is_up=False, kind="wifi"),
        ),
        listeners=(
            Listen("0.0.0.0", 5353, "mDNSResponder", "udp"),
            Listen("127.0.0.1", 9000, "ZscalerTunnel"), Listen("0.0.0.0", 49231, "rapportd#user"),
Listen("127.0.0.1", 8081, "falcond"),
        ),
        connections=(
            Conn("{lan_ip}", 59812, "165.225.48.10", 443, "ZscalerTunnel"),
            Conn("{lan_ip}", 59830, "104.18.9.153", 443, "falcond"),
            Conn("{lan_ip}", 59841, "17.57.146.52", 5223, "apsd"),
            Conn("100.64.1.9", 60112, "142.250.191.78", 443, "Google Chrome"),
            Conn("100.64.1.9", 60120, "142.250.115.95", 443, "Google Chrome#5"),
            Conn("100.64.1.9", 60133, "52.112.95.4", 443, "MSTeams"),
            Conn("100.64.1.9", 60140, "3.33.165.172", 443, "Slack"),
            Conn("100.64.1.9", 60151, "52.123.129.14", 443, "Microsoft Outlook"),
        ),
        sessions=(Login("jchen", "console", started=95), Login("jchen", "ttys000", started=7201)),
        remote_access=(("screen_sharing", False), ("remote_management", False), ("remote_login", False)),
        ip_forwarding=False,
    )


PROBE_ERRORS = (("network", "wifi bssid withheld: Location Services not authorised for farmwatch-agent"),)
