"""Machines the recorded fixtures are not: other OS versions, locales, docks and tool output
shapes, each written from what such a machine really prints, run through the real probes.

Each test names the machine it stands for. The expected report is what the facts say, not
what the parser happened to give.
"""

from __future__ import annotations

import dataclasses
import json
import os
import plistlib

import pytest

from farmwatch.agent.probes import displays, host, network, processes, sessions, usb
from farmwatch.agent.probes.macos import usb as macos_usb
from farmwatch.agent.probes.windows import network as windows_network
from farmwatch.agent.scan import build_report, report_to_json
from farmwatch.common.edid import parse_edid
from recorded_machines import REMOVE, context, variant
from sysroot_builder import KEYBOARD, MASS_STORAGE, MOUSE, SysrootBuilder, edid_fixture
from sysroot_machines import gaps, probe_context

WIN_PIKVM, WIN_DOCK = "windows/pikvm_thinkpad", "windows/dock_thinkpad"
MAC_TINYPILOT, MAC_DOCK = "macos/tinypilot_macbook_air", "macos/dock_macbook_pro"
PS = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command # farmwatch "
NETSH = "netsh wlan show interfaces"
IOREG_USB, IOREG_DISPLAYS = "ioreg -p IOUSB -l -a", "ioreg -l -a -r -c IODisplayConnect"
PROFILER_USB, PROFILER_USB_HOST = "system_profiler SPUSBDataType -json", "system_profiler SPUSBHostDataType -json"
PROFILER_DISPLAYS = "system_profiler SPDisplaysDataType -json"


def _interfaces(device):
    return [(i.interface_class, i.interface_subclass, i.interface_protocol, i.driver) for i in device.interfaces]


def _utf16(text: str, size: int = 16) -> list[int]:
    """A WmiMonitorID string: UTF-16 code units padded with zeros."""
    return [ord(c) for c in text] + [0] * (size - len(text))


# == Windows ======================================================================================


def _pnp(instance, *, name="", service="", hardware=(), compatible=(), desc=None, location=None, parent=None, cls="USB"):
    return {"InstanceId": instance, "FriendlyName": name, "Service": service, "Class": cls,
            "HardwareID": list(hardware), "CompatibleID": list(compatible), "BusReportedDeviceDesc": desc,
            "LocationInfo": location, "Parent": parent}


COMET = [
    _pnp("USB\\VID_1D6B&PID_0104\\CAFEBABE", name="USB-Verbundgerät", service="usbccgp",
         hardware=["USB\\VID_1D6B&PID_0104&REV_0100"], compatible=["USB\\DevClass_00&SubClass_00&Prot_00", "USB\\COMPOSITE"],
         desc="Composite KVM Device", location="Port_#0002.Hub_#0001", parent="USB\\ROOT_HUB30\\4&1b2c3d4e&0&0"),
    _pnp("USB\\VID_1D6B&PID_0104&MI_00\\7&2a1b3c4d&0&0000", name="USB-Eingabegerät", service="HidUsb", cls="HIDClass",
         compatible=["USB\\Class_03&SubClass_01&Prot_01"], parent="USB\\VID_1D6B&PID_0104\\CAFEBABE"),
    _pnp("USB\\VID_1D6B&PID_0104&MI_03\\7&2a1b3c4d&0&0003", name="USB-Massenspeichergerät", service="USBSTOR",
         compatible=["USB\\Class_08&SubClass_06&Prot_50"], parent="USB\\VID_1D6B&PID_0104\\CAFEBABE"),
]


def test_windows_german_pc_with_a_comet_kvm_and_utf8_bom(tmp_path):
    """Windows 11 German: FriendlyNames are localised (BusReportedDeviceDesc is not), and a
    PowerShell whose output encoding is UTF-8 starts its answer with a byte order mark."""
    answer = "\ufeff" + json.dumps(COMET, ensure_ascii=False, indent=4)
    root = variant(tmp_path, WIN_DOCK, commands={PS + "usb-devices": answer})
    ctx = context(root, "usb")
    (kvm,) = usb.collect(ctx)
    assert (kvm.vendor_id, kvm.product_id, kvm.product, kvm.serial, kvm.bcd_device) == (
        "1d6b", "0104", "Composite KVM Device", "CAFEBABE", "0100")
    assert _interfaces(kvm) == [("03", "01", "01", "HidUsb"), ("08", "06", "50", "USBSTOR")]
    assert gaps(ctx) == []


def test_windows_powershell_51_wraps_an_array_in_value_and_count(tmp_path):
    """Windows PowerShell 5.1 serialises an array that carries ETS members (System.Array's Count
    alias) as {"value": [...], "Count": n}."""
    answer = json.dumps({"value": COMET, "Count": len(COMET)})
    root = variant(tmp_path, WIN_DOCK, commands={PS + "usb-devices": answer})
    (kvm,) = usb.collect(context(root, "usb"))
    assert (kvm.vendor_id, len(kvm.interfaces)) == ("1d6b", 2)


def test_windows_usb_entries_with_null_fields(tmp_path):
    """A device in a problem state (code 43) has no hardware or compatible ids and no
    bus-reported description; PowerShell says null for each."""
    answer = json.dumps([
        {"InstanceId": "USB\\VID_0000&PID_0002\\5&3a1b2c&0&4", "FriendlyName": "Unbekanntes USB-Gerät (Fehler beim Anfordern einer Gerätebeschreibung)",
         "Service": None, "Class": "USB", "HardwareID": None, "CompatibleID": None, "BusReportedDeviceDesc": None,
         "LocationInfo": None, "Parent": None},
        {"InstanceId": None, "FriendlyName": None},
    ])
    root = variant(tmp_path, WIN_DOCK, commands={PS + "usb-devices": answer})
    ctx = context(root, "usb")
    (unknown,) = usb.collect(ctx)
    assert (unknown.vendor_id, unknown.product_id, unknown.serial, unknown.bcd_device, unknown.device_class) == (
        "0000", "0002", "", "", "")
    assert unknown.product.startswith("Unbekanntes USB-Gerät")
    assert gaps(ctx) == []


