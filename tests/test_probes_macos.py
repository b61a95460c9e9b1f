"""macOS probes on recorded Macs: a MacBook Air driven through a TinyPilot (Screen Sharing
and Remote Management on, Korean input method, AnyDesk) and an Intel MacBook Pro on a dock."""

from __future__ import annotations

import json
import plistlib

import pytest

from farmwatch.agent.probes import PROBES, applications, displays, host, network, processes, remote_access, sessions, usb
from farmwatch.agent.probes.context import ProbeContext
from farmwatch.agent.probes.macos import host as macos_host
from farmwatch.agent.probes.macos import network as macos_network
from farmwatch.agent.probes.macos import processes as macos_processes
from farmwatch.agent.probes.macos import usb as macos_usb
from farmwatch.agent.scan import SysrootError, build_report
from recorded_machines import REMOVE, context, recorded, variant
from sysroot_builder import edid_fixture
from sysroot_machines import gaps

TINYPILOT, DOCK = "macos/tinypilot_macbook_air", "macos/dock_macbook_pro"
IOREG_USB, IOREG_DISPLAYS = "ioreg -p IOUSB -l -a", "ioreg -l -a -r -c IODisplayConnect"
PROFILER_DISPLAYS = "system_profiler SPDisplaysDataType -json"


def _interfaces(device):
    return [(i.interface_class, i.interface_subclass, i.interface_protocol) for i in device.interfaces]


# -- host -------------------------------------------------------------------------------


def test_host_identity_clock_and_korean_input_method():
    ctx = context(TINYPILOT, "host")
    found = host.collect(ctx)
    assert (found.os, found.os_version, found.arch, found.hostname) == ("macos", "15.1.1", "arm64", "ACME-MBA-FVFJ21K3Q6L4.local")
    assert (found.serial_number, found.hardware_model) == ("FVFJ21K3Q6L4", "Mac14,2")
    assert (found.timezone, found.utc_offset_minutes, found.locale) == ("Asia/Seoul", 540, "en_US")
    assert list(found.keyboard_layouts) == [
        "com.apple.keylayout.US", "com.apple.inputmethod.Korean", "com.apple.inputmethod.Korean.2SetKorean"]
    assert found.boot_time.seconds == 1_764_000_000
    assert gaps(ctx) == []


def test_host_on_an_intel_mac_in_los_angeles():
    found = host.collect(context(DOCK, "host"))
    assert (found.hardware_model, found.arch, found.timezone) == ("MacBookPro16,1", "x86_64", "America/Los_Angeles")
    assert found.utc_offset_minutes in (-480, -420)  # PST or PDT, by the date the test runs
    assert list(found.keyboard_layouts) == ["com.apple.keylayout.US"]


def test_input_sources_skip_palettes_and_name_layouts_as_the_tis_api_does():
    entries = [
        {"InputSourceKind": "Keyboard Layout", "KeyboardLayout ID": 15000, "KeyboardLayout Name": "U.S. International - PC"},
        {"InputSourceKind": "Non Keyboard Input Method", "Bundle ID": "com.apple.CharacterPaletteIM"},
        {"InputSourceKind": "Keyboard Input Method", "Bundle ID": "com.apple.inputmethod.Korean"},
        "not a dict",
    ]
    assert macos_host.parse_enabled_input_sources(entries) == [
        "com.apple.keylayout.USInternational-PC", "com.apple.inputmethod.Korean"]


def test_platform_identity_drops_placeholder_serials_and_nul_padding():
    assert macos_host.platform_identity([{"IOPlatformSerialNumber": "0", "model": b"Mac15,3\0"}]) == ("", "Mac15,3")
    assert macos_host.platform_identity([]) == ("", "")


def test_without_ioreg_the_serial_is_a_gap(tmp_path):
    root = variant(tmp_path, TINYPILOT, commands={"ioreg -rd1 -a -c IOPlatformExpertDevice": REMOVE})
    ctx = context(root, "host")
    assert host.collect(ctx).serial_number == ""
    assert gaps(ctx) == ["ioreg: not found"]


