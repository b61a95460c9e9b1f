"""Windows probes on recorded PCs: a ThinkPad with a PiKVM attached (RDP on with a live
session from outside, Korean keyboard layout, AnyDesk) and one on a Lenovo dock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from farmwatch.agent.probes import PROBES, applications, displays, host, network, processes, remote_access, sessions, usb
from farmwatch.agent.probes.context import ProbeContext
from farmwatch.agent.probes.machine import PROCESS_FIELDS, LiveMachine
from farmwatch.agent.probes.registry import DictRegistry
from farmwatch.agent.probes.windows import _powershell
from farmwatch.agent.probes.windows import applications as windows_applications
from farmwatch.agent.probes.windows import displays as windows_displays
from farmwatch.agent.probes.windows import host as windows_host
from farmwatch.agent.probes.windows import network as windows_network
from farmwatch.agent.probes.windows import usb as windows_usb
from farmwatch.agent.scan import build_report
from recorded_machines import REMOVE, context, recorded, variant
from sysroot_builder import edid_fixture
from sysroot_machines import gaps

PIKVM, DOCK = "windows/pikvm_thinkpad", "windows/dock_thinkpad"
PS = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command # farmwatch "
SID = "S-1-5-21-3623811015-3361044348-30300820-1001"


def _interfaces(device):
    return [(i.interface_class, i.interface_subclass, i.interface_protocol, i.driver) for i in device.interfaces]


# -- host ---------------------------------------------------------------------------------------


def test_host_identity_clock_and_korean_layout():
    ctx = context(PIKVM, "host")
    found = host.collect(ctx)
    assert (found.os, found.os_version, found.arch, found.hostname) == ("windows", "10.0.22631", "x86_64", "ACME-PF4K2Z9Q")
    assert (found.serial_number, found.hardware_model) == ("PF4K2Z9Q", "LENOVO 21HMCTO1WW")
    assert (found.timezone, found.utc_offset_minutes, found.locale) == ("Asia/Seoul", 540, "en-US")
    assert list(found.keyboard_layouts) == ["00000409", "00000412"]  # the person's hive, not the service's
    assert gaps(ctx) == []


def test_host_on_the_docked_pc_in_chicago():
    found = host.collect(context(DOCK, "host"))
    assert (found.timezone, found.serial_number, list(found.keyboard_layouts)) == ("America/Chicago", "PF3J8W1L", ["00000409"])
    assert found.utc_offset_minutes in (-360, -300)


def test_a_zone_without_an_iana_name_keeps_the_active_bias(tmp_path):
    root = variant(tmp_path, DOCK, registry={"HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation": {
        "TimeZoneKeyName": "Marquesas Standard Time", "ActiveTimeBias": 570}})
    ctx = context(root, "host")
    found = host.collect(ctx)
    assert (found.timezone, found.utc_offset_minutes) == ("", -570)
    assert gaps(ctx) == ["time zone 'Marquesas Standard Time' has no IANA name here"]


def test_a_negative_bias_is_stored_as_an_unsigned_dword(tmp_path):
    root = variant(tmp_path, DOCK, registry={"HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation": {
        "TimeZoneKeyName": "Lord Howe Standard Time", "ActiveTimeBias": (1 << 32) - 630}})
    assert host.collect(context(root, "host")).utc_offset_minutes == 630


def test_a_placeholder_bios_serial_and_no_powershell(tmp_path):
    root = variant(tmp_path, DOCK, commands={PS + "bios-serial": '{"SerialNumber":"To be filled by O.E.M."}'})
    assert host.collect(context(root, "host")).serial_number == ""
    missing = variant(tmp_path / "m", DOCK, commands={PS + "bios-serial": REMOVE})
    ctx = context(missing, "host")
    assert host.collect(ctx).serial_number == ""
    assert gaps(ctx) == ["powershell.exe: not found"]


@pytest.mark.parametrize(("values", "version"), [
    ({"CurrentMajorVersionNumber": 10, "CurrentMinorVersionNumber": 0, "CurrentBuildNumber": "26100"}, "10.0.26100"),
    ({"CurrentVersion": "6.1", "CurrentBuildNumber": "7601"}, "6.1"),
    ({}, ""),
])
def test_windows_version(values, version):
    assert windows_host.windows_version(values) == version


# -- processes and applications -------------------------------------------------------------------


def test_processes_from_the_process_table():
    ctx = context(PIKVM, "processes")
    found = {p.pid: p for p in processes.collect(ctx)}
    anydesk = found[3120]
    assert (anydesk.name, anydesk.exe, list(anydesk.cmdline), anydesk.username, anydesk.ppid) == (
        "AnyDesk.exe", "C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe",
        ["C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe", "--service"], "NT AUTHORITY\\SYSTEM", 900)
    assert (found[4].name, found[4].exe, found[728].username) == ("System", "", "")
    assert gaps(ctx) == ["exe unreadable for 1 process (access denied)"]


def test_installed_programs_from_all_three_uninstall_views_and_non_svchost_services():
    ctx = context(PIKVM, "applications")
    found = [(a.name, a.version, a.path, a.publisher, a.source) for a in applications.collect(ctx)]
    assert found == [
        ("7-Zip 24.08 (x64)", "24.08", "C:\\Program Files\\7-Zip", "Igor Pavlov", "registry"),
        ("Google Chrome", "131.0.6778.86", "C:\\Program Files\\Google\\Chrome\\Application", "Google LLC", "registry"),
        ("Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.40.33816", "14.40.33816.0", "",
         "Microsoft Corporation", "registry"),
        ("AnyDesk", "ad 8.1.0", "C:\\Program Files (x86)\\AnyDesk", "AnyDesk Software GmbH", "registry"),
        ("Microsoft Edge", "131.0.2903.70", "C:\\Program Files (x86)\\Microsoft\\Edge\\Application",
         "Microsoft Corporation", "registry"),
        ("RustDesk", "1.3.2", "C:\\Users\\mrivera\\AppData\\Local\\rustdesk", "RustDesk", "registry"),
        ("CSFalconService", "", "C:\\Program Files\\CrowdStrike\\CSFalconService.exe", "", "service"),
        ("IntelAudioService", "", "C:\\WINDOWS\\System32\\cAVS\\Intel(R) Audio Service\\IntelAudioService.exe", "", "service"),
        ("AnyDesk", "", "C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe", "", "service"),
    ]
    assert gaps(ctx) == []


@pytest.mark.parametrize(("command_line", "exe"), [
    ('"C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe" --service', "C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe"),
    ("C:\\Windows\\system32\\svchost.exe -k netsvcs -p", "C:\\Windows\\system32\\svchost.exe"),
    ("C:\\Program Files\\Tight VNC\\tvnserver.exe -service", "C:\\Program Files\\Tight VNC\\tvnserver.exe"),
    ("\\SystemRoot\\System32\\drivers\\acpi.sys", "\\SystemRoot\\System32\\drivers\\acpi.sys"),
])
def test_service_executable(command_line, exe):
    assert windows_applications.service_executable(command_line) == exe


def test_no_service_table_is_a_gap_and_programs_still_come(tmp_path):
    root = variant(tmp_path, DOCK, tables={"services": REMOVE})
    ctx = context(root, "applications")
    assert {a.source for a in applications.collect(ctx)} == {"registry"}
    assert gaps(ctx) == ["services: not available on this machine"]


# -- usb -------------------------------------------------------------------------------------------


def test_pikvm_composite_with_its_functions():
    ctx = context(PIKVM, "usb")
    gadget, camera, bluetooth = usb.collect(ctx)
    assert (gadget.vendor_id, gadget.product_id, gadget.product, gadget.serial) == (
        "1d6b", "0104", "PiKVM Composite Device", "CAFEBABE")
    assert (gadget.device_class, gadget.bcd_device, gadget.bus_path, gadget.manufacturer) == (
        "00", "0101", "Port_#0002.Hub_#0001", "")
    assert _interfaces(gadget) == [
        ("03", "01", "01", "HidUsb"), ("03", "00", "00", "HidUsb"), ("03", "01", "02", "HidUsb"),
        ("08", "06", "50", "USBSTOR"), ("e0", "01", "03", "usb_rndisx")]
    assert (camera.device_class, camera.serial, _interfaces(camera)) == ("ef", "0001", [("0e", "01", "00", "usbvideo")])
    assert (bluetooth.serial, bluetooth.device_class, _interfaces(bluetooth)) == ("", "", [("e0", "01", "01", "BTHUSB")])
    assert gaps(ctx) == []


def test_dock_devices_behind_the_dock_hub():
    hub, lan, receiver = usb.collect(context(DOCK, "usb"))
    assert (hub.vendor_id, hub.device_class, hub.product) == ("17ef", "09", "USB2.0 Hub")
    assert (lan.serial, lan.bcd_device, _interfaces(lan)) == ("001000001", "3100", [("ff", "ff", "00", "rtux64w10")])
    assert [i[:3] for i in _interfaces(receiver)] == [("03", "01", "01"), ("03", "01", "02"), ("03", "00", "00")]


def test_one_device_comes_back_as_an_object_not_a_list(tmp_path):
    single = ('{"InstanceId":"USB\\\\VID_16C0&PID_27DB\\\\5&2b1c&0&2","FriendlyName":"USB Input Device","Service":"HidUsb",'
              '"HardwareID":["USB\\\\VID_16C0&PID_27DB&REV_0100"],"CompatibleID":"USB\\\\Class_03&SubClass_01&Prot_01",'
              '"BusReportedDeviceDesc":null,"LocationInfo":null,"Parent":null}')
    root = variant(tmp_path, DOCK, commands={PS + "usb-devices": single})
    (device,) = usb.collect(context(root, "usb"))
    assert (device.vendor_id, device.product_id, device.product, device.serial, device.bcd_device) == (
        "16c0", "27db", "USB Input Device", "", "0100")
    assert _interfaces(device) == [("03", "01", "01", "HidUsb")]


def test_orphan_functions_and_other_enumerators_are_ignored():
    entries = [{"InstanceId": "USB\\VID_1D6B&PID_0104&MI_00\\7&1&0&0000", "Parent": "USB\\VID_1D6B&PID_0104\\GONE",
                "CompatibleID": ["USB\\Class_03&SubClass_01&Prot_01"]},
               {"InstanceId": "HID\\VID_1D6B&PID_0104&MI_00\\8&1&0&0000"}, {"InstanceId": None}]
    assert windows_usb.parse_pnp_usb(entries) == []


@pytest.mark.parametrize(("answer", "gap"), [
    ({"returncode": 1, "stderr": "Get-PnpDevice : Access denied"}, "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy "
     "Bypass -Command # farmwatch usb-devices exited 1: Get-PnpDevice : Access denied"),
    ("WARNING: something\n", "farmwatch usb-devices: PowerShell printed no JSON (Expecting value: line 1 column 1 (char 0))"),
])
def test_failing_or_chatty_powershell_is_a_gap(tmp_path, answer, gap):
    root = variant(tmp_path, DOCK, commands={PS + "usb-devices": answer})
    ctx = context(root, "usb")
    assert usb.collect(ctx) == []
    assert gaps(ctx) == [gap]


def test_no_results_is_no_devices(tmp_path):
    root = variant(tmp_path, DOCK, commands={PS + "usb-devices": ""})
    ctx = context(root, "usb")
    assert usb.collect(ctx) == [] and gaps(ctx) == []


# -- displays ---------------------------------------------------------------------------------------


def test_active_monitors_with_their_registry_edid():
    ctx = context(PIKVM, "displays")
    panel, kvm = displays.collect(ctx)
    assert (panel.connector, panel.built_in, panel.manufacturer_id, panel.product_code) == (
        "DISPLAY\\AUO403D\\4&2f3c1a7&0&UID8388688", True, "AUO", 0x403D)
    assert (kvm.connector, kvm.built_in, kvm.manufacturer_id, kvm.product_code, kvm.monitor_name, kvm.serial_string) == (
        "DISPLAY\\LNX7773\\5&1d8e2a4b&0&UID4352", False, "LNX", 0x7773, "PiKVM V4 Plus", "CAFEBABE")
    assert kvm.edid == edid_fixture("pikvm_v4plus_kvm")
    assert gaps(ctx) == []  # the Dell remembered in Enum\DISPLAY is not connected: not reported


def test_a_panel_without_edid_in_the_registry_is_described_by_wmi():
    panel, dell = displays.collect(context(DOCK, "displays"))
    assert (panel.manufacturer_id, panel.product_code, panel.built_in, panel.monitor_name, panel.edid) == (
        "BOE", 0x0B66, True, "", b"")
    assert (dell.monitor_name, dell.built_in, dell.edid) == ("DELL D2721H", False, edid_fixture("dell_d2721h_external"))


def test_wmi_strings_are_utf16_code_units():
    assert windows_displays.wmi_text([80, 105, 75, 86, 77, 0, 0]) == "PiKVM"
    assert windows_displays.wmi_text(None) == ""
    monitor = {"ManufacturerName": [108, 110, 120], "ProductCodeID": [88, 89], "YearOfManufacture": None}
    display = windows_displays.wmi_display(monitor, "DISPLAY\\X", False)
    assert (display.manufacturer_id, display.product_code, display.manufacture_year) == ("LNX", 0, 0)


@pytest.mark.parametrize(("code", "year"), [("1234ABCD5678", 2024), ("1A2B", "2021"), ("1A2B", -1), ("1A2B", 2**40)])
def test_wmi_numbers_out_of_the_reports_range_are_left_out_not_fatal(code, year):
    monitor = {"ManufacturerName": [68, 69, 76], "ProductCodeID": [ord(c) for c in code], "YearOfManufacture": year}
    display = windows_displays.wmi_display(monitor, "DISPLAY\\X", False)
    assert display.manufacturer_id == "DEL"
    assert display.product_code == (0x1A2B if code == "1A2B" else 0)
    assert display.manufacture_year == (year if year == 2024 else 0)


def test_a_corrupt_registry_edid_keeps_what_wmi_knows(tmp_path):
    key = "HKLM\\SYSTEM\\CurrentControlSet\\Enum\\DISPLAY\\LNX7773\\5&1d8e2a4b&0&UID4352\\Device Parameters"
    root = variant(tmp_path, PIKVM, registry={key: {"EDID": {"hex": "00ffffffffffff0031d87377"}}})
    ctx = context(root, "displays")
    kvm = displays.collect(ctx)[1]
    assert (kvm.manufacturer_id, kvm.product_code, kvm.monitor_name, kvm.edid) == (
        "LNX", 0x7773, "PiKVM V4 Plus", bytes.fromhex("00ffffffffffff0031d87377"))
    assert gaps(ctx) == ["DISPLAY\\LNX7773\\5&1d8e2a4b&0&UID4352: EDID too short: 12 bytes, a base block is 128"]


def test_stray_values_in_powershell_answers_are_skipped(tmp_path):
    entries = ["garbage", None, {"InstanceId": "USB\\VID_16C0&PID_27DB\\5&1&0&1", "BusReportedDeviceDesc": "Input"}]
    (device,) = windows_usb.parse_pnp_usb(_powershell.as_objects(entries))
    assert (device.vendor_id, device.product_id) == ("16c0", "27db")
    answer = '{"Monitors": [null, 7, {"InstanceName": "DISPLAY\\\\DEL2013\\\\X_0", "Active": true}], "Connections": ["x"]}'
    root = variant(tmp_path, DOCK, commands={PS + "monitors": answer})
    assert [d.connector for d in displays.collect(context(root, "displays"))] == ["DISPLAY\\DEL2013\\X"]


def test_inactive_monitors_are_left_out(tmp_path):
    answer = ('{"Monitors": {"InstanceName": "DISPLAY\\\\DEL2013\\\\5&1d8e2a4b&0&UID4357_0", "Active": false}, '
              '"Connections": []}')
    root = variant(tmp_path, DOCK, commands={PS + "monitors": answer})
    assert displays.collect(context(root, "displays")) == []


# -- network --------------------------------------------------------------------------------------


def test_network_position_of_the_pikvm_pc():
    ctx = context(PIKVM, "network")
    found = network.collect(ctx)
    assert {i.name: i.kind for i in found.interfaces} == {
        "Wi-Fi": "wifi", "Ethernet 3": "ethernet", "vEthernet (WSL)": "virtual", "Loopback Pseudo-Interface 1": "loopback"}
    assert next(i.mac for i in found.interfaces if i.name == "Wi-Fi") == "a4:c3:f0:1b:22:9d"
    assert (found.default_gateway.ip, found.default_gateway.mac, found.default_gateway.interface) == (
        "192.168.1.1", "a0:63:91:aa:bb:cc", "Wi-Fi")
    assert (found.wifi.ssid, found.wifi.bssid) == ("NETGEAR47", "a0:63:91:aa:bb:cd")
    assert list(found.dns_servers) == ["192.168.1.1", "8.8.8.8"]
    assert found.ip_forwarding is True  # Wi-Fi forwards; the WSL switch alone would not count
    rdp = next(c for c in found.connections if c.local_port == 3389)
    assert (rdp.remote_ip, rdp.process_name) == ("203.0.113.45", "svchost.exe")
    assert {(listener.port, listener.protocol) for listener in found.listeners} == {(3389, "tcp"), (3389, "udp")}
    assert gaps(ctx) == []


def test_docked_pc_on_ethernet_with_wifi_off():
    found = network.collect(context(DOCK, "network"))
    assert (found.default_gateway.interface, found.default_gateway.mac) == ("Ethernet 2", "3c:ec:ef:01:02:03")
    assert found.HasField("wifi") and (found.wifi.ssid, found.wifi.bssid) == ("", "")
    assert found.ip_forwarding is False
    assert {i.name: i.kind for i in found.interfaces}["Zscaler"] == "tunnel"


def test_netsh_without_location_access_is_a_gap(tmp_path):
    refusal = {"returncode": 1, "stderr": "Network shell commands need location permission to access WLAN information."}
    root = variant(tmp_path, PIKVM, commands={"netsh wlan show interfaces": refusal})
    ctx = context(root, "network")
    assert network.collect(ctx).wifi.ssid == ""
    assert gaps(ctx) == ["netsh wlan show interfaces exited 1: " + refusal["stderr"]]


def test_access_points_in_range_of_the_pikvm_pc():
    found = network.collect(context(PIKVM, "network")).wifi_nearby
    # Windows' quality runs from -100 dBm (0 %) to -50 dBm (100 %)
    assert [(ap.bssid, ap.ssid, ap.signal_dbm, ap.channel) for ap in found] == [
        ("a0:63:91:aa:bb:cc", "NETGEAR47", -51, 6), ("a0:63:91:aa:bb:cd", "NETGEAR47", -54, 149),
        ("b0:be:76:0f:58:02", "MySpectrumWiFi58-2G", -71, 11), ("70:4f:57:1c:9e:21", "", -80, 44),
        ("f4:f2:6d:77:01:02", "xfinitywifi", -87, 37)]


def test_netsh_networks_in_german_are_read_by_their_structure():
    text = (Path(__file__).parent / "fixtures" / "windows" / "netsh_networks_de.txt").read_text(encoding="utf-8")
    found = windows_network.parse_netsh_networks(text)
    assert [(ap.bssid, ap.ssid, ap.signal_dbm, ap.channel) for ap in found] == [
        ("3c:a6:2f:11:22:33", "FRITZ!Box 7590 XY", -57, 36), ("34:31:c4:9a:00:7e", "o2-WLAN21", -85, 1)]


def test_older_netsh_says_bssid():
    wifi = windows_network.parse_netsh_wlan("    State  : connected\n    SSID   : Home\n    BSSID  : AA:BB:CC:00:11:22\n")
    assert (wifi.ssid, wifi.bssid) == ("Home", "aa:bb:cc:00:11:22")


# -- remote access and sessions ----------------------------------------------------------------------


def test_rdp_and_remote_assistance_on():
    found = [(s.service, s.enabled) for s in remote_access.collect(context(PIKVM, "remote_access"))]
    assert found == [("rdp", True), ("remote_assistance", True)]


def test_policy_overrides_the_local_rdp_switch(tmp_path):
    assert [(s.service, s.enabled) for s in remote_access.collect(context(DOCK, "remote_access"))] == [
        ("rdp", False), ("remote_assistance", False)]
    root = variant(tmp_path, DOCK, registry={"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server": {
        "fDenyTSConnections": 0}})
    assert remote_access.collect(context(root, "remote_access"))[0].enabled is False  # the policy still denies


def test_sessions_include_the_rdp_login_from_outside():
    found = [(s.user, s.terminal, s.remote_host) for s in sessions.collect(context(PIKVM, "sessions"))]
    assert found == [("mrivera", "", ""), ("mrivera", "RDP-Tcp#0", "203.0.113.45")]


def test_no_registry_is_one_gap_per_probe_that_needs_it(tmp_path):
    root = variant(tmp_path, PIKVM, tables={"registry": REMOVE})
    ctx = context(root, "remote_access")
    assert remote_access.collect(ctx) == []
    assert gaps(ctx) == ["registry: not available on this machine"]


# -- the registry reader and the whole report ------------------------------------------------------


def test_dict_registry_is_case_insensitive_and_knows_intermediate_keys():
    reader = DictRegistry({"HKLM\\SOFTWARE\\Vendor\\Tool": {"Version": "1"}, "HKU\\S-1-5-21-1-1001\\Keyboard Layout\\Preload": {}})
    assert reader.subkeys("hklm\\software") == ["Vendor"]
    assert reader.values("HKLM\\Software\\vendor\\tool") == {"Version": "1"}
    assert reader.values("HKLM\\SOFTWARE\\Vendor") == {}
    assert reader.values("HKLM\\SOFTWARE\\Other") is None and reader.subkeys("HKLM\\SOFTWARE\\Other") == []
    assert reader.subkeys("HKU") == ["S-1-5-21-1-1001"]


def test_as_list_evens_out_convertto_json():
    assert (_powershell.as_list(None), _powershell.as_list({"a": 1}), _powershell.as_list([1, 2])) == ([], [{"a": 1}], [1, 2])


def test_scan_of_a_recorded_pc_is_a_windows_report():
    report = build_report(recorded(PIKVM))
    assert report.device_id == report.host.serial_number == "PF4K2Z9Q"
    assert report.host.os == "windows" and "00000412" in report.host.keyboard_layouts
    assert [(d.vendor_id, d.product_id, d.serial) for d in report.usb_devices][0] == ("1d6b", "0104", "CAFEBABE")
    assert ("LNX", 0x7773) in [(d.manufacturer_id, d.product_code) for d in report.displays]
    assert ("rdp", True) in [(s.service, s.enabled) for s in report.remote_access]
    assert any(a.name == "AnyDesk" and a.source == "registry" for a in report.applications)
    assert set(report.agent_stats.probe_seconds) == set(PROBES)
    assert [(e.probe, e.error) for e in report.probe_errors] == [("processes", "exe unreadable for 1 process (access denied)")]


def test_a_plain_sysroot_forced_to_windows_reports_its_gaps(tmp_path):
    ctx = ProbeContext.create(tmp_path, os_name="windows").for_probe("host")
    found = host.collect(ctx)
    assert (found.os, found.serial_number) == ("windows", "")
    assert gaps(ctx) == ["registry: not available on this machine", "powershell.exe: not found"]


def test_the_live_machine_gives_tables_in_the_shapes_recordings_keep():
    machine = LiveMachine()
    me = next(row for row in machine.processes() if row["pid"] == os.getpid())
    assert set(me) == set(PROCESS_FIELDS) and me["exe"] and me["create_time"] > 0
    assert all(set(row) >= {"type", "laddr", "raddr", "status", "pid"} for row in machine.connections())
    assert "127.0.0.1" in machine.interfaces()["lo"]["addresses"]
    assert machine.boot_time() > 0 and isinstance(machine.users(), list)
    assert (machine.services(), machine.registry()) == (None, None)  # Windows-only, absent here
    assert machine.run(["sh", "-c", "echo hi"], 3.0).stdout == "hi\n" and machine.run(["no-such-tool-x"], 3.0) is None