def test_windows_single_monitor_with_null_wmi_fields_and_no_registry_edid(tmp_path):
    """A capture input behind an IP-KVM: WmiMonitorID knows the PNP id and code but has null
    name, serial and year; no EDID in the registry; a monitor list of one element."""
    monitors = {"Monitors": {"InstanceName": "DISPLAY\\TSB8888\\5&1f2e3d4c&0&UID4352_0", "Active": True,
                             "ManufacturerName": _utf16("TSB"), "ProductCodeID": _utf16("8888"),
                             "SerialNumberID": None, "UserFriendlyName": None, "YearOfManufacture": None},
                "Connections": {"InstanceName": "DISPLAY\\TSB8888\\5&1f2e3d4c&0&UID4352_0", "VideoOutputTechnology": 5}}
    root = variant(tmp_path, WIN_DOCK, commands={PS + "monitors": json.dumps(monitors)})
    ctx = context(root, "displays")
    (capture,) = displays.collect(ctx)
    assert (capture.connector, capture.manufacturer_id, capture.product_code, capture.monitor_name, capture.built_in) == (
        "DISPLAY\\TSB8888\\5&1f2e3d4c&0&UID4352", "TSB", 0x8888, "", False)
    assert gaps(ctx) == []


def test_windows_displaylink_and_internal_output_technology_as_signed_ints(tmp_path):
    """DisplayLink's indirect display reports VideoOutputTechnology -1 (OTHER); a panel on a
    driver that says INTERNAL (0x80000000) may come back signed."""
    monitors = {"Monitors": [
        {"InstanceName": "DISPLAY\\DELA0B5\\7&3b2a1c0&0&UID256_0", "Active": True, "ManufacturerName": _utf16("DEL"),
         "ProductCodeID": _utf16("A0B5"), "SerialNumberID": _utf16("4YFGQ23"), "UserFriendlyName": _utf16("DELL P2419H", 13),
         "YearOfManufacture": 2020},
        {"InstanceName": "DISPLAY\\SHP14D0\\4&aa11bb2&0&UID8388688_0", "Active": True, "ManufacturerName": _utf16("SHP"),
         "ProductCodeID": _utf16("14D0"), "SerialNumberID": _utf16("0"), "UserFriendlyName": None, "YearOfManufacture": 2021}],
        "Connections": [
            {"InstanceName": "DISPLAY\\DELA0B5\\7&3b2a1c0&0&UID256_0", "VideoOutputTechnology": -1},
            {"InstanceName": "DISPLAY\\SHP14D0\\4&aa11bb2&0&UID8388688_0", "VideoOutputTechnology": -2147483648}]}
    root = variant(tmp_path, WIN_DOCK, commands={PS + "monitors": json.dumps(monitors)})
    dell, panel = displays.collect(context(root, "displays"))
    assert (dell.manufacturer_id, dell.product_code, dell.serial_string, dell.monitor_name, dell.built_in) == (
        "DEL", 0xA0B5, "4YFGQ23", "DELL P2419H", False)
    assert (panel.manufacturer_id, panel.built_in) == ("SHP", True)


GERMAN_NETSH = """
Es ist 1 Schnittstelle auf dem System vorhanden:

    Name                   : WLAN
    Beschreibung           : Intel(R) Wi-Fi 6 AX201 160MHz
    GUID                   : 9d1e2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7
    Physische Adresse      : 70:cf:49:12:34:56
    Schnittstellentyp      : Primär
    Status                 : Verbunden
    SSID                   : FRITZ!Box 7590 XY
    AP BSSID               : 3C:A6:2F:11:22:33
    Band                   : 5 GHz
    Kanal                  : 36
    Netzwerktyp            : Infrastruktur
    Funktyp                : 802.11ax
    Authentifizierung      : WPA2-Personal
    Verschlüsselung        : CCMP
    Verbindungsmodus       : Automatisch verbinden
    Empfangsrate (MBit/s)  : 1201
    Übertragungsrate (MBit/s) : 1201
    Signal                 : 99%
    Profil                 : FRITZ!Box 7590 XY

    Status des gehosteten Netzwerks  : Nicht verfügbar
"""

FRENCH_NETSH = """
Il existe 1 interface sur le système :

    Nom                    : Wi-Fi
    Description            : Intel(R) Wi-Fi 6E AX211 160MHz
    GUID                   : 5c1d2f0a-7e33-4b1c-9a2e-0f4d6b8c1a23
    Adresse physique       : a4:c3:f0:1b:22:9d
    État                   : connecté
    SSID                   : Livebox-1A2B
    BSSID                  : 9c:c7:a6:aa:bb:cc
    Type de réseau         : Infrastructure
    Type de radio          : 802.11ax
    Authentification       : WPA2 - Personnel
    Chiffrement            : CCMP
    Mode de connexion      : Connexion automatique
    Canal                  : 44
    Réception (Mbits/s)    : 1201
    Transmission (Mbits/s) : 1201
    Signal                 : 88%
    Profil                 : Livebox-1A2B

    État du réseau hébergé  : Non disponible
"""

TWO_ADAPTERS_NETSH = """
There are 2 interfaces on the system:

    Name                   : Wi-Fi
    Description            : Intel(R) Wi-Fi 6 AX201 160MHz
    GUID                   : 9d1e2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7
    Physical address       : 70:cf:49:12:34:56
    Interface type         : Primary
    State                  : disconnected
    Radio status           : Hardware On
                             Software On

    Name                   : Wi-Fi 2
    Description            : TP-Link Wireless USB Adapter
    GUID                   : 0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9
    Physical address       : 50:3e:aa:01:02:03
    Interface type         : Primary
    State                  : connected
    SSID                   : farm-5G
    AP BSSID               : 10:27:f5:de:ad:01
    Band                   : 5 GHz
    Channel                : 149
    Profile                : farm-5G

    Hosted network status  : Not available
"""