# -- processes and applications ---------------------------------------------------------------


def test_processes_carry_the_bundle_of_the_innermost_app():
    ctx = context(TINYPILOT, "processes")
    found = {(p.pid, p.name): p for p in processes.collect(ctx)}
    assert found[(610, "AnyDesk")].bundle_id == "com.philandro.anydesk"
    assert list(found[(610, "AnyDesk")].cmdline) == ["/Applications/AnyDesk.app/Contents/MacOS/AnyDesk", "--service"]
    assert found[(1301, "Google Chrome Helper (Renderer)")].bundle_id == "com.google.Chrome.helper.renderer"
    assert found[(1300, "Google Chrome")].bundle_id == "com.google.Chrome"
    assert found[(412, "airportd")].bundle_id == ""  # not inside a bundle
    assert (found[(1210, "AnyDesk")].username, found[(1210, "AnyDesk")].create_time.seconds) == ("hkim", 1_764_000_040)
    assert found[(88, "endpointsecurityd")].exe == ""
    assert gaps(ctx) == ["exe unreadable for 1 process (access denied)"]


@pytest.mark.parametrize(("exe", "bundle"), [
    ("/Applications/Zoom.app/Contents/MacOS/zoom.us", "/Applications/Zoom.app"),
    ("/System/Library/Frameworks/WebKit.framework/Versions/A/XPCServices/com.apple.WebKit.WebContent.xpc/Contents/MacOS/x",
     "/System/Library/Frameworks/WebKit.framework/Versions/A/XPCServices/com.apple.WebKit.WebContent.xpc"),
    ("/System/Library/CoreServices/powerd.bundle/powerd", ""),
    ("/usr/libexec/airportd", ""),
    ("/Applications/Tools.app.old/bin/tool", ""),
])
def test_bundle_path(exe, bundle):
    assert macos_processes.bundle_path(exe) == bundle


def test_applications_are_bundles_and_launchd_jobs():
    ctx = context(TINYPILOT, "applications")
    found = [(a.name, a.version, a.path, a.bundle_id, a.source) for a in applications.collect(ctx)]
    assert found == [
        ("AnyDesk", "8.1.2", "/Applications/AnyDesk.app", "com.philandro.anydesk", "app_bundle"),
        ("Google Chrome", "131.0.6778.86", "/Applications/Google Chrome.app", "com.google.Chrome", "app_bundle"),
        ("KakaoTalk", "3.6.5", "/Applications/KakaoTalk.app", "com.kakao.KakaoTalkMac", "app_bundle"),
        ("Astrill", "3.11.0", "/Applications/Utilities/Astrill.app", "com.Astrill.app", "app_bundle"),
        ("RustDesk", "1.3.2", "/Users/hkim/Applications/RustDesk.app", "com.carriez.rustdesk", "app_bundle"),
        ("com.philandro.anydesk.service", "", "/Library/LaunchDaemons/com.philandro.anydesk.service.plist",
         "com.philandro.anydesk.service", "launchd"),
        ("com.philandro.anydesk.Frontend", "", "/Library/LaunchAgents/com.philandro.anydesk.Frontend.plist",
         "com.philandro.anydesk.Frontend", "launchd"),
        ("com.carriez.RustDesk_server", "", "/Users/hkim/Library/LaunchAgents/com.carriez.RustDesk_server.plist",
         "com.carriez.RustDesk_server", "launchd"),
    ]
    assert gaps(ctx) == []


def test_a_bundle_without_info_plist_is_kept_and_noted():
    ctx = context(DOCK, "applications")
    broken = next(a for a in applications.collect(ctx) if a.name == "Broken")
    assert (broken.path, broken.bundle_id, broken.version) == ("/Applications/Broken.app", "", "")
    assert gaps(ctx) == ["/Applications/Broken.app: no readable Contents/Info.plist"]


