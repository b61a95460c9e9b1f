"""usb and displays probes on fixture sysroots."""

from __future__ import annotations


from farmwatch.agent.probes import displays, usb
from sysroot_builder import SysrootBuilder, edid_fixture
from sysroot_machines import gaps, probe_context


def _interfaces(device):
    return [(i.interface_class, i.interface_subclass, i.interface_protocol, i.driver) for i in device.interfaces]


def test_dock_devices_without_root_hubs(dock):
    ctx = probe_context(dock, "usb")
    found = {d.bus_path: d for d in usb.collect(ctx)}
    assert list(found) == ["3-1", "3-1.1", "3-1.2", "3-1.3", "3-1.4"]
    receiver = found["3-1.2"]
    assert (receiver.vendor_id, receiver.product_id, receiver.manufacturer, receiver.product, receiver.serial) == (
        "046d", "c52b", "Logitech", "USB Receiver", "")
    assert (receiver.device_class, receiver.bcd_device, receiver.speed_mbps) == ("00", "1211", 12.0)
    assert _interfaces(receiver) == [("03", "01", "01", "usbhid"), ("03", "01", "02", "usbhid"), ("03", "00", "00", "usbhid")]
    assert _interfaces(found["3-1.3"])[2] == ("0b", "00", "00", "")  # CCID with no driver bound
    assert (found["3-1.1"].speed_mbps, found["3-1.1"].serial) == (5000.0, "001000001")
    assert found["3-1.4"].manufacturer == ""  # no string descriptor: no file
    assert gaps(ctx) == []


def test_pikvm_composite_gadget(pikvm):
    (gadget,) = usb.collect(probe_context(pikvm, "usb"))
    assert (gadget.vendor_id, gadget.product_id, gadget.manufacturer, gadget.product, gadget.serial) == (
        "1d6b", "0104", "PiKVM", "PiKVM Composite Device", "CAFEBABE")
    assert (gadget.device_class, gadget.bcd_device, gadget.bus_path) == ("00", "0101", "1-1")
    assert _interfaces(gadget) == [
        ("03", "01", "01", "usbhid"), ("03", "00", "00", "usbhid"), ("03", "01", "02", "usbhid"),
        ("08", "06", "50", "usb-storage"), ("e0", "01", "03", "rndis_host"), ("0a", "00", "00", "rndis_host"),
    ]


def test_interfaces_are_ordered_by_number_not_by_name(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.usb_device("2-1", "abcd", "1234")
    for number in (0, 2, 10):
        b.attributes(f"/sys/bus/usb/devices/2-1:1.{number}", {"bInterfaceClass": f"{number:02x}"})
    (device,) = usb.collect(probe_context(b.build(), "usb"))
    assert [i.interface_class for i in device.interfaces] == ["00", "02", "0a"]


def test_missing_and_unreadable_usb_files_are_gaps(broken):
    ctx = probe_context(broken, "usb")
    found = {d.bus_path: d for d in usb.collect(ctx)}
    assert (found["1-2"].vendor_id, found["1-2"].product_id, found["1-2"].product) == ("04f2", "", "")
    assert (found["1-3"].manufacturer, found["1-3"].product) == ("", "Ultra")
    assert gaps(ctx) == [
        "usb 1-2: idProduct missing",
        "/sys/bus/usb/devices/1-2/product: Is a directory",
        "/sys/bus/usb/devices/1-3/manufacturer: dangling symlink",
    ]


def test_no_usb_bus_is_one_gap(tmp_path):
    ctx = probe_context(tmp_path, "usb")
    assert usb.collect(ctx) == []
    assert gaps(ctx) == ["no /sys/bus/usb/devices: no USB bus visible"]


def test_connected_displays_with_decoded_edid(dock):
    ctx = probe_context(dock, "displays")
    found = {d.connector: d for d in displays.collect(ctx)}
    assert list(found) == ["card1-DP-3", "card1-eDP-1"]  # HDMI-A-1 has an empty edid: unplugged
    external, panel = found["card1-DP-3"], found["card1-eDP-1"]
    assert (external.manufacturer_id, external.product_code, external.monitor_name, external.serial_string) == (
        "DEL", 0x2013, "DELL D2721H", "FJ3HQ23")
    assert (external.width_mm, external.height_mm, external.manufacture_year, external.built_in) == (598, 336, 2020, False)
    assert external.edid == edid_fixture("dell_d2721h_external")
    assert (panel.manufacturer_id, panel.built_in, panel.width_mm, panel.height_mm) == ("AUO", True, 309, 173)
    assert gaps(ctx) == []


def test_kvm_capture_input_seen_as_a_monitor(pikvm):
    found = {d.connector: d for d in displays.collect(probe_context(pikvm, "displays"))}
    kvm = found["card1-HDMI-A-1"]
    assert (kvm.manufacturer_id, kvm.product_code, kvm.serial_number) == ("LNX", 0x7773, 0x01010101)
    assert (kvm.monitor_name, kvm.serial_string, kvm.built_in) == ("PiKVM V4 Plus", "CAFEBABE", False)


def test_an_undecodable_edid_keeps_the_connector_and_the_bytes(broken):
    ctx = probe_context(broken, "displays")
    (display,) = displays.collect(ctx)
    assert (display.connector, display.manufacturer_id, display.edid) == (
        "card0-HDMI-A-1", "", edid_fixture("malformed_truncated"))
    assert gaps(ctx) == ["card0-HDMI-A-1: EDID too short: 100 bytes, a base block is 128"]


def test_connector_status_decides_over_a_stale_or_missing_edid(tmp_path):
    """Some drivers keep the EDID of an unplugged monitor; a capture input may give none."""
    b = SysrootBuilder(tmp_path)
    b.display("card0-HDMI-A-1", edid_fixture("dell_d2721h_external"), connected=False)
    b.display("card0-HDMI-A-3", b"")
    b.file("/sys/class/drm/card0-DP-1/status", "unknown\n")  # no edid file at all
    ctx = probe_context(b.build(), "displays")
    found = displays.collect(ctx)
    assert [(d.connector, d.manufacturer_id, d.edid, d.built_in) for d in found] == [("card0-HDMI-A-3", "", b"", False)]
    assert gaps(ctx) == ["card0-HDMI-A-3: connected, but it gives no EDID"]


def test_a_bad_checksum_is_decoded_and_noted(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.display("card0-DSI-1", edid_fixture("malformed_bad_checksum"))
    ctx = probe_context(b.build(), "displays")
    (display,) = displays.collect(ctx)
    assert (display.monitor_name, display.built_in) == ("DELL D2721H", True)
    assert gaps(ctx) == ["card0-DSI-1: EDID checksum mismatch"]
