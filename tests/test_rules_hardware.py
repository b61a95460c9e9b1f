"""Hardware rules: IP-KVM USB and EDID signatures, gadget defaults, injectors, jigglers, capture,
the composite-gadget and capture-display heuristics, and both halves of a KVM together."""

from __future__ import annotations

import pytest

from test_rules_support import (CDC_DATA, HID, KEYBOARD, MOUSE, RNDIS, STORAGE, display, edid_display, findings, only,
                                report, usb, verdict)

PIKVM = usb("1d6b", "0104", KEYBOARD, HID, MOUSE, STORAGE, manufacturer="PiKVM",
            product="PiKVM Composite Device", serial="CAFEBABE")
LOGITECH_RECEIVER = usb("046d", "c52b", KEYBOARD, MOUSE, HID, manufacturer="Logitech", product="USB Receiver")
YUBIKEY = usb("1050", "0407", KEYBOARD, HID, "0b/00/00", manufacturer="Yubico", product="YubiKey OTP+FIDO+CCID")
ELGATO = usb("0fd9", "006a", "0e/01/00", "0e/02/00", HID, manufacturer="Elgato", product="Game Capture HD60 S+")
ROOT_HUB = usb("1d6b", "0003", "09/00/00", device_class="09", manufacturer="Linux 6.8.0 xhci-hcd")


# --- usb-ip-kvm ----------------------------------------------------------------------------

def test_pikvm_by_its_strings_cites_the_signature():
    finding = only(report("linux", usb_devices=[PIKVM]), "usb-ip-kvm")
    assert finding["severity"] == "critical"
    assert finding["summary"] == "IP-KVM attached over USB: PiKVM (1d6b:0104 PiKVM PiKVM Composite Device)"
    signature = finding["evidence"]["signature"]
    assert (signature["id"], signature["confidence"]) == ("pikvm-usb-manufacturer", "high")
    assert signature["source"].startswith("docs/detection.md §H")
    assert "linux-multifunction-gadget" in [m["id"] for m in finding["evidence"]["also_matches"]]
    assert finding["evidence"]["usb_device"]["interfaces"] == [KEYBOARD, HID, MOUSE, STORAGE]


def test_ids_from_other_tools_are_normalised():
    shouting = usb("0x1D6B", "0104", "3/1/1", manufacturer="PIKVM")
    assert only(report("windows", usb_devices=[shouting]), "usb-ip-kvm")["evidence"]["usb_device"]["vendor_id"] == "1d6b"


def test_a_shared_chip_weighs_less_than_a_vendor_string():
    ch9329 = usb("1a86", "e129", KEYBOARD, MOUSE)
    assert only(report("windows", usb_devices=[ch9329]), "usb-ip-kvm")["severity"] == "high"


def test_jetkvm_spoofing_a_logitech_receiver_is_told_apart_by_its_storage():
    spoof = usb("046d", "c52b", KEYBOARD, HID, MOUSE, STORAGE, manufacturer="Logitech", product="USB Receiver")
    finding = only(report("windows", usb_devices=[spoof]), "usb-ip-kvm")
    assert finding["evidence"]["signature"]["id"] == "jetkvm-preset-logitech-storage"
    assert findings(report("windows", usb_devices=[LOGITECH_RECEIVER]), "usb-ip-kvm") == []


# --- usb-gadget-default / injector / jiggler / capture / diy ------------------------------------

def test_bare_linux_gadget_id_is_a_gadget_not_a_named_kvm():
    bare = usb("1d6b", "0104", KEYBOARD)
    finding = only(report("linux", usb_devices=[bare]), "usb-gadget-default")
    assert finding["severity"] == "high"
    assert finding["evidence"]["signature"]["id"] == "linux-multifunction-gadget"
    assert findings(report("linux", usb_devices=[bare]), "usb-ip-kvm") == []


def test_root_hubs_share_the_vendor_id_and_are_ignored():
    rep = report("linux", usb_devices=[ROOT_HUB, usb("1d6b", "0002", device_class="09")])
    assert verdict(rep)["findings"] == []


@pytest.mark.parametrize("device, rule, severity, signature", [
    (usb("03eb", "2401", KEYBOARD), "usb-hid-injector", "high", "rubber-ducky-hid"),
    (usb("0e90", "0028", MOUSE), "usb-mouse-jiggler", "medium", "wiebetech-jiggler-mj1"),
    (usb("16c0", "27da", MOUSE), "usb-mouse-jiggler", "low", "vusb-mouse"),
    (usb("534d", "2109", "0e/01/00", "01/01/00"), "usb-capture-device", "low", "macrosilicon-ms2109"),
    (usb("2e8a", "000a", KEYBOARD), "usb-diy-hid", "low", "diy-hid-2e8a"),
    (usb("0430", "a101", KEYBOARD, MOUSE), "usb-ip-kvm", "high", "fujitsu-bmc-virtual"),
    (usb("0430", "A113", STORAGE), "usb-ip-kvm", "high", "fujitsu-bmc-virtual"),   # both ends of the id range
    (usb("04cc", "1520", device_class="09"), "usb-ip-kvm", "high", "avocent-kvm-hub"),
])
def test_other_known_devices(device, rule, severity, signature):
    finding = only(report("windows", usb_devices=[device]), rule)
    assert (finding["severity"], finding["evidence"]["signature"]["id"]) == (severity, signature)