# -- usb ----------------------------------------------------------------------------------------


def test_tinypilot_gadget_with_its_interface_mix_from_the_signature():
    ctx = context(TINYPILOT, "usb")
    gadget, yubikey = usb.collect(ctx)
    assert (gadget.vendor_id, gadget.product_id, gadget.manufacturer, gadget.product, gadget.serial) == (
        "1d6b", "0104", "tinypilot", "Multifunction USB Device", "6b65796d696d6570690")
    assert (gadget.device_class, gadget.bcd_device, gadget.speed_mbps, gadget.bus_path) == ("00", "0100", 480.0, "0x00100000")
    assert _interfaces(gadget) == [("03", "01", "01"), ("03", "00", "00")]
    assert (yubikey.serial, yubikey.speed_mbps, _interfaces(yubikey)[-1]) == ("", 12.0, ("0b", "00", "00"))
    assert gaps(ctx) == []


def test_dock_devices_below_a_hub_and_no_root_hub():
    found = {d.bus_path: d for d in usb.collect(context(DOCK, "usb"))}
    assert list(found) == ["0x01100000", "0x01300000", "0x01500000", "0x14100000", "0x14110000", "0x14120000", "0x14130000"]
    assert (found["0x14100000"].device_class, _interfaces(found["0x14100000"])) == ("09", [("09", "00", "00")])
    lan = found["0x14110000"]
    assert (lan.vendor_id, lan.product_id, lan.serial, lan.bcd_device, lan.speed_mbps) == ("0bda", "8153", "001000001", "3100", 5000.0)
    assert _interfaces(found["0x14120000"]) == [("03", "01", "01"), ("03", "01", "02"), ("03", "00", "00")]


def test_signature_interfaces_need_the_serial_where_the_signature_has_it():
    # GL.iNet Comet as ioreg printed it (docs/detection.md §H7): two 08/06/50 interfaces collapse into one triple
    signature = bytes.fromhex("6b1d0401000143414645424142450000" "00e001030a0000030101030000080650")
    assert macos_usb.interface_triples(signature, "CAFEBABE") == [
        ("e0", "01", "03"), ("0a", "00", "00"), ("03", "01", "01"), ("03", "00", "00"), ("08", "06", "50")]
    assert macos_usb.interface_triples(signature, "DEADBEEF") is None


def test_a_signature_that_does_not_fit_is_a_gap_and_the_device_stays():
    node = {"IOObjectClass": "IOUSBHostDevice", "IORegistryEntryName": "Gadget", "idVendor": 7531, "idProduct": 260,
            "USB Serial Number": "ABC", "locationID": 0x00200000, "UsbDeviceSignature": b"\x6b\x1d\x04\x01\x00\x01XYZ\x00\x00\x00"}
    ctx = context(TINYPILOT, "usb")
    (device,) = macos_usb.parse_ioreg_usb({"IORegistryEntryChildren": [node]}, ctx)
    assert (device.vendor_id, device.product_id, device.product, list(device.interfaces)) == ("1d6b", "0104", "Gadget", [])
    assert gaps(ctx) == ["usb 0x00200000: UsbDeviceSignature does not match the serial"]


def test_a_padded_serial_still_fits_the_signature():
    # an IP-KVM's serial is set by its owner; ioreg shows it as given, padding and all
    node = {"IOObjectClass": "IOUSBHostDevice", "IORegistryEntryName": "PiKVM", "idVendor": 7531, "idProduct": 260,
            "USB Serial Number": "CAFEBABE  ", "locationID": 0x00200000,
            "UsbDeviceSignature": bytes.fromhex("6b1d04010001") + b"CAFEBABE  " + bytes.fromhex("000000030101080650")}
    ctx = context(TINYPILOT, "usb")
    (device,) = macos_usb.parse_ioreg_usb({"IORegistryEntryChildren": [node]}, ctx)
    assert device.serial == "CAFEBABE"
    assert _interfaces(device) == [("03", "01", "01"), ("08", "06", "50")]
    assert gaps(ctx) == []