@pytest.mark.parametrize(("output", "ssid", "bssid"), [
    (GERMAN_NETSH, "FRITZ!Box 7590 XY", "3c:a6:2f:11:22:33"),
    (FRENCH_NETSH, "Livebox-1A2B", "9c:c7:a6:aa:bb:cc"),
    (TWO_ADAPTERS_NETSH, "farm-5G", "10:27:f5:de:ad:01"),
])
def test_windows_netsh_in_other_languages_and_with_two_adapters(output, ssid, bssid):
    """The field names and the state are localised (German "Status : Verbunden", French
    "État : connecté"); a USB Wi-Fi adapter may be the connected one after a disconnected
    built-in one. SSID and BSSID are never translated and only printed while connected."""
    wifi = windows_network.parse_netsh_wlan(output)
    assert (wifi.ssid, wifi.bssid) == (ssid, bssid)


def test_windows_german_pc_whose_wifi_adapter_is_called_wlan(tmp_path):
    """On a German Windows the Wi-Fi adapter's alias is "WLAN"; the network probe must still
    ask netsh and report the access point."""
    interfaces = {"WLAN": {"addresses": ["192.168.178.23"], "mac": "70-CF-49-12-34-56", "is_up": True},
                  "Ethernet": {"addresses": [], "mac": "8C-8C-AA-01-02-03", "is_up": False},
                  "Loopback Pseudo-Interface 1": {"addresses": ["127.0.0.1"], "mac": "", "is_up": True}}
    root = variant(tmp_path, WIN_DOCK, commands={NETSH: GERMAN_NETSH}, tables={"interfaces": interfaces})
    found = network.collect(context(root, "network"))
    assert {i.name: i.kind for i in found.interfaces}["WLAN"] == "wifi"
    assert (found.wifi.ssid, found.wifi.bssid) == ("FRITZ!Box 7590 XY", "3c:a6:2f:11:22:33")


def test_windows_wifi_adapter_with_a_name_in_cyrillic(tmp_path):
    """Russian Windows names its Wi-Fi adapter "Беспроводная сеть" (wireless network): the
    adapter netsh describes is the Wi-Fi one whatever it is called."""
    russian = GERMAN_NETSH.replace("Name                   : WLAN", "Имя                    : Беспроводная сеть")
    interfaces = {"Беспроводная сеть": {"addresses": ["10.0.0.5"], "mac": "70-CF-49-12-34-56", "is_up": True},
                  "Loopback Pseudo-Interface 1": {"addresses": ["127.0.0.1"], "mac": "", "is_up": True}}
    root = variant(tmp_path, WIN_DOCK, commands={NETSH: russian}, tables={"interfaces": interfaces})
    found = network.collect(context(root, "network"))
    assert {i.name: i.kind for i in found.interfaces}["Беспроводная сеть"] == "wifi"
    assert found.wifi.bssid == "3c:a6:2f:11:22:33"


def test_windows_unresolved_gateway_neighbour_is_no_mac(tmp_path):
    """Get-NetNeighbor lists an unreachable gateway with LinkLayerAddress 00-00-00-00-00-00:
    that is no MAC, and every laptop would share it."""
    answer = {"Gateway": "192.168.1.1", "InterfaceAlias": "Wi-Fi", "GatewayMac": "00-00-00-00-00-00",
              "DnsServers": ["192.168.1.1", "fe80::1"], "Forwarding": None}
    root = variant(tmp_path, WIN_DOCK, commands={PS + "network": json.dumps(answer)})
    found = network.collect(context(root, "network"))
    assert (found.default_gateway.ip, found.default_gateway.mac) == ("192.168.1.1", "")
    assert found.ip_forwarding is False


def test_windows_bios_serial_as_a_list_with_null(tmp_path):
    """Some OEM BIOSes leave SerialNumber null; Win32_BIOS then prints null, not a string."""
    root = variant(tmp_path, WIN_DOCK, commands={PS + "bios-serial": "\ufeff[{\"SerialNumber\": null}]"})
    ctx = context(root, "host")
    assert host.collect(ctx).serial_number == ""
    assert gaps(ctx) == []


# == macOS ========================================================================================


SPUSBHOST = {"SPUSBHostDataType": [
    {"_name": "USB31Bus", "Driver": "AppleT8112USBXHCI", "USBKeyHardwareType": "Built-in", "USBKeyLocationID": "0x01000000"},
    {"_name": "USB31Bus", "Driver": "AppleT8112USBXHCI", "USBKeyHardwareType": "Built-in", "USBKeyLocationID": "0x02000000",
     "_items": [
         {"_name": "USB2.1 Hub", "USBDeviceKeyLinkSpeed": "480 Mb/s", "USBDeviceKeyProductID": "0x2817",
          "USBDeviceKeyProductVersion": "7.02", "USBDeviceKeySerialNumber": "Not Provided", "USBDeviceKeyVendorID": "0x2109",
          "USBDeviceKeyVendorName": "VIA Labs, Inc.", "USBKeyHardwareType": "Removable", "USBKeyLocationID": "0x02100000",
          "_items": [
              {"_name": "Composite KVM Device", "USBDeviceKeyLinkSpeed": "480 Mb/s", "USBDeviceKeyPowerAllocation": "500 mA",
               "USBDeviceKeyProductID": "0x0104", "USBDeviceKeyProductVersion": "1.00", "USBDeviceKeySerialNumber": "CAFEBABE",
               "USBDeviceKeyVendorID": "0x1d6b", "USBDeviceKeyVendorName": "GLKVM", "USBKeyHardwareType": "Removable",
               "USBKeyLocationID": "0x02110000"},
              {"_name": "USB Receiver", "USBDeviceKeyLinkSpeed": "12 Mb/s", "USBDeviceKeyProductID": "0xc52b",
               "USBDeviceKeyProductVersion": "12.11", "USBDeviceKeyVendorID": "0x046d", "USBDeviceKeyVendorName": "Logitech",
               "USBKeyHardwareType": "Removable", "USBKeyLocationID": "0x02120000"}]},
         {"_name": "USB 10/100/1000 LAN", "USBDeviceKeyLinkSpeed": "5 Gb/s", "USBDeviceKeyProductID": "0x8153",
          "USBDeviceKeyProductVersion": "31.00", "USBDeviceKeySerialNumber": "001000001",
          "USBDeviceKeyVendorID": "0x0bda  (Realtek Semiconductor Corp.)", "USBDeviceKeyVendorName": "Realtek",
          "USBKeyHardwareType": "Removable", "USBKeyLocationID": "0x02200000"}]}]}