def test_ordinary_keyboards_and_mice_match_nothing():
    rep = report("windows", usb_devices=[usb("046d", "c077", MOUSE, manufacturer="Logitech", product="USB Optical Mouse"),
                                         usb("413c", "2113", KEYBOARD, HID, manufacturer="Dell", product="KB216"),
                                         usb("0e90", "0001", "08/06/50")])   # WiebeTech's vendor id, not a jiggler
    assert verdict(rep)["findings"] == []


@pytest.mark.parametrize("product_id", ["a100", "a114", "cdab"])
def test_an_id_range_ends_where_it_says(product_id):
    ids = [f["evidence"]["signature"]["id"] for f in findings(report("windows", usb_devices=[usb("0430", product_id, KEYBOARD)]),
                                                               "usb-ip-kvm")]
    assert "fujitsu-bmc-virtual" not in ids


def test_hobby_board_without_hid_is_not_flagged():
    pico_serial = usb("2e8a", "000a", "02/02/00", "0a/00/00")
    assert findings(report("linux", usb_devices=[pico_serial]), "usb-diy-hid") == []


# --- usb-kvm-composite ---------------------------------------------------------------------

def test_unknown_gadget_with_keyboard_mouse_storage_and_network():
    unknown = usb("abcd", "1234", RNDIS, CDC_DATA, KEYBOARD, HID, STORAGE, manufacturer="Generic", product="HID")
    finding = only(report("windows", usb_devices=[unknown]), "usb-kvm-composite")
    assert finding["severity"] == "critical"
    assert finding["summary"] == ("USB device abcd:1234 Generic HID combines keyboard, mouse and mass storage "
                                  "and a network function, like an IP-KVM")
    assert "mass storage and a network function together" in finding["evidence"]["further_tells"]


def test_serial_port_beside_keyboard_and_mouse_is_no_network_function():
    """A Teensy 'Serial + Keyboard + Mouse + Joystick' button box: CDC-ACM serial is not RNDIS/ECM."""
    teensy = usb("16c0", "0487", "02/02/01", CDC_DATA, KEYBOARD, MOUSE, HID,
                 manufacturer="Teensyduino", product="Serial/Keyboard/Mouse/Joystick")
    assert findings(report("linux", usb_devices=[teensy]), "usb-kvm-composite") == []


@pytest.mark.parametrize("network", [("02/06/00", CDC_DATA), ("02/0d/00", CDC_DATA), ("02/02/ff", CDC_DATA)])
def test_cdc_network_models_and_linux_rndis_count_as_network(network):
    gadget = usb("abcd", "1236", KEYBOARD, HID, *network)
    finding = only(report("linux", usb_devices=[gadget]), "usb-kvm-composite")
    assert finding["summary"].endswith("combines keyboard, mouse and a network function, like an IP-KVM")


def test_composite_with_storage_alone_is_high():
    unknown = usb("abcd", "1235", KEYBOARD, MOUSE, STORAGE)
    finding = only(report("windows", usb_devices=[unknown]), "usb-kvm-composite")
    assert (finding["severity"], finding["evidence"]["further_tells"]) == ("high", [])


@pytest.mark.parametrize("device", [LOGITECH_RECEIVER, YUBIKEY, ELGATO, ROOT_HUB,
                                    usb("0bda", "8153", "ff/ff/00", "02/06/00", "0a/00/00"),     # dock Ethernet
                                    usb("05e3", "0749", STORAGE)])                              # card reader
def test_ordinary_peripherals_are_not_composite_gadgets(device):
    assert findings(report("windows", usb_devices=[device]), "usb-kvm-composite") == []


# --- display-kvm-edid / display-capture-edid ------------------------------------------------

def test_pikvm_edid_by_identity():
    finding = only(report("windows", displays=[display("LNX", 0x7773, "PiKVM V4 Plus", width_mm=0, height_mm=0)]),
                   "display-kvm-edid")
    assert finding["severity"] == "critical"
    assert finding["evidence"]["signature"]["matched"] == {"manufacturer_id": "LNX", "product_code": "0x7773"}
    assert finding["summary"] == "Display output goes into an IP-KVM: PiKVM V4 Plus (LNX7773 'PiKVM V4 Plus' on card0-HDMI-A-1)"