def test_garbled_ioreg_output_is_a_gap(tmp_path):
    root = variant(tmp_path, TINYPILOT, commands={IOREG_USB: "<?xml version='1.0'?><plist><dict><key>x",
                                                  "system_profiler SPUSBDataType -json": REMOVE})
    ctx = context(root, "usb")
    assert usb.collect(ctx) == []
    first, second = gaps(ctx)
    assert first.startswith("ioreg -p IOUSB -l -a: unparsable plist") and second == "system_profiler: not found"


def test_a_failing_ioreg_is_a_gap_and_system_profiler_answers(tmp_path):
    root = variant(tmp_path, TINYPILOT, commands={IOREG_USB: {"returncode": 1, "stderr": "ioreg: plane IOUSB not found"}})
    ctx = context(root, "usb")
    assert [d.product for d in usb.collect(ctx)] == ["Multifunction USB Device", "YubiKey OTP+FIDO+CCID"]
    assert gaps(ctx) == ["ioreg -p IOUSB -l -a exited 1: ioreg: plane IOUSB not found"]


# -- displays -----------------------------------------------------------------------------------


def test_intel_mac_displays_from_raw_edid():
    ctx = context(DOCK, "displays")
    panel, dell = displays.collect(ctx)
    assert (panel.connector, panel.built_in, panel.manufacturer_id, panel.product_code, panel.monitor_name) == (
        "internal", True, "APP", 0xA045, "Color LCD")
    assert (dell.connector, dell.built_in, dell.monitor_name, dell.serial_string) == ("external-1", False, "DELL D2721H", "FJ3HQ23")
    assert dell.edid == edid_fixture("dell_d2721h_external")
    assert gaps(ctx) == []


def test_apple_silicon_falls_back_to_system_profiler():
    ctx = context(TINYPILOT, "displays")
    panel, kvm = displays.collect(ctx)
    assert (panel.connector, panel.built_in, panel.manufacturer_id, panel.product_code, panel.monitor_name) == (
        "internal", True, "APP", 0xA04D, "Color LCD")
    assert (kvm.connector, kvm.built_in, kvm.manufacturer_id, kvm.product_code, kvm.serial_number) == (
        "external-2", False, "TSB", 0x9876, 0x88888800)
    assert (kvm.monitor_name, kvm.manufacture_year, kvm.edid) == ("TinyPilot", 2020, b"")
    assert gaps(ctx) == []


def test_no_display_tool_at_all_is_two_gaps(tmp_path):
    root = variant(tmp_path, TINYPILOT, commands={IOREG_DISPLAYS: REMOVE, PROFILER_DISPLAYS: REMOVE})
    ctx = context(root, "displays")
    assert displays.collect(ctx) == []
    assert gaps(ctx) == ["ioreg: not found", "system_profiler: not found"]


def test_unknown_vendor_placeholder_and_bad_json(tmp_path):
    screen = {"_name": "Display", "_spdisplays_display-vendor-id": "756e6b6e", "_spdisplays_display-product-id": "zz"}
    root = variant(tmp_path, TINYPILOT, commands={PROFILER_DISPLAYS: '{"SPDisplaysDataType": [{"spdisplays_ndrvs": [%s]}]}'
                                                  % json.dumps(screen)})
    (display,) = displays.collect(context(root, "displays"))
    assert (display.manufacturer_id, display.product_code, display.connector) == ("", 0, "external-0")
    broken = variant(tmp_path / "b", TINYPILOT, commands={PROFILER_DISPLAYS: "{not json"})
    ctx = context(broken, "displays")
    assert displays.collect(ctx) == []
    assert gaps(ctx)[0].startswith("system_profiler SPDisplaysDataType: unparsable JSON")