def test_macos_26_usb_only_in_spusbhostdatatype(tmp_path):
    """macOS 26 on Apple silicon, ioreg not usable: SPUSBDataType answers an empty list and the
    devices are in SPUSBHostDataType, with USBDeviceKey… names and "480 Mb/s" speeds."""
    root = variant(tmp_path, MAC_TINYPILOT, commands={
        IOREG_USB: REMOVE, PROFILER_USB: json.dumps({"SPUSBDataType": []}), PROFILER_USB_HOST: json.dumps(SPUSBHOST)})
    ctx = context(root, "usb")
    found = {d.bus_path: d for d in usb.collect(ctx)}
    assert list(found) == ["0x02100000", "0x02110000", "0x02120000", "0x02200000"]
    hub, kvm, receiver, lan = found.values()
    assert (hub.vendor_id, hub.product_id, hub.serial, hub.speed_mbps, hub.bcd_device) == ("2109", "2817", "", 480.0, "0702")
    assert (kvm.vendor_id, kvm.product_id, kvm.manufacturer, kvm.product, kvm.serial) == (
        "1d6b", "0104", "GLKVM", "Composite KVM Device", "CAFEBABE")
    assert (receiver.speed_mbps, receiver.bcd_device, receiver.serial) == (12.0, "1211", "")
    assert (lan.vendor_id, lan.speed_mbps, lan.bcd_device) == ("0bda", 5000.0, "3100")
    assert gaps(ctx) == ["ioreg: not found"]


def test_macos_15_spusbdatatype_speed_spelling():
    """macOS 14/15 write the speed as "up_to_480_Mb_per_sec" under "speed" and put the vendor's
    name after the id; a serial system_profiler has not got reads "Not Provided"."""
    entry = {"_name": "USB Receiver", "vendor_id": "0x046d  (Logitech Inc.)", "product_id": "0xc52b",
             "bcd_device": "12.11", "speed": "up_to_12_Mb_per_sec", "location_id": "0x01120000 / 3",
             "serial_num": "Not Provided", "manufacturer": "Logitech"}
    super_speed = {"_name": "Extreme SSD", "vendor_id": "0x0781  (SanDisk Corporation)", "product_id": "0x558c",
                   "speed": "up_to_10_Gb_per_sec", "location_id": "0x01200000 / 4", "serial_num": "31393137"}
    receiver, ssd = macos_usb.parse_system_profiler_usb({"SPUSBDataType": [{"_name": "USB31Bus", "_items": [entry, super_speed]}]})
    assert (receiver.vendor_id, receiver.speed_mbps, receiver.serial, receiver.bus_path) == ("046d", 12.0, "", "0x01120000")
    assert (ssd.vendor_id, ssd.speed_mbps, ssd.serial) == ("0781", 10000.0, "31393137")


def _ioreg_device(name, vendor, product, location, *, serial=None, speed=2, children=(), klass="IOUSBHostDevice",
                  device_class=0, bcd=0x0100, signature=None):
    node = {"IOObjectClass": klass, "IORegistryEntryName": name, "idVendor": vendor, "idProduct": product,
            "locationID": location, "Device Speed": speed, "bDeviceClass": device_class, "bcdDevice": bcd,
            "USB Product Name": name, "kUSBProductString": name}
    if serial is not None:
        node["USB Serial Number"] = node["kUSBSerialNumberString"] = serial
    if signature is not None:
        node["UsbDeviceSignature"] = signature
    if children:
        node["IORegistryEntryChildren"] = list(children)
    return node


def test_apple_silicon_ioreg_with_hubs_four_deep_and_a_serialless_keyboard(tmp_path):
    """An M2 MacBook Air: XHCI controller nodes (no ids) at the top, a Thunderbolt dock's hubs
    nested four deep, a keyboard without a serial whose signature has no serial bytes."""
    keyboard_sig = bytes.fromhex("5a0400400001") + bytes.fromhex("000000") + bytes.fromhex("030101")
    keyboard = _ioreg_device("USB Keyboard", 0x045A, 0x4000, 0x01111110, speed=1, signature=keyboard_sig)
    hub3 = _ioreg_device("USB2.0 Hub", 0x05E3, 0x0610, 0x01111100, device_class=9, children=[keyboard])
    hub2 = _ioreg_device("USB2.0 Hub", 0x05E3, 0x0610, 0x01111000, device_class=9, children=[hub3])
    hub1 = _ioreg_device("USB2.1 Hub", 0x2109, 0x2817, 0x01110000, device_class=9, children=[hub2])
    dock = _ioreg_device("CalDigit TS4", 0x2188, 0x4042, 0x01100000, device_class=9, children=[hub1])
    tree = {"IOObjectClass": "IORegistryEntry", "IORegistryEntryName": "Root", "IORegistryEntryChildren": [
        {"IOObjectClass": "AppleT8112USBXHCI", "IORegistryEntryName": "AppleT8112USBXHCI", "IORegistryEntryChildren": [dock]},
        {"IOObjectClass": "AppleT8112USBXHCI", "IORegistryEntryName": "AppleT8112USBXHCI"}]}
    root = variant(tmp_path, MAC_TINYPILOT, commands={IOREG_USB: plistlib.dumps(tree).decode()})
    ctx = context(root, "usb")
    found = usb.collect(ctx)
    assert [d.bus_path for d in found] == ["0x01100000", "0x01110000", "0x01111000", "0x01111100", "0x01111110"]
    assert (found[-1].vendor_id, found[-1].serial, found[-1].speed_mbps) == ("045a", "", 12.0)
    assert [(i.interface_class, i.interface_subclass, i.interface_protocol) for i in found[-1].interfaces] == [("03", "01", "01")]
    assert gaps(ctx) == []