def test_edid_identity_is_decoded_from_raw_bytes():
    rep = report("linux", displays=[edid_display("TSB", 0x9876, "TinyPilot")])
    finding = only(rep, "display-kvm-edid")
    assert finding["evidence"]["display"]["monitor_name"] == "TinyPilot"


def test_jetkvm_monitor_preset_needs_the_copied_serial():
    preset = display("DEL", 0x2013, "DELL D2721H", serial_string="3S5GQ23")
    assert only(report("windows", displays=[preset]), "display-kvm-edid")["evidence"]["signature"]["id"] == "jetkvm-preset-dell"
    real = display("DEL", 0x2013, "DELL D2721H", serial_string="FJ3HQ23")
    assert verdict(report("windows", displays=[real]))["findings"] == []



@pytest.mark.parametrize("pnp, code, serial, preset", [(
    "DEL", 0x2013, 0x39363945, "jetkvm-preset-dell-serial-number"), ("ACR", 0x0565, 0x01613F8A,
                                                                     "jetkvm-preset-acer-serial-number")])
def test_jetkvm_monitor_preset_is_known_by_its_numeric_serial_without_the_edid_bytes(pnp, code, serial, preset):
    """macOS on Apple silicon reports vendor, product and the 32-bit serial from system_profiler, no serial string."""
    found = display(pnp, code, "", connector="external-2", width_mm=0, height_mm=0, serial_number=serial)
    finding = only(report("macos", displays=[found]), "display-kvm-edid")
    assert (finding["severity"], finding["evidence"]["signature"]["id"]) == ("critical", preset)
    real = display("DEL", 0x2013, "DELL D2721H", connector="external-2", width_mm=0, height_mm=0, serial_number=0x4C42524B)
    assert verdict(report("macos", displays=[real]))["findings"] == []

def test_toshiba_template_on_a_built_in_screenpad_is_benign():
    screenpad = display("TSB", 0x8888, "ScreenXpert-", connector="card0-eDP-2", built_in=True)
    assert verdict(report("windows", displays=[screenpad]))["findings"] == []
    other = display("TSB", 0x8888, "Monitor", width_mm=0, height_mm=0)
    assert only(report("windows", displays=[other]), "display-kvm-edid")["severity"] == "high"


def test_capture_dongle_edid():
    finding = only(report("windows", displays=[display("HJW", 0x1836, "MACROSILICON", width_mm=0, height_mm=0)]),
                   "display-capture-edid")
    assert finding["severity"] == "high"
    assert finding["evidence"]["signature"]["id"] == "macrosilicon-edid"
    assert "hjw-capture-edid" in [m["id"] for m in finding["evidence"]["also_matches"]]


def test_a_monitor_merely_mentioning_hdmi_is_not_a_capture_dongle():
    rep = report("windows", displays=[display("SAM", 0x7226, "HDMI Monitor"), display("AGO", 0x0002, "Dock display")])
    assert findings(rep, "display-capture-edid") == []


# --- display-capture-like -------------------------------------------------------------------

def test_unknown_display_named_like_a_kvm():
    finding = only(report("linux", displays=[display("ABC", 0x0001, "Lab KVM Input")]), "display-capture-like")
    assert finding["severity"] == "medium"


def test_sizeless_nameless_display_is_weak():
    finding = only(report("linux", displays=[display("ZZZ", 0x0042, width_mm=0, height_mm=0)]), "display-capture-like")
    assert finding["severity"] == "low"
    assert finding["evidence"]["tells"] == ["no physical size", "no monitor name"]


@pytest.mark.parametrize("screen", [
    display("EPS", 0x0001, "EPSON PJ", width_mm=0, height_mm=0),      # projectors report no size
    display("SAM", 0x0F00, "SAMSUNG", width_mm=1600, height_mm=900),  # a TV
    display("GSM", 0x5B7F, "27GL850"),
    display("BOE", 0x0A1B, "", connector="card0-eDP-1", width_mm=0, height_mm=0),  # built-in panel
])
def test_ordinary_screens_do_not_look_like_capture(screen):
    assert findings(report("windows", displays=[screen]), "display-capture-like") == []


# --- kvm-assembled --------------------------------------------------------------------------

def test_capture_output_plus_gadget_input_is_a_kvm():
    rep = report("linux", displays=[display("HJW", 0x1836, "MACROSILICON", width_mm=0, height_mm=0)],
                 usb_devices=[usb("0525", "a4ac", KEYBOARD, MOUSE)])
    finding = only(rep, "kvm-assembled")
    assert finding["severity"] == "critical"
    assert finding["evidence"]["usb_devices"][0]["vendor_id"] == "0525"


def test_capture_output_with_ordinary_peripherals_is_not_a_kvm():
    rep = report("linux", displays=[display("HJW", 0x1836, "MACROSILICON", width_mm=0, height_mm=0)],
                 usb_devices=[LOGITECH_RECEIVER, YUBIKEY, usb("0e90", "0028", MOUSE)])
    assert findings(rep, "kvm-assembled") == []