def test_non_string_values_in_system_profiler_do_not_lose_the_display(tmp_path):
    screen = {"_name": "PiKVM V4 Plus", "_spdisplays_display-vendor-id": "31d8", "_spdisplays_display-product-id": None,
              "_spdisplays_display-year": 2021, "_spdisplays_display-serial-number": 16843009}
    document = {"SPDisplaysDataType": [None, {"spdisplays_ndrvs": ["garbage", screen]}]}
    root = variant(tmp_path, TINYPILOT, commands={PROFILER_DISPLAYS: json.dumps(document)})
    ctx = context(root, "displays")
    (display,) = displays.collect(ctx)
    assert (display.monitor_name, display.manufacturer_id, display.product_code, display.manufacture_year) == (
        "PiKVM V4 Plus", "LNX", 0, 2021)
    assert gaps(ctx) == []


# -- network ------------------------------------------------------------------------------------


def test_network_position_of_the_tinypilot_mac():
    ctx = context(TINYPILOT, "network")
    found = network.collect(ctx)
    kinds = {i.name: i.kind for i in found.interfaces}
    assert kinds == {"lo0": "loopback", "en0": "wifi", "awdl0": "wifi", "utun0": "tunnel", "utun4": "tunnel", "bridge0": "bridge"}
    en0 = next(i for i in found.interfaces if i.name == "en0")
    assert (en0.mac, list(en0.addresses), en0.is_up) == ("bc:d0:74:3a:5e:01", ["192.168.0.14", "fe80::1c3a:9e2f:7b41:5d10"], True)
    gateway = found.default_gateway
    assert (gateway.ip, gateway.mac, gateway.interface) == ("192.168.0.1", "88:36:6c:0a:1b:2c", "en0")
    assert (found.wifi.ssid, found.wifi.bssid) == ("iptime-5G", "88:36:6c:0a:1b:2d")
    assert list(found.dns_servers) == ["168.126.63.1", "168.126.63.2"]
    assert found.ip_forwarding is False
    listeners = {(listener.ip, listener.port, listener.protocol, listener.process_name) for listener in found.listeners}
    assert ("0.0.0.0", 5900, "tcp", "screensharingd") in listeners and ("192.168.0.14", 5353, "udp", "") in listeners
    inbound = next(c for c in found.connections if c.local_port == 5900)
    assert (inbound.remote_ip, inbound.remote_port, inbound.status, inbound.pid) == ("192.168.0.23", 50412, "ESTABLISHED", 530)
    assert gaps(ctx) == []


def test_a_redacted_bssid_is_withheld_and_said_so():
    ctx = context(DOCK, "network")
    found = network.collect(ctx)
    assert (found.wifi.ssid, found.wifi.bssid, found.default_gateway.interface) == ("ACME-Corp", "", "en7")
    assert {i.name: i.kind for i in found.interfaces}["en7"] == "ethernet"
    assert list(found.wifi_nearby) == []  # no BSSID in system_profiler either: nothing to place the Mac by
    assert gaps(ctx) == ["wifi bssid withheld: Location Services not authorised for farmwatch-agent",
                         "wifi_nearby: BSSIDs of 3 access point(s) withheld: Location Services not authorised for "
                         "farmwatch-agent"]


def test_access_points_in_range_of_the_tinypilot_mac():
    found = network.collect(context(TINYPILOT, "network")).wifi_nearby
    assert [(ap.bssid, ap.ssid, ap.signal_dbm, ap.channel) for ap in found][:3] == [
        ("88:36:6c:0a:1b:2d", "iptime-5G", -52, 149), ("88:36:6c:0a:1b:2c", "iptime", -55, 1),
        ("00:23:aa:7a:1c:05", "KT_GiGA_5G_Wave2_7A1C", -67, 36)]
    assert len(found) == 7 and (found[-1].ssid, found[-1].signal_dbm) == ("DIRECT-4B-HP M283 LaserJet", 0)
    assert ("1c:1c:fd:9f:6e:02", "") in {(ap.bssid, ap.ssid) for ap in found}  # a hidden network