def test_apple_silicon_displays_on_a_thunderbolt_dock_with_a_kvm_capture(tmp_path):
    """An M1 Pro: no IODisplayConnect; system_profiler lists the built-in panel, a Dell over a
    Thunderbolt dock and an HDMI capture input of a PiKVM (vendor 31d8 = "LNX")."""
    answer = {"SPDisplaysDataType": [{"_name": "Apple M1 Pro", "sppci_model": "Apple M1 Pro", "spdisplays_ndrvs": [
        {"_name": "Color LCD", "_spdisplays_display-product-id": "a050", "_spdisplays_display-serial-number": "fd626d62",
         "_spdisplays_display-vendor-id": "610", "_spdisplays_display-week": "0", "_spdisplays_display-year": "0",
         "_spdisplays_displayID": "1", "spdisplays_connection_type": "spdisplays_internal"},
        {"_name": "DELL U2723QE", "_spdisplays_display-product-id": "42a8", "_spdisplays_display-serial-number": "4c383630",
         "_spdisplays_display-vendor-id": "10ac", "_spdisplays_display-week": "12", "_spdisplays_display-year": "2023",
         "_spdisplays_displayID": "3", "spdisplays_mirror": "spdisplays_off"},
        {"_name": "PiKVM V4 Plus", "_spdisplays_display-product-id": "7773", "_spdisplays_display-serial-number": "f6995",
         "_spdisplays_display-vendor-id": "31d8", "_spdisplays_display-year": "2022", "_spdisplays_displayID": "4"}]}]}
    root = variant(tmp_path, MAC_TINYPILOT, commands={IOREG_DISPLAYS: "", PROFILER_DISPLAYS: json.dumps(answer)})
    ctx = context(root, "displays")
    panel, dell, kvm = displays.collect(ctx)
    assert (panel.connector, panel.manufacturer_id, panel.product_code, panel.built_in) == ("internal", "APP", 0xA050, True)
    assert (dell.connector, dell.manufacturer_id, dell.product_code, dell.monitor_name, dell.manufacture_year) == (
        "external-3", "DEL", 0x42A8, "DELL U2723QE", 2023)
    assert (kvm.manufacturer_id, kvm.product_code, kvm.monitor_name, kvm.built_in) == ("LNX", 0x7773, "PiKVM V4 Plus", False)


def test_intel_mac_with_two_gpus_keeps_both_gpus_displays(tmp_path):
    """A 16-inch Intel MacBook Pro: the panel on the Intel GPU, the externals on the AMD GPU;
    displays without a display id must not share a connector name across GPUs."""
    answer = {"SPDisplaysDataType": [
        {"_name": "Intel UHD Graphics 630", "spdisplays_ndrvs": [
            {"_name": "Color LCD", "_spdisplays_display-vendor-id": "610", "_spdisplays_display-product-id": "a044",
             "spdisplays_connection_type": "spdisplays_internal"}]},
        {"_name": "AMD Radeon Pro 5500M", "spdisplays_ndrvs": [
            {"_name": "LG HDR 4K", "_spdisplays_display-vendor-id": "1e6d", "_spdisplays_display-product-id": "7750"},
            {"_name": "DELL P2419H", "_spdisplays_display-vendor-id": "10ac", "_spdisplays_display-product-id": "a0b5"}]},
        {"_name": "Radeon eGPU", "spdisplays_ndrvs": [
            {"_name": "HP E24 G4", "_spdisplays_display-vendor-id": "22f0", "_spdisplays_display-product-id": "3f0a"}]}]}
    root = variant(tmp_path, MAC_DOCK, commands={IOREG_DISPLAYS: "", PROFILER_DISPLAYS: json.dumps(answer)})
    found = displays.collect(context(root, "displays"))
    assert [d.manufacturer_id for d in found] == ["APP", "GSM", "DEL", "HWP"]
    assert len({d.connector for d in found}) == 4


# == Linux ========================================================================================


def _linux(tmp_path) -> SysrootBuilder:
    return SysrootBuilder(tmp_path / "root")


def test_linux_hubs_nested_five_levels_and_a_device_without_serial(tmp_path):
    """A laptop on a dock whose hub chain goes five deep (the USB maximum below the root) with
    a serial-less keyboard at the bottom, on bus 10."""
    b = _linux(tmp_path)
    for path in ("10-1", "10-1.4", "10-1.4.2", "10-1.4.2.3", "10-1.4.2.3.1"):
        b.usb_device(path, "05e3", "0610", product="USB2.1 Hub", device_class="09", interfaces=[])
    b.usb_device("10-1.4.2.3.1.2", "04d9", "0006", manufacturer="HOLDCHIP", product="USB Keyboard", speed="1.5",
                 interfaces=[KEYBOARD, MOUSE])
    ctx = probe_context(b.build(), "usb")
    found = {d.bus_path: d for d in usb.collect(ctx)}
    assert list(found) == ["10-1", "10-1.4", "10-1.4.2", "10-1.4.2.3", "10-1.4.2.3.1", "10-1.4.2.3.1.2"]
    keyboard = found["10-1.4.2.3.1.2"]
    assert (keyboard.serial, keyboard.speed_mbps, len(keyboard.interfaces)) == ("", 1.5, 2)
    assert gaps(ctx) == []


def test_linux_usb_strings_in_latin1_and_with_a_second_configuration(tmp_path):
    """Cheap devices put Latin-1 bytes in their string descriptors; a device running its second
    configuration has interfaces "N-M:2.x"."""
    b = _linux(tmp_path)
    b.usb_device("1-3", "1a86", "e026", manufacturer="M\xfcller", product="KVM", interfaces=[])
    b.file("/sys/bus/usb/devices/1-3/manufacturer", b"M\xfcller GmbH\n")
    b.attributes("/sys/bus/usb/devices/1-3:2.0", {"bInterfaceClass": "03", "bInterfaceSubClass": "01", "bInterfaceProtocol": "01"})
    b.attributes("/sys/bus/usb/devices/1-3:2.1", {"bInterfaceClass": "08", "bInterfaceSubClass": "06", "bInterfaceProtocol": "50"})
    (device,) = usb.collect(probe_context(b.build(), "usb"))
    assert device.manufacturer == "M\ufffdller GmbH"
    assert [i.interface_class for i in device.interfaces] == ["03", "08"]
    report_to_json(build_report(tmp_path / "root", probes={"usb": usb.collect}))