def test_system_profiler_answers_that_are_no_json_are_a_gap(tmp_path):
    root = variant(tmp_path, TINYPILOT, commands={"system_profiler SPAirPortDataType -json": "Wi-Fi:\n\n  Interfaces:\n"})
    ctx = context(root, "network")
    assert list(network.collect(ctx).wifi_nearby) == []
    assert [gap.split(" (")[0] for gap in gaps(ctx)] == ["wifi_nearby: system_profiler SPAirPortDataType gave no JSON"]


def test_ipconfig_summary_stands_in_for_wdutil(tmp_path):
    summary = "<dictionary> {\n  InterfaceType : WiFi\n  SSID : Office\n  BSSID : 0:1a:2b:3c:4d:5e\n}\n"
    root = variant(tmp_path, TINYPILOT, commands={"wdutil info": REMOVE, "ipconfig getsummary en0": summary})
    assert (network.collect(context(root, "network")).wifi.ssid) == "Office"


def test_route_and_arp_edge_cases():
    assert macos_network.parse_route_get("route: writing to routing socket: not in table\n").ip == ""
    link_gateway = macos_network.parse_route_get("   route to: default\n    gateway: link#17\n  interface: utun4\n")
    assert link_gateway.ip == ""
    assert macos_network.parse_arp("? (10.0.0.1) at (incomplete) on en0 ifscope [ethernet]\n") == ""
    assert macos_network.parse_arp("? (10.0.0.1) at 0:1a:2b:3:4:5 on en0 ifscope [ethernet]\n") == "00:1a:2b:03:04:05"


def test_no_default_route_leaves_the_gateway_empty(tmp_path):
    refusal = {"returncode": 1, "stderr": "route: writing to routing socket: not in table"}
    root = variant(tmp_path, TINYPILOT, commands={"route -n get default": refusal})
    ctx = context(root, "network")
    assert network.collect(ctx).HasField("default_gateway") is False
    assert gaps(ctx) == ["route -n get default exited 1: route: writing to routing socket: not in table"]


# -- remote access and sessions -------------------------------------------------------------------


def test_screen_sharing_and_remote_management_on():
    found = [(s.service, s.enabled) for s in remote_access.collect(context(TINYPILOT, "remote_access"))]
    assert found == [("screen_sharing", True), ("remote_management", True), ("remote_login", False)]


def test_all_off_on_the_office_mac():
    found = [(s.service, s.enabled) for s in remote_access.collect(context(DOCK, "remote_access"))]
    assert found == [("screen_sharing", False), ("remote_management", False), ("remote_login", False)]


def test_a_running_ard_agent_means_remote_management_and_a_missing_override_file_is_a_gap(tmp_path):
    root = variant(tmp_path, DOCK, tables={"processes": [
        {"pid": 520, "ppid": 1, "name": "ARDAgent", "exe": "/System/Library/CoreServices/RemoteManagement/ARDAgent.app/"
         "Contents/MacOS/ARDAgent", "cmdline": [], "username": "root", "create_time": 1_764_000_005}]})
    (root / "var/db/com.apple.xpc.launchd/disabled.plist").write_bytes(plistlib.dumps({"com.openssh.sshd": False}))
    found = [(s.service, s.enabled) for s in remote_access.collect(context(root, "remote_access"))]
    assert found == [("screen_sharing", False), ("remote_management", True), ("remote_login", True)]
    (root / "var/db/com.apple.xpc.launchd/disabled.plist").unlink()
    ctx = context(root, "remote_access")
    remote_access.collect(ctx)
    assert gaps(ctx) == ["/var/db/com.apple.xpc.launchd/disabled.plist unreadable: Screen Sharing and Remote Login assumed off"]


def test_sessions_from_the_login_table():
    found = [(s.user, s.terminal, s.remote_host, s.started_at.seconds) for s in sessions.collect(context(TINYPILOT, "sessions"))]
    assert found == [("hkim", "console", "", 1_764_000_030), ("hkim", "ttys000", "", 1_764_000_700)]


def test_a_missing_table_is_a_gap(tmp_path):
    root = variant(tmp_path, TINYPILOT, tables={"users": REMOVE})
    ctx = context(root, "sessions")
    assert sessions.collect(ctx) == []
    assert gaps(ctx) == ["users: not available on this machine"]


# -- the whole report ---------------------------------------------------------------------------------


def test_scan_of_a_recorded_mac_is_a_macos_report():
    report = build_report(recorded(TINYPILOT))
    assert report.device_id == report.host.serial_number == "FVFJ21K3Q6L4"
    assert report.host.os == "macos"
    assert [(d.vendor_id, d.product_id) for d in report.usb_devices] == [("1d6b", "0104"), ("1050", "0407")]
    assert "TinyPilot" in [d.monitor_name for d in report.displays]
    assert ("screen_sharing", True) in [(s.service, s.enabled) for s in report.remote_access]
    assert any(p.bundle_id == "com.philandro.anydesk" for p in report.processes)
    assert report.network.wifi.bssid == "88:36:6c:0a:1b:2d"
    assert set(report.agent_stats.probe_seconds) == set(PROBES)
    assert [(e.probe, e.error) for e in report.probe_errors] == [("processes", "exe unreadable for 1 process (access denied)")]


def test_a_plain_sysroot_forced_to_macos_reports_its_gaps(tmp_path):
    ctx = ProbeContext.create(tmp_path, os_name="macos").for_probe("usb")
    assert usb.collect(ctx) == [] and gaps(ctx) == ["ioreg: not found", "system_profiler: not found"]


def test_a_broken_recording_is_refused_like_a_bad_sysroot(tmp_path):
    (tmp_path / ".recorded").mkdir()
    (tmp_path / ".recorded/machine.json").write_text("{not json")
    with pytest.raises(SysrootError, match="machine.json"):
        build_report(tmp_path)


def test_a_tool_that_hangs_is_a_gap_naming_the_command():
    ctx = ProbeContext.create().for_probe("usb")
    assert ctx.run(["sleep", "5"], timeout=0.1) is None
    assert gaps(ctx) == ["sleep 5: no answer within 0.1 s"]


def test_system_profiler_stands_in_when_ioreg_is_missing(tmp_path):
    root = variant(tmp_path, TINYPILOT, commands={IOREG_USB: REMOVE})
    ctx = context(root, "usb")
    gadget, yubikey = usb.collect(ctx)
    assert (gadget.vendor_id, gadget.product_id, gadget.manufacturer, gadget.product, gadget.serial) == (
        "1d6b", "0104", "tinypilot", "Multifunction USB Device", "6b65796d696d6570690")
    assert (gadget.bcd_device, gadget.speed_mbps, gadget.bus_path, list(gadget.interfaces)) == ("0100", 480.0, "0x00100000", [])
    assert (yubikey.vendor_id, yubikey.bcd_device, yubikey.speed_mbps) == ("1050", "0543", 12.0)
    assert gaps(ctx) == ["ioreg: not found"]


def test_system_profiler_spellings():
    entry = {"_name": "Apple Keyboard", "vendor_id": "apple_vendor_id", "product_id": "0x024f", "bcd_device": "12.1",
             "location_id": "0x14330000 / 6"}
    (device,) = macos_usb.parse_system_profiler_usb({"SPUSBDataType": [{"_items": [entry]}]})
    assert (device.vendor_id, device.product_id, device.bcd_device, device.bus_path) == ("05ac", "024f", "1210", "0x14330000")
    assert macos_usb.parse_system_profiler_usb({}) == []  # macOS 26: the data type is empty