def test_linux_usb_device_unplugged_between_listing_and_reading(tmp_path):
    """The device's directory is listed, then gone (a dangling sysfs link) by the time its files
    are read: the rest of the bus still comes."""
    b = _linux(tmp_path)
    b.usb_device("1-1", "046d", "c52b", product="USB Receiver", interfaces=[MOUSE])
    b.symlink("/sys/bus/usb/devices/1-2", "../../../devices/pci0000:00/0000:00:14.0/usb1/1-2")
    ctx = probe_context(b.build(), "usb")
    assert [d.bus_path for d in usb.collect(ctx)] == ["1-1"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_linux_unreadable_usb_serial(tmp_path):
    b = _linux(tmp_path)
    base = b.usb_device("1-1", "1d6b", "0104", product="PiKVM", serial="CAFEBABE", interfaces=[KEYBOARD, MASS_STORAGE])
    (tmp_path / "root" / base.lstrip("/") / "serial").chmod(0)
    ctx = probe_context(b.build(), "usb")
    (device,) = usb.collect(ctx)
    assert (device.vendor_id, device.serial, len(device.interfaces)) == ("1d6b", "", 2)


def test_linux_usb_attribute_that_is_a_directory(tmp_path):
    """A sysfs attribute that cannot be read (EISDIR here; EIO from a wedged device) is a gap,
    and the device keeps everything else."""
    b = _linux(tmp_path)
    base = b.usb_device("1-1", "1d6b", "0104", product="PiKVM", interfaces=[KEYBOARD])
    b.directory(f"{base}/serial")
    ctx = probe_context(b.build(), "usb")
    (device,) = usb.collect(ctx)
    assert (device.vendor_id, device.product, device.serial) == ("1d6b", "PiKVM", "")
    assert len(gaps(ctx)) == 1 and "serial" in gaps(ctx)[0]


def _with_extensions(base: bytes, *extensions: bytes) -> bytes:
    block = bytearray(base[:128])
    block[126] = len(extensions)
    block[127] = (-sum(block[:127])) % 256
    return bytes(block) + b"".join(extensions)


def _extension(tag: int) -> bytes:
    block = bytearray(128)
    block[0], block[1] = tag, 3
    block[127] = (-sum(block[:127])) % 256
    return bytes(block)


def test_linux_edid_with_cta_and_displayid_extension_blocks(tmp_path):
    """A 4K monitor: base block, CTA-861 extension and a DisplayID extension (384 bytes)."""
    edid = _with_extensions(edid_fixture("lg_27gl850_external"), _extension(0x02), _extension(0x70))
    b = _linux(tmp_path)
    b.display("card1-DP-3", edid)
    ctx = probe_context(b.build(), "displays")
    (monitor,) = displays.collect(ctx)
    assert (monitor.manufacturer_id, monitor.monitor_name, len(monitor.edid)) == ("GSM", "27GL850", 384)
    assert parse_edid(edid).extension_count == 2
    assert gaps(ctx) == []


def test_linux_displaylink_and_mst_connectors(tmp_path):
    """DisplayLink (evdi) adds "card2-DVI-I-1"; a DP MST hub on a dock adds "card0-DP-5";
    a writeback connector has status "unknown" and an empty EDID."""
    b = _linux(tmp_path)
    b.display("card0-eDP-1", edid_fixture("auo_b140han04_laptop"))
    b.display("card0-DP-5", edid_fixture("dell_d2721h_external"))
    b.display("card2-DVI-I-1", edid_fixture("lg_27gl850_external"))
    b.file("/sys/class/drm/card0-Writeback-1/status", "unknown\n")
    b.file("/sys/class/drm/card0-Writeback-1/edid", b"")
    b.display("card0-HDMI-A-1", b"", connected=False)
    ctx = probe_context(b.build(), "displays")
    found = {d.connector: d for d in displays.collect(ctx)}
    assert sorted(found) == ["card0-DP-5", "card0-eDP-1", "card2-DVI-I-1"]
    assert [found[c].built_in for c in ("card0-eDP-1", "card0-DP-5", "card2-DVI-I-1")] == [True, False, False]
    assert gaps(ctx) == []


def test_linux_edid_of_zeros_from_a_broken_capture_input(tmp_path):
    """A KVM's capture input that answers 128 zero bytes: kept as a display with its bytes, and a gap."""
    b = _linux(tmp_path)
    b.display("card0-HDMI-A-1", bytes(128))
    ctx = probe_context(b.build(), "displays")
    (display,) = displays.collect(ctx)
    assert (display.connector, display.manufacturer_id, display.edid) == ("card0-HDMI-A-1", "", bytes(128))
    assert len(gaps(ctx)) == 1


def _proc_machine(tmp_path) -> SysrootBuilder:
    b = _linux(tmp_path)
    b.file("/proc/stat", "cpu  1 2 3 4\nbtime 1764000000\n")
    b.file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
    return b


def test_linux_processes_vanishing_mid_scan(tmp_path):
    """Three processes exit while the probe reads /proc: one before its stat was read (an empty
    directory), one after (no cmdline, status or exe any more), one a zombie."""
    b = _proc_machine(tmp_path)
    b.process(1, "systemd", ppid=0, exe="/usr/lib/systemd/systemd", cmdline=["/sbin/init"])
    b.directory("/proc/4000")
    b.file("/proc/4001/stat", "4001 (anydesk) S 1 4001 4001 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n")
    b.file("/proc/4002/stat", "4002 (sh) Z 1 4002 4002 0 -1 4227084 0 0 0 0 0 0 0 0 20 0 1 0 6000 0 0\n")
    b.file("/proc/4002/cmdline", b"")
    ctx = probe_context(b.build(), "processes")
    found = {p.pid: p for p in processes.collect(ctx)}
    assert sorted(found) == [1, 4001, 4002]
    assert (found[4001].name, found[4001].ppid, list(found[4001].cmdline), found[4001].username) == ("anydesk", 1, [], "")
    assert gaps(ctx) == []


def test_linux_process_with_huge_values(tmp_path):
    """A server up for years (start ticks past 2^32), pid above 2^22 (pid_max raised), a uid
    from a directory service past 2^31, and a comm made of parentheses and spaces."""
    b = _proc_machine(tmp_path)
    b.file("/proc/4194000/stat", "4194000 (a) b (c)) S 4193999 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000000000 0 0\n")
    b.file("/proc/4194000/status", "Name:\ta) b (c\nUid:\t3000000000\t3000000000\t3000000000\t3000000000\n")
    b.file("/proc/4194000/cmdline", b"a) b (c\0--flag\0")
    ctx = probe_context(b.build(), "processes")
    (process,) = processes.collect(ctx)
    assert (process.pid, process.ppid, process.name, process.username) == (4194000, 4193999, "a) b (c)", "3000000000")
    report = build_report(tmp_path / "root", probes={"processes": processes.collect})
    assert report_to_json(report)


def test_linux_sessions_from_a_utmp_with_a_torn_record_and_odd_fields(tmp_path):
    """utmp being rewritten while read (a torn last record), a login whose host is an IPv6
    address, and a DEAD_PROCESS entry."""
    b = _linux(tmp_path)
    b.login("dkowalski", "pts/0", 1764003600, host="2001:db8::7", pid=4100)
    b.login("dkowalski", "pts/1", 1764003700, host="", pid=4101, session_type=8)
    b.build()
    utmp = tmp_path / "root" / "run" / "utmp"
    utmp.write_bytes(utmp.read_bytes() + b"\x07\x00\x00\x00" + b"x" * 100)
    ctx = probe_context(tmp_path / "root", "sessions")
    (login,) = sessions.collect(ctx)
    assert (login.user, login.terminal, login.remote_host) == ("dkowalski", "pts/0", "2001:db8::7")


# == batch 2: clocks, OS tables, displays without EDID ===========================================


def _clock_machine(tmp_path, localtime_target: str) -> SysrootBuilder:
    b = _linux(tmp_path)
    b.file("/proc/stat", "cpu  1 2 3 4\nbtime 1764000000\n")
    b.symlink("/etc/localtime", localtime_target)
    return b


@pytest.mark.parametrize(("target", "zone"), [
    ("../usr/share/zoneinfo/posix/Asia/Seoul", "Asia/Seoul"),          # Alpine, Gentoo: the posix/ tree
    ("/usr/share/zoneinfo/right/America/New_York", "America/New_York"),  # leap-second ("right/") zones
    ("/etc/zoneinfo/Europe/Berlin", "Europe/Berlin"),                     # NixOS
    ("../usr/share/zoneinfo/Etc/UTC", "Etc/UTC"),
])
def test_linux_localtime_links_into_posix_and_right_trees(tmp_path, target, zone):
    """Without /etc/timezone, the zone is read from /etc/localtime's link; the posix/ and
    right/ copies of the tz database hold the same IANA names under a prefix."""
    ctx = probe_context(_clock_machine(tmp_path, target).build(), "host")
    found = host.collect(ctx)
    assert found.timezone == zone
    if zone == "Asia/Seoul":
        assert found.utc_offset_minutes == 540


def test_linux_tz_variable_naming_the_localtime_file(tmp_path):
    """systemd units and containers often set TZ=":/etc/localtime" (a file, to spare glibc a
    stat per call): the zone is the one that file links to, not "/etc/localtime"."""
    ctx = probe_context(_clock_machine(tmp_path, "../usr/share/zoneinfo/Asia/Seoul").build(), "host")
    ctx = dataclasses.replace(ctx, env={"TZ": ":/etc/localtime"})
    found = host.collect(ctx)
    assert (found.timezone, found.utc_offset_minutes) == ("Asia/Seoul", 540)


def test_windows_process_table_with_access_denied_fields(tmp_path):
    """psutil on Windows gives None (ad_value) for what a protected process hides, and pid 0
    ("System Idle Process") a create_time of 0."""
    rows = [
        {"pid": 0, "ppid": 0, "name": "System Idle Process", "exe": None, "cmdline": None, "username": None, "create_time": 0.0},
        {"pid": 4, "ppid": 0, "name": "System", "exe": None, "cmdline": None, "username": None, "create_time": 1764000000.0},
        {"pid": 1196, "ppid": 4, "name": "Registry", "exe": "", "cmdline": [], "username": None, "create_time": 1764000001.5},
        {"pid": 7012, "ppid": 5120, "name": "AnyDesk.exe", "exe": "C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe",
         "cmdline": ["C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe", "--control"], "username": "ACME\\dkowalski",
         "create_time": 1764003600.25},
    ]
    root = variant(tmp_path, WIN_DOCK, tables={"processes": rows})
    ctx = context(root, "processes")
    found = {p.pid: p for p in processes.collect(ctx)}
    assert sorted(found) == [0, 4, 1196, 7012]
    assert (found[7012].name, found[7012].username, found[7012].create_time.seconds) == ("AnyDesk.exe", "ACME\\dkowalski", 1764003600)
    assert (found[4].exe, list(found[4].cmdline)) == ("", [])


def test_windows_without_monitor_classes_in_wmi(tmp_path):
    """Windows Server or a VM without a monitor driver: WmiMonitorID has no instances, so both
    lists are empty; no displays, no crash."""
    root = variant(tmp_path, WIN_DOCK, commands={PS + "monitors": json.dumps({"Monitors": [], "Connections": []})})
    ctx = context(root, "displays")
    assert displays.collect(ctx) == []
    assert gaps(ctx) == []


def test_macos_sockets_with_scoped_ipv6_and_dual_stack_addresses(tmp_path):
    """psutil on macOS writes link-local IPv6 with its scope ("fe80::1%en0") and IPv4 peers
    of dual-stack sockets as "::ffff:…"."""
    rows = [{"type": "tcp", "laddr": ["fe80::1c3a:9e2f:7b41:5d10%en0", 5900], "raddr": ["fe80::aede:48ff:fe00:1122%en0", 50122],
             "status": "ESTABLISHED", "pid": 512},
            {"type": "tcp", "laddr": ["::ffff:10.20.0.15", 5900], "raddr": ["::ffff:203.0.113.9", 50123],
             "status": "ESTABLISHED", "pid": 512},
            {"type": "tcp", "laddr": ["::", 5900], "raddr": [], "status": "LISTEN", "pid": 512}]
    root = variant(tmp_path, MAC_DOCK, tables={"connections": rows})
    found = network.collect(context(root, "network"))
    assert [(c.local_ip, c.remote_ip) for c in found.connections] == [
        ("fe80::1c3a:9e2f:7b41:5d10", "fe80::aede:48ff:fe00:1122"), ("10.20.0.15", "203.0.113.9")]
    assert [(listener.ip, listener.port) for listener in found.listeners] == [("::", 5900)]


def _apple_display_node(klass, *, vendor, product, serial=0, edid=None):
    node = {"IOObjectClass": klass, "IORegistryEntryName": klass, "DisplayVendorID": vendor, "DisplayProductID": product,
            "DisplaySerialNumber": serial, "IOProviderClass": "IODisplayConnect"}
    if edid is not None:
        node["IODisplayEDID"] = edid
    return {"IOObjectClass": "IODisplayConnect", "IORegistryEntryName": "display0", "IORegistryEntryChildren": [node]}


def test_intel_mac_with_a_capture_input_that_gives_no_edid(tmp_path):
    """An Intel MacBook Pro driven through an IP-KVM whose HDMI capture input answers no EDID:
    macOS still makes an AppleDisplay for it (vendor "unkn", 0x756e6b6e) beside the panel with
    its EDID. The display is connected and must be reported, with a gap, as on Linux."""
    panel = _apple_display_node("AppleBacklightDisplay", vendor=0x610, product=0xA045, edid=edid_fixture("auo_b140han04_laptop"))
    capture = _apple_display_node("AppleDisplay", vendor=0x756E6B6E, product=0x717)
    dell = _apple_display_node("AppleDisplay", vendor=0x10AC, product=0x2013, serial=809785925)
    root = variant(tmp_path, MAC_DOCK, commands={IOREG_DISPLAYS: plistlib.dumps([panel, capture, dell]).decode()})
    ctx = context(root, "displays")
    found = displays.collect(ctx)
    assert [(d.connector, d.built_in, d.manufacturer_id) for d in found] == [
        ("internal", True, "AUO"), ("external-1", False, ""), ("external-2", False, "DEL")]
    assert (found[2].product_code, found[2].serial_number) == (0x2013, 809785925)
    assert len(gaps(ctx)) == 2


def test_windows_desktop_with_ethernet_and_bluetooth_only_does_not_ask_netsh(tmp_path):
    """A desktop without Wi-Fi: netsh would only fail ("wlansvc is not running") and leave a
    gap on every scan; adapters whose names say what they are do not make it be asked."""
    interfaces = {"Ethernet": {"addresses": ["10.0.0.7"], "mac": "8C-8C-AA-01-02-03", "is_up": True},
                  "Bluetooth Network Connection": {"addresses": [], "mac": "8C-8C-AA-01-02-04", "is_up": False},
                  "Loopback Pseudo-Interface 1": {"addresses": ["127.0.0.1"], "mac": "", "is_up": True}}
    refusal = {"returncode": 1, "stderr": "The Wireless AutoConfig Service (wlansvc) is not running."}
    root = variant(tmp_path, WIN_DOCK, commands={NETSH: refusal}, tables={"interfaces": interfaces})
    ctx = context(root, "network")
    found = network.collect(ctx)
    assert (found.wifi.ssid, found.wifi.bssid) == ("", "")
    assert not any("netsh" in gap for gap in gaps(ctx))


def test_windows_10_monitor_list_wrapped_by_powershell_51_and_a_256_byte_registry_edid(tmp_path):
    """Windows 10 (PowerShell 5.1) answering the monitor list as {"value": [...], "Count": 1},
    and the registry's EDID of an external monitor with its CTA-861 extension (256 bytes)."""
    instance = "DISPLAY\\GSM5B7F\\5&1d8e2a4b&0&UID4357"
    edid = _with_extensions(edid_fixture("lg_27gl850_external"), _extension(0x02))
    monitors = {"Monitors": {"value": [{"InstanceName": instance + "_0", "Active": True, "ManufacturerName": _utf16("GSM"),
                                        "ProductCodeID": _utf16("5B7F"), "SerialNumberID": None, "UserFriendlyName": None,
                                        "YearOfManufacture": 2019}], "Count": 1},
                "Connections": {"value": [{"InstanceName": instance + "_0", "VideoOutputTechnology": 10}], "Count": 1}}
    root = variant(tmp_path, WIN_DOCK, commands={PS + "monitors": json.dumps(monitors)},
                   registry={f"HKLM\\SYSTEM\\CurrentControlSet\\Enum\\{instance}\\Device Parameters": {"EDID": {"hex": edid.hex()}}})
    ctx = context(root, "displays")
    (monitor,) = displays.collect(ctx)
    assert (monitor.connector, monitor.manufacturer_id, monitor.monitor_name, len(monitor.edid), monitor.built_in) == (
        instance, "GSM", "27GL850", 256, False)
    assert gaps(ctx) == []


def test_linux_mst_dock_connector_connected_without_edid(tmp_path):
    """A DP MST dock port reported connected before the EDID was read: the display is kept
    with a gap."""
    b = _linux(tmp_path)
    b.file("/sys/class/drm/card0-DP-6/status", "connected\n")
    b.file("/sys/class/drm/card0-DP-6/edid", b"")
    ctx = probe_context(b.build(), "displays")
    (display,) = displays.collect(ctx)
    assert (display.connector, display.built_in, display.edid) == ("card0-DP-6", False, b"")
    assert gaps(ctx) == ["card0-DP-6: connected, but it gives no EDID"]
