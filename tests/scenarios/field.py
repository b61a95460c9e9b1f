"""Cases a real fleet produces that the first corpus left out: more faces of each IP-KVM family, the
remote-control tools no other scenario runs, and honest laptops built to look alike (meeting apps,
help-desk consoles, hobby boards, VMs, docks, conference rooms, three monitors).

Identities come from docs/detection.md (§H, §T) and the signature catalogue; where
a value is not in the research (an ordinary monitor's or controller's ids) it is a plausible one that
no catalogue entry names, and the scenario's `fact` says which research fact the case leans on.
"""

from __future__ import annotations

from devices import ABS, KBD, MSD, REL, bus, interfaces
from edid import FHD_60, UHD_60, MonitorSpec
from parts import App, Conn, Delta, Listen, Login, NetIface, Proc, Usb, iface
from software import CONTROLLER, SYSTEM, VPS, screen_sharing_macos, xrdp_session_linux

PF, PF86 = "C:\\Program Files\\", "C:\\Program Files (x86)\\"
LOCALAPP = "{home}\\AppData\\Local\\"
DOWNLOADS = "{home}\\Downloads\\"
KVM_PORT = {"linux": "3-1", "windows": "Port_#0001.Hub_#0002", "macos": "0x00100000"}


def _kvm_usb(os: str, vid: str, pid: str, manufacturer: str, product: str, serial: str, *triples: str,
             device_class: str = "00", bcd: str = "0100", speed: float = 480.0) -> Usb:
    return Usb(vid, pid, manufacturer, product, serial, device_class, bcd, speed,
               bus(os, KVM_PORT["linux"], KVM_PORT["windows"], KVM_PORT["macos"]), interfaces(os, *triples))


# --- IP-KVM faces (docs/detection.md §H1) ------------------------------------------------------

def pikvm_2021(os: str) -> Usb:
    """kvmd 2021-09..2025-02: product 'Composite KVM Device', configuration 'PiKVM device'."""
    return _kvm_usb(os, "1d6b", "0104", "PiKVM", "Composite KVM Device", "CAFEBABE", KBD, ABS, REL, MSD)


def pi_kvm_2019(os: str) -> Usb:
    """Pi-KVM 2019-09..2021-09: manufacturer 'Pi-KVM', ACM serial on by default, no virtual media."""
    return _kvm_usb(os, "1d6b", "0104", "Pi-KVM", "Composite KVM Device", "CAFEBABE", KBD, ABS, "02/02/01",
                    "0a/00/00")


def pikvm_with_ecm(os: str) -> Usb:
    """PiKVM with its USB network on (ECM, kvmd's default driver) listed first, bcdDevice 0x0101."""
    return _kvm_usb(os, "1d6b", "0104", "PiKVM", "PiKVM Composite Device", "CAFEBABE", "02/06/00", "0a/00/00",
                    KBD, ABS, REL, MSD, bcd="0101")


def pikvm_renamed_strings(os: str) -> Usb:
    """A PiKVM whose owner changed manufacturer/product (kvmd `otg` settings) but left ids and serial."""
    return _kvm_usb(os, "1d6b", "0104", "Logitech", "USB Receiver", "CAFEBABE", KBD, ABS, REL, MSD)


def pikvm_as_unifying(os: str) -> Usb:
    """A PiKVM set to a Logitech Unifying receiver's ids and strings, virtual media on."""
    return _kvm_usb(os, "046d", "c52b", "Logitech", "USB Receiver", "", KBD, ABS, REL, MSD)


def pikvm_pico_hid(os: str) -> Usb:
    return _kvm_usb(os, "1209", "eda2", "PiKVM", "PiKVM HID", "E6614103E7452D2F", KBD, ABS, speed=12.0)


def tinypilot_stripped(os: str) -> Usb:
    """TinyPilot with its manufacturer/product strings blanked; serial and HID pair unchanged."""
    return _kvm_usb(os, "1d6b", "0104", "", "", "6b65796d696d6570690", KBD, ABS)


def jetkvm_dec2024(os: str) -> Usb:
    """JetKVM's first release: product 'JetKVM USB Emulation Device', serial = the unit's device id."""
    return _kvm_usb(os, "1d6b", "0104", "JetKVM", "JetKVM USB Emulation Device", "a1b2c3d4e5f60718",
                    KBD, "03/00/02", REL, MSD)


def jetkvm_as_microsoft(os: str) -> Usb:
    return _kvm_usb(os, "045e", "005f", "Microsoft", "Wireless MultiMedia Keyboard", "N&3c1a9f2&0&1",
                    KBD, "03/00/02", REL, MSD)


def jetkvm_as_dell(os: str) -> Usb:
    return _kvm_usb(os, "413c", "2011", "Dell Inc.", "Multimedia Pro Keyboard", "N&51d0e7b&0&1",
                    KBD, "03/00/02", REL, MSD)


def nanokvm_ncm_disk(os: str) -> Usb:
    """NanoKVM with /boot/usb.ncm and /boot/usb.disk0: NCM network and a virtual disk after the HID trio."""
    return _kvm_usb(os, "3346", "1009", "sipeed", "NanoKVM", "0123456789ABCDEF", "03/00/01", "03/00/02", "03/00/02",
                    "02/0d/00", "0a/00/01", MSD, device_class="ef", bcd="0510")


def nanokvm_custom_ids(os: str) -> Usb:
    """NanoKVM with /boot/usb.vid and /boot/usb.pid set to made-up ids; strings left alone."""
    return _kvm_usb(os, "0c45", "7403", "sipeed", "NanoKVM", "0123456789ABCDEF", "03/00/01", "03/00/02", "03/00/02",
                    device_class="ef", bcd="0510")


def glkvm_2024(os: str) -> Usb:
    """GLKVM firmware 1.4.2..1.7.1: Linux Foundation vendor id, 'Glinet' strings."""
    return _kvm_usb(os, "1d6b", "0104", "Glinet", "Glinet Composite Device", "CAFEBABE", KBD, ABS, REL, MSD, MSD)


def glkvm_model_pid(os: str) -> Usb:
    """GLKVM >= 1.7.2 on a model whose per-model PID (/proc/gl-hw-info/usb_pid) is not in any list."""
    return _kvm_usb(os, "38eb", "0131", "Glinet", "Glinet Composite Device", "CAFEBABE", KBD, ABS, REL, MSD)


def blikvm_no_image(os: str) -> Usb:
    """BliKVM's gadget script without an .img: keyboard, absolute and relative mouse only."""
    return _kvm_usb(os, "1d6b", "0106", "smart-kvm", "Multifunction USB Device", "6b65796d696d6570690", KBD, ABS, REL)


def g_hid_gadget(os: str) -> Usb:
    """The kernel's legacy g_hid gadget on a Pi Zero: 0525:a4ac, one keyboard and one mouse function."""
    return _kvm_usb(os, "0525", "a4ac", "", "", "", KBD, REL, bcd="0510")


def raritan_cim(os: str) -> Usb:
    return _kvm_usb(os, "14dd", "1007", "Raritan", "D2CIM-VUSB", "", KBD, REL, MSD, speed=12.0)


def aten_ip_kvm(os: str) -> Usb:
    return _kvm_usb(os, "0557", "2419", "ATEN", "", "", KBD, REL, speed=12.0)


def aspeed_pc_over_lan(os: str) -> Usb:
    return _kvm_usb(os, "2245", "1500", "", "", "", "09/00/00", device_class="09")


def epiphan_kvm2usb(os: str) -> Usb:
    """Epiphan KVM2USB: the laptop drives another computer through it (capture + its HID emulation)."""
    return Usb("5555", "1120", "Epiphan Systems Inc.", "KVM2USB", "KV0123", "ef", "0100", 480.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"), interfaces(os, "0e/01/00", "0e/02/00"))


def digispark_keyboard(os: str) -> Usb:
    return Usb("16c0", "27db", "digistump.com", "DigiKey", "", "00", "0100", 1.5,
               bus(os, "1-3", "Port_#0003.Hub_#0001", "0x00130000"), interfaces(os, KBD))


def rubber_ducky(os: str) -> Usb:
    return Usb("03eb", "2401", "", "", "", "00", "0100", 12.0,
               bus(os, "1-3", "Port_#0003.Hub_#0001", "0x00130000"), interfaces(os, KBD))


def wiebetech_mj3(os: str) -> Usb:
    return Usb("0e90", "0045", "", "", "", "00", "0100", 1.5,
               bus(os, "1-3", "Port_#0003.Hub_#0001", "0x00130000"), interfaces(os, REL))


# --- EDIDs (docs/detection.md §H2, §H3) ---------------------------------------------------------

PIKVM_2022 = MonitorSpec("LNX", 0x8888, 0x88888800, 28, 2011, 0, 0, FHD_60, "PiKVM")
PIKVM_V4_MINI = MonitorSpec("LNX", 0x7772, 0x01010101, 35, 2016, 0, 0, FHD_60, "PiKVM V4 Mini", "CAFEBABE")
PIKVM_V0_V2 = MonitorSpec("LNX", 0x7770, 0x01010101, 35, 2016, 0, 0, FHD_60, "PiKVM", "CAFEBABE")
PIKVM_DOCS_VIDEO = MonitorSpec("TSB", 0x8888, 0x88888800, 28, 2011, 0, 0, FHD_60, "PI-KVM Video")
TOSHIBA_H2C = MonitorSpec("TSB", 0x8888, 0x88888800, 28, 2011, 0, 0, FHD_60, "Toshiba-H2C")
TINYPILOT_EDID = MonitorSpec("TSB", 0x9876, 0x88888800, 45, 2020, 0, 0, FHD_60, "TinyPilot")
JETKVM_EDID = MonitorSpec("TSB", 0x8801, 0x88888800, 28, 2011, 0, 0, FHD_60, "T749-fHD720")
JETKVM_ACER_PRESET = MonitorSpec("ACR", 0x0565, 0x01613F8A, 16, 2020, 531, 299, FHD_60, "B246WL", "T8NEE0038522")
JETKVM_ASUS_PRESET = MonitorSpec("AUS", 0x2487, 0x01010101, 2, 2021, 531, 299, FHD_60, "PA248QV", "M1LMQS052157")
NANOKVM_EDID = MonitorSpec("SPD", 0x3301, 21, 30, 2025, 0, 0, FHD_60, "NanoKVM", "NanoKVM")
HD_TO_USB = MonitorSpec("HJW", 0x2109, 0, 1, 2020, 0, 0, FHD_60, "HD TO USB")
USBTV007_HDMI = MonitorSpec("AGO", 0x0001, 0, 1, 2017, 0, 0, FHD_60, "HDMI")
SUNTECH_PVR = MonitorSpec("SUM", 0x0000, 0, 1, 2016, 0, 0, FHD_60, "SUNTECH PVR")
USB3_CAPTURE = MonitorSpec("CAP", 0x0100, 0, 1, 2019, 0, 0, FHD_60, "Capture")
LG_CAPTURE = MonitorSpec("GSM", 0x7666, 0, 1, 2018, 0, 0, FHD_60, "CAPTURE")

# Ordinary monitors and room displays (not KVM identities).
DELL_U2723QE = MonitorSpec("DEL", 0x41B1, 0x4C32314B, 33, 2022, 597, 336, UHD_60, "DELL U2723QE", "7JPZLN3")
DELL_U2723QE_B = MonitorSpec("DEL", 0x41B1, 0x4C453344, 41, 2022, 597, 336, UHD_60, "DELL U2723QE", "9KQ2LN3")
DELL_P2422H = MonitorSpec("DEL", 0x41F4, 0x42393357, 12, 2023, 527, 296, FHD_60, "DELL P2422H", "CX3B9T3")
DELL_P2422H_B = MonitorSpec("DEL", 0x41F4, 0x42395A31, 12, 2023, 527, 296, FHD_60, "DELL P2422H", "FZ1B9T3")
HP_E24_G5 = MonitorSpec("HPN", 0x3745, 0x01010101, 20, 2022, 527, 296, FHD_60, "HP E24 G5", "CNK2201XYZ")
LG_ULTRAFINE = MonitorSpec("GSM", 0x5B71, 0x0004E2A1, 10, 2021, 597, 336, UHD_60, "LG UltraFine", "104NTBK2A345")
SAMSUNG_TV = MonitorSpec("SAM", 0x7123, 0x01000E00, 1, 2023, 0, 0, UHD_60, "SAMSUNG")
EPSON_PROJECTOR = MonitorSpec("SEC", 0x3445, 0x01010101, 1, 2019, 0, 0, FHD_60, "EPSON PJ")
PORTABLE_MONITOR = MonitorSpec("ASU", 0x16AC, 0x0000C2F1, 30, 2022, 344, 194, FHD_60, "MB16AC", "M8LMTF123456")


# --- honest USB peripherals --------------------------------------------------------------------

def thinkpad_tb4_dock(os: str) -> tuple[Usb, ...]:
    return (
        Usb("17ef", "a3b0", "Lenovo", "ThinkPad Thunderbolt 4 Dock USB2.0 Hub", "", "09", "5040", 480.0, "3-1",
            interfaces(os, "09/00/00")),
        Usb("17ef", "a3b1", "Lenovo", "ThinkPad Thunderbolt 4 Dock USB3.2 Hub", "", "09", "5040", 10000.0, "4-1",
            interfaces(os, "09/00/00")),
        Usb("17ef", "a3b2", "Lenovo", "ThinkPad TBT 4 Dock Ethernet", "301A00000", "00", "3104", 5000.0, "4-1.2",
            interfaces(os, "ff/ff/00", "02/06/00", "0a/00/00")),
        Usb("17ef", "a3b3", "Lenovo", "ThinkPad TBT 4 Dock Audio", "000000000000", "00", "0003", 480.0, "3-1.4",
            interfaces(os, "01/01/00", "01/02/00", "01/02/00", "03/00/00")),
        Usb("17ef", "a3b4", "Lenovo", "ThinkPad Dock Controller", "", "00", "0100", 12.0, "3-1.5",
            interfaces(os, "03/00/00")),
    )


def displaylink_dock(os: str) -> tuple[Usb, ...]:
    """A DisplayLink universal dock: the DisplayLink chip (vendor video + audio + a control HID), a LAN chip."""
    return (
        Usb("17e9", "6006", "DisplayLink", "Dell Universal Dock D6000", "1811291500", "ef", "3104", 5000.0,
            "Port_#0001.Hub_#0005", (iface("ff/00/00"), iface("ff/00/00")) + interfaces(os, "01/01/00", "01/02/00", "01/02/00", "03/00/00")),
        Usb("0bda", "8153", "Realtek", "USB 10/100/1000 LAN", "000001", "00", "3100", 5000.0, "Port_#0002.Hub_#0005",
            interfaces(os, "ff/ff/00", "02/06/00", "0a/00/00")),
    )


def usbc_monitor_hub(os: str) -> tuple[Usb, ...]:
    """A USB-C monitor's built-in hub, Ethernet and billboard device (no HID of its own)."""
    return (
        Usb("0bda", "5413", "Dell Inc.", "Dell dock", "", "09", "0121", 480.0, bus(os, "3-2", "Port_#0002.Hub_#0007",
                                                                                    "0x02200000"),
            interfaces(os, "09/00/00")),
        Usb("0bda", "0413", "Dell Inc.", "Dell dock", "", "09", "0121", 10000.0,
            bus(os, "4-2", "Port_#0002.Hub_#0008", "0x03200000"), interfaces(os, "09/00/00")),
        Usb("0bda", "8153", "Realtek", "USB 10/100/1000 LAN", "001000001", "00", "3100", 5000.0,
            bus(os, "4-2.1", "Port_#0001.Hub_#0009", "0x03210000"), interfaces(os, "ff/ff/00", "02/06/00", "0a/00/00")),
        Usb("2109", "0103", "VIA Labs, Inc.", "USB Billboard Device", "0000000000000001", "11", "0001", 12.0,
            bus(os, "3-2.5", "Port_#0005.Hub_#0007", "0x02250000"), (iface("11/00/00"),)),
    )


def lg_ultrafine_controls(os: str) -> Usb:
    """The monitor-controls HID of an LG UltraFine (brightness), next to its camera and audio."""
    return Usb("043e", "9a40", "LG Electronics Inc.", "LG UltraFine Display Controls", "104NTBK2A345", "00", "0100",
               12.0, bus(os, "1-1.2", "Port_#0002.Hub_#0003", "0x01120000"), interfaces(os, "03/00/00"))


def xbox_controller(os: str) -> Usb:
    return Usb("045e", "0b12", "Microsoft", "Controller", "3033363030373732", "ff", "0507", 12.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"), (iface("ff/47/d0", bus(os, "xpad", "xboxgip", "")), iface("ff/47/d0")))


def dualsense(os: str) -> Usb:
    return Usb("054c", "0ce6", "Sony Interactive Entertainment", "DualSense Wireless Controller", "", "00", "0100",
               480.0, bus(os, "1-3", "Port_#0003.Hub_#0001", "0x00130000"),
               interfaces(os, "01/01/00", "01/02/00", "01/02/00", "03/00/00"))


def switch_pro(os: str) -> Usb:
    return Usb("057e", "2009", "Nintendo Co., Ltd.", "Pro Controller", "000000000001", "00", "0200", 12.0,
               bus(os, "1-4", "Port_#0004.Hub_#0001", "0x00150000"), interfaces(os, "03/00/00"))


def logitech_spotlight(os: str) -> Usb:
    return Usb("046d", "c53e", "Logitech", "USB Receiver", "", "00", "1203", 12.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"), interfaces(os, KBD, REL, ABS))


def yubikey_bio(os: str) -> Usb:
    return Usb("1050", "0402", "Yubico", "YubiKey FIDO", "", "00", "0570", 12.0,
               bus(os, "1-4", "Port_#0004.Hub_#0001", "0x00150000"), interfaces(os, "03/00/00"))


def yubikey_nano(os: str) -> Usb:
    return Usb("1050", "0407", "Yubico", "YubiKey OTP+FIDO+CCID", "", "00", "0543", 12.0,
               bus(os, "1-3", "Port_#0003.Hub_#0001", "0x00130000"), interfaces(os, KBD, ABS, "0b/00/00"))


def teensy_button_box(os: str) -> Usb:
    """A Teensy built as 'Serial + Keyboard + Mouse + Joystick' (a flight-sim button box): CDC-ACM serial
    (02/02/01 + data) beside boot keyboard, boot mouse and joystick — a serial port, no network."""
    return Usb("16c0", "0487", "Teensyduino", "Serial/Keyboard/Mouse/Joystick", "12345670", "ef", "0280", 12.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"),
               interfaces(os, "02/02/01", "0a/00/00", KBD, REL, "03/00/00"))


def arduino_leonardo(os: str) -> Usb:
    return Usb("2341", "8036", "Arduino LLC", "Arduino Leonardo", "", "ef", "0100", 12.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"), interfaces(os, "02/02/01", "0a/00/00",
                                                                                  "03/00/00"))


def stream_deck(os: str) -> Usb:
    return Usb("0fd9", "0080", "Elgato", "Stream Deck MK.2", "DL12K1A01234", "00", "0200", 12.0,
               bus(os, "1-4", "Port_#0004.Hub_#0001", "0x00150000"), interfaces(os, "03/00/00"))


def rp2040_macropad(os: str) -> Usb:
    """A CircuitPython macro pad: CDC serial, CIRCUITPY drive, one HID interface (keyboard + mouse + consumer
    control behind report ids), MIDI."""
    return Usb("239a", "8108", "Adafruit", "Macropad RP2040", "DE6185100B4F2B2A", "ef", "0100", 12.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"),
               interfaces(os, "02/02/00", "0a/00/00", MSD, "03/00/00", "01/01/00", "01/03/00"))


# --- remote-control tools not run by the first corpus (signatures/remote_tools/) ----------------------

def parsec_windows() -> Delta:
    folder = PF + "Parsec\\"
    return Delta(
        applications=(App("Parsec", "150-93b", folder[:-1], publisher="Unity Technologies SF", source="registry"),
                      App("Parsec", path=folder + "pservice.exe", source="service")),
        processes=(Proc(folder + "pservice.exe", user=SYSTEM, parent="services.exe", started=12),
                   Proc(folder + "parsecd.exe", ("app_daemon=1",), parent="pservice.exe", started=100)),
        connections=(Conn("{lan_ip}", 50988, "34.120.197.110", 443, "parsecd.exe"),))


def parsec_macos() -> Delta:
    app = "/Applications/Parsec.app"
    return Delta(
        applications=(App("Parsec", "150-93b", app, "tv.parsec.www", signer="Y9MY52XZDB", source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/Parsec", parent="launchd", bundle_id="tv.parsec.www", started=140),),
        connections=(Conn("{lan_ip}", 53120, "34.120.197.110", 443, "Parsec"),))


def sunlogin_windows() -> Delta:
    folder = PF + "Oray\\SunLogin\\SunloginClient\\"
    return Delta(
        applications=(App("SunloginClient", "15.2.0.63062", folder[:-1], publisher="Oray", source="registry"),
                      App("SunloginService", path=folder + "SunloginClient.exe", source="service")),
        processes=(Proc(folder + "SunloginClient.exe", ("--mod=service",), user=SYSTEM, parent="services.exe",
                        key="SunloginClient.exe", started=12),
                   Proc(folder + "SunloginClient.exe", parent="explorer.exe", key="SunloginClient.exe#ui",
                        started=110)),
        connections=(Conn("{lan_ip}", 51300, "47.111.167.1", 443, "SunloginClient.exe"),))


def sunlogin_macos() -> Delta:
    app = "/Applications/SunloginClient.app"
    bundle = "com.oray.sunlogin.macclient"
    return Delta(
        applications=(App("SunloginClient", "5.6.0", app, bundle, source="app_bundle"),
                      App("com.oray.sunlogin.service", path="/Library/LaunchDaemons/com.oray.sunlogin.service.plist",
                          bundle_id="com.oray.sunlogin.service", source="launchd")),
        processes=(Proc(app + "/Contents/MacOS/SunloginClient", parent="launchd", bundle_id=bundle, started=130),))


def ultraviewer_windows() -> Delta:
    folder = PF86 + "UltraViewer\\"
    return Delta(
        applications=(App("UltraViewer version 6.6.110", "6.6.110", folder[:-1], publisher="DucFabulous",
                          source="registry"),
                      App("UltraViewService", path=folder + "UltraViewer_Service.exe", source="service")),
        processes=(Proc(folder + "UltraViewer_Service.exe", user=SYSTEM, parent="services.exe", started=12,
                        signer="DUC FABULOUS CO.,LTD"),
                   Proc(folder + "UltraViewer_Desktop.exe", parent="explorer.exe", started=105,
                        signer="DUC FABULOUS CO.,LTD")),
        connections=(Conn("{lan_ip}", 50411, "103.97.125.205", 443, "UltraViewer_Desktop.exe"),))


def supremo_portable_windows() -> Delta:
    exe = DOWNLOADS + "Supremo.exe"
    return Delta(
        processes=(Proc(exe, parent="explorer.exe", signer="Nanosystems S.r.l."),),
        connections=(Conn("{lan_ip}", 50770, "185.68.31.20", 443, "Supremo.exe"),))


def ultravnc_session_windows() -> Delta:
    folder = PF + "uvnc bvba\\UltraVNC\\"
    return Delta(
        applications=(App("UltraVNC", "1.4.3.6", folder[:-1], publisher="uvnc bvba", source="registry"),
                      App("uvnc_service", path=folder + "winvnc.exe", source="service")),
        processes=(Proc(folder + "winvnc.exe", ("-service",), user=SYSTEM, parent="services.exe", key="winvnc.exe",
                        started=12, signer="uvnc bvba"),
                   Proc(folder + "winvnc.exe", parent="explorer.exe", key="winvnc.exe#tray", started=104,
                        signer="uvnc bvba")),
        listeners=(Listen("0.0.0.0", 5900, "winvnc.exe"),),
        connections=(Conn("{lan_ip}", 5900, CONTROLLER, 60877, "winvnc.exe"),))


def tigervnc_session_linux() -> Delta:
    """A TigerVNC virtual desktop on display :1 (port 5901) with a viewer connected from outside."""
    return Delta(
        applications=(App("tigervnc-standalone-server", "1.13.1+dfsg-2build2", source="dpkg"),
                      App("tigervncserver@:1.service", path="/usr/lib/systemd/system/tigervncserver@.service",
                          source="systemd")),
        processes=(Proc("/usr/bin/Xtigervnc", (":1", "-localhost=0", "-desktop", "{user}-laptop:1", "-rfbport", "5901",
                                               "-PasswordFile", "{home}/.vnc/passwd", "-SecurityTypes", "VncAuth"),
                        parent="systemd", started=60),),
        listeners=(Listen("0.0.0.0", 5901, "Xtigervnc"), Listen("::", 5901, "Xtigervnc")),
        connections=(Conn("{lan_ip}", 5901, CONTROLLER, 59122, "Xtigervnc"),))


def krfb_session_linux() -> Delta:
    return Delta(
        applications=(App("krfb", "4:23.08.5-0ubuntu1", source="dpkg"),),
        processes=(Proc("/usr/bin/krfb", ("--nodialog",), parent="systemd#user", started=300),),
        listeners=(Listen("0.0.0.0", 5900, "krfb"),),
        connections=(Conn("{lan_ip}", 5900, CONTROLLER, 60231, "krfb"),))


def wayvnc_lan_session_linux() -> Delta:
    return Delta(
        processes=(Proc("/usr/bin/wayvnc", ("0.0.0.0", "5900"), parent="systemd#user", started=400),),
        listeners=(Listen("0.0.0.0", 5900, "wayvnc"),),
        connections=(Conn("{lan_ip}", 5900, "{lan_net}.77", 52331, "wayvnc"),))


def x2go_session_linux() -> Delta:
    """X2Go: an x2goagent desktop (display :50) carried over an SSH login from a public address."""
    return Delta(
        applications=(App("x2goserver", "4.1.0.3-5build1", source="dpkg"),
                      App("x2goserver.service", path="/usr/lib/systemd/system/x2goserver.service", source="systemd"),
                      App("openssh-server", "1:9.6p1-3ubuntu13.5", source="dpkg")),
        remote_access=(("sshd", True),),
        processes=(Proc("/usr/sbin/sshd", ("-D",), user="root", parent="systemd", started=4,
                        argv0="sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"),
                   Proc("/usr/sbin/sshd", user="root", parent="sshd", key="sshd#session", argv0="sshd: {user} [priv]"),
                   Proc("/usr/sbin/sshd", parent="sshd#session", key="sshd#user", argv0="sshd: {user}@notty"),
                   Proc("/usr/lib/x2go/x2goagent", ("-nolisten", "tcp", "-nolisten", "unix", "-auth",
                                                    "{home}/.Xauthority", ":50"),
                        parent="sshd#user", name="x2goagent")),
        listeners=(Listen("0.0.0.0", 22, "sshd"), Listen("::", 22, "sshd")),
        connections=(Conn("{lan_ip}", 22, CONTROLLER, 53877, "sshd#session"),))


def logmein_windows() -> Delta:
    folder = PF86 + "LogMeIn\\x64\\"
    return Delta(
        applications=(App("LogMeIn", "4.1.16092", PF86 + "LogMeIn", publisher="LogMeIn, Inc.", source="registry"),
                      App("LogMeIn", path=folder + "LogMeIn.exe", source="service"),
                      App("LMIGuardianSvc", path=folder + "LMIGuardianSvc.exe", source="service")),
        processes=(Proc(folder + "LogMeIn.exe", user=SYSTEM, parent="services.exe", started=12),
                   Proc(folder + "LMIGuardianSvc.exe", user=SYSTEM, parent="services.exe", started=12),
                   Proc(folder + "LogMeInSystray.exe", parent="explorer.exe", started=104)),
        connections=(Conn("{lan_ip}", 51244, "216.52.233.10", 443, "LogMeIn.exe"),))


def zoho_assist_unattended_windows() -> Delta:
    folder = PF86 + "ZohoMeeting\\UnAttended\\ZohoMeeting\\"
    return Delta(
        applications=(App("Zoho Assist Unattended Agent", "1.0.0.0", folder[:-1], publisher="Zoho Corporation",
                          source="registry"),
                      App("Zoho Assist-Remote Support", path=folder + "ZAService.exe", source="service")),
        processes=(Proc(folder + "ZAService.exe", user=SYSTEM, parent="services.exe", started=12,
                        signer="ZOHO Corporation Private Limited"),),
        connections=(Conn("{lan_ip}", 51802, "136.143.190.211", 443, "ZAService.exe"),))


def dwservice_windows() -> Delta:
    folder = PF + "DWAgent\\"
    return Delta(
        applications=(App("DWAgent", "4.1.5", folder[:-1], publisher="DWSNET OÜ", source="registry"),
                      App("DWAgent", path=folder + "runtime\\dwagsvc.exe", source="service")),
        processes=(Proc(folder + "runtime\\dwagsvc.exe", ("run",), user=SYSTEM, parent="services.exe", started=12),
                   Proc(folder + "runtime\\dwagent.exe", ("-S", "-m", "agent.py"), user=SYSTEM, parent="dwagsvc.exe",
                        started=14)),
        connections=(Conn("{lan_ip}", 51990, "89.46.108.15", 443, "dwagent.exe"),))


def hoptodesk_portable_windows() -> Delta:
    return Delta(
        processes=(Proc(DOWNLOADS + "HopToDesk.exe", parent="explorer.exe"),),
        connections=(Conn("{lan_ip}", 51012, "144.76.93.8", 443, "HopToDesk.exe"),))


def remote_utilities_session_windows() -> Delta:
    folder = PF86 + "Remote Utilities - Host\\"
    return Delta(
        applications=(App("Remote Utilities - Host", "7.5.1.0", folder[:-1], publisher="Remote Utilities LLC",
                          source="registry"),
                      App("RManService", path=folder + "rutserv.exe", source="service")),
        processes=(Proc(folder + "rutserv.exe", ("-service",), user=SYSTEM, parent="services.exe", started=12),
                   Proc(folder + "rfusclient.exe", ("-run_agent",), parent="rutserv.exe", started=100)),
        listeners=(Listen("0.0.0.0", 5650, "rutserv.exe"),),
        connections=(Conn("{lan_ip}", 5650, CONTROLLER, 61003, "rutserv.exe"),))


def netsupport_client_windows() -> Delta:
    folder = PF86 + "NetSupport\\NetSupport Manager\\"
    return Delta(
        applications=(App("NetSupport Manager", "14.10", folder[:-1], publisher="NetSupport Ltd", source="registry"),
                      App("Client32", path=folder + "client32.exe", source="service")),
        processes=(Proc(folder + "client32.exe", ("/*", "/s"), user=SYSTEM, parent="services.exe", started=12),),
        listeners=(Listen("0.0.0.0", 5405, "client32.exe"),))


def jump_desktop_connect_macos() -> Delta:
    app = "/Applications/Jump Desktop Connect.app"
    bundle = "com.p5sys.jump.connect"
    return Delta(
        applications=(App("Jump Desktop Connect", "7.1.14", app, bundle, signer="2HCKV38EEC", source="app_bundle"),
                      App("com.p5sys.jump.connect.service",
                          path="/Library/LaunchDaemons/com.p5sys.jump.connect.service.plist",
                          bundle_id="com.p5sys.jump.connect.service", source="launchd")),
        processes=(Proc(app + "/Contents/MacOS/Jump Desktop Connect", parent="launchd", bundle_id=bundle,
                        started=120),))


def bomgar_customer_client_windows() -> Delta:
    folder = "C:\\ProgramData\\bomgar-scc-0x65a1c3e2\\"
    return Delta(
        processes=(Proc(folder + "bomgar-scc.exe", ("-cb",), user=SYSTEM, parent="services.exe",
                        signer="BeyondTrust Corporation"),),
        connections=(Conn("{lan_ip}", 52011, "52.23.150.10", 443, "bomgar-scc.exe"),))


def quick_assist_windows() -> Delta:
    return Delta(
        processes=(Proc("C:\\Program Files\\WindowsApps\\MicrosoftCorporationII.QuickAssist_2.0.32.0_x64__8wekyb3d8bbwe"
                        "\\Microsoft.RemoteAssistance.QuickAssist\\QuickAssist.exe", parent="explorer.exe",
                        signer="Microsoft Corporation"),),
        connections=(Conn("{lan_ip}", 52200, "20.42.65.90", 443, "QuickAssist.exe"),))


def tmate_linux() -> Delta:
    return Delta(
        applications=(App("tmate", "2.4.0-4build1", source="dpkg"),),
        processes=(Proc("/usr/bin/tmate", parent="bash", started=3400),),
        connections=(Conn("{lan_ip}", 46322, "159.203.103.11", 22, "tmate"),))


def vscode_tunnel_windows() -> Delta:
    exe = LOCALAPP + "Programs\\Microsoft VS Code\\bin\\code-tunnel.exe"
    return Delta(
        processes=(Proc(exe, ("tunnel", "--accept-server-license-terms", "--name", "mrivera-x1"), parent="explorer.exe",
                        signer="Microsoft Corporation"),),
        connections=(Conn("{lan_ip}", 52310, "20.62.58.128", 443, "code-tunnel.exe"),))


def ngrok_http_macos() -> Delta:
    return Delta(
        processes=(Proc("/opt/homebrew/bin/ngrok", ("http", "3000"), parent="launchd", started=3600),
                   Proc("/opt/homebrew/bin/node", ("{home}/src/app/node_modules/.bin/next", "dev"), parent="launchd",
                        started=3500)),
        listeners=(Listen("127.0.0.1", 4040, "ngrok"), Listen("127.0.0.1", 3000, "node")),
        connections=(Conn("{lan_ip}", 53401, "3.134.125.175", 443, "ngrok"),
                     Conn("127.0.0.1", 53410, "127.0.0.1", 3000, "ngrok"),
                     Conn("127.0.0.1", 3000, "127.0.0.1", 53410, "node")))


def ngrok_screen_sharing_session_macos() -> Delta:
    """Screen Sharing published by `ngrok tcp 5900`, and someone in through it now."""
    return screen_sharing_macos(session=False) + Delta(
        processes=(Proc("/opt/homebrew/bin/ngrok", ("tcp", "5900"), parent="launchd", started=3600),
                   Proc("/System/Library/CoreServices/RemoteManagement/screensharingd.bundle/Contents/MacOS/"
                        "screensharingd", user="root", parent="launchd", bundle_id="com.apple.screensharing.server")),
        listeners=(Listen("127.0.0.1", 4040, "ngrok"),),
        connections=(Conn("{lan_ip}", 53401, "3.134.125.175", 443, "ngrok"),
                     Conn("127.0.0.1", 53512, "127.0.0.1", 5900, "ngrok"),
                     Conn("127.0.0.1", 5900, "127.0.0.1", 53512, "screensharingd")))


def frpc_xrdp_session_linux() -> Delta:
    """xrdp published through frpc; a client came in through the VPS, so frpc holds a connection into 3389."""
    folder = "{home}/tools/frp_0.61.0_linux_amd64/"
    xrdp = xrdp_session_linux()
    return Delta(
        remote_access=xrdp.remote_access, applications=xrdp.applications,
        processes=xrdp.processes + (Proc(folder + "frpc", ("-c", folder + "frpc.toml"), parent="systemd#user"),),
        listeners=xrdp.listeners,
        connections=(Conn("{lan_ip}", 45872, VPS, 7000, "frpc"),
                     Conn("127.0.0.1", 40112, "127.0.0.1", 3389, "frpc"),
                     Conn("::ffff:127.0.0.1", 3389, "::ffff:127.0.0.1", 40112, "xrdp#session")),
        sessions=(Login("{account}", ":10", "127.0.0.1"),))


def anydesk_msi_session_windows() -> Delta:
    """AnyDesk's MSI (custom client) build: AnyDeskMSI.exe as the service, a session on 7070."""
    folder = PF86 + "AnyDeskMSI\\"
    return Delta(
        applications=(App("AnyDeskMSI", "8.1.0", folder[:-1], publisher="AnyDesk Software GmbH", source="registry"),
                      App("AnyDeskMSI", path=folder + "AnyDeskMSI.exe", source="service")),
        processes=(Proc(folder + "AnyDeskMSI.exe", ("--service",), user=SYSTEM, parent="services.exe", started=12,
                        signer="AnyDesk Software GmbH"),),
        listeners=(Listen("0.0.0.0", 7070, "AnyDeskMSI.exe"),),
        connections=(Conn("{lan_ip}", 7070, CONTROLLER, 60112, "AnyDeskMSI.exe"),))


def ard_remote_management_session_macos() -> Delta:
    """Remote Management (ARD) on: ARDAgent and screensharingd, a viewer from a public address on 5900."""
    remote = "/System/Library/CoreServices/RemoteManagement/"
    return Delta(
        remote_access=(("remote_management", True),),
        processes=(Proc(remote + "ARDAgent.app/Contents/MacOS/ARDAgent", user="root", parent="launchd", started=8,
                        bundle_id="com.apple.RemoteDesktopAgent"),
                   Proc(remote + "screensharingd.bundle/Contents/MacOS/screensharingd", user="root", parent="launchd",
                        bundle_id="com.apple.screensharing.server")),
        listeners=(Listen("0.0.0.0", 5900, "launchd"), Listen("0.0.0.0", 3283, "ARDAgent")),
        connections=(Conn("{lan_ip}", 5900, CONTROLLER, 55120, "screensharingd"),))


def gnome_rdp_over_tailnet_linux() -> Delta:
    return Delta(
        remote_access=(("gnome-remote-desktop", True),),
        processes=(Proc("/usr/libexec/gnome-remote-desktop-daemon", parent="systemd#user", started=95),),
        interfaces=(NetIface("tailscale0", "", ("100.88.12.5",), kind="tunnel"),),
        listeners=(Listen("::", 3389, "gnome-remote-desktop-daemon"),),
        connections=(Conn("100.88.12.5", 3389, "100.101.44.9", 52113, "gnome-remote-desktop-daemon"),))


# --- honest software ----------------------------------------------------------------------------

def gotomeeting_windows() -> Delta:
    """GoTo Meeting's desktop app as it installs per user (G2M* binaries, a build folder under LocalAppData)."""
    folder = LOCALAPP + "GoToMeeting\\20436\\"
    return Delta(
        applications=(App("GoTo Meeting 10.19.0.20436", "10.19.0.20436", LOCALAPP + "GoToMeeting",
                          publisher="GoTo Technologies USA, Inc.", source="registry"),),
        processes=(Proc(folder + "g2mcomm.exe", parent="explorer.exe", started=4000, signer="GoTo Technologies USA, LLC"),
                   Proc(folder + "g2mstart.exe", ("/Action", "Host"), parent="explorer.exe", started=4001,
                        signer="GoTo Technologies USA, LLC"),
                   Proc(folder + "g2mlauncher.exe", parent="g2mcomm.exe", started=4002,
                        signer="GoTo Technologies USA, LLC"),
                   Proc(folder + "g2mui.exe", parent="g2mcomm.exe", started=4003, signer="GoTo Technologies USA, LLC")),
        connections=(Conn("{lan_ip}", 52810, "216.115.208.230", 443, "g2mcomm.exe"),))


def zoho_meeting_windows() -> Delta:
    exe = LOCALAPP + "ZohoMeeting\\ZohoMeeting.exe"
    return Delta(
        processes=(Proc(exe, parent="explorer.exe", started=4000, signer="ZOHO Corporation Private Limited"),),
        connections=(Conn("{lan_ip}", 52901, "136.143.190.100", 443, "ZohoMeeting.exe"),))


def webex_windows() -> Delta:
    folder = LOCALAPP + "CiscoSparkLauncher\\"
    return Delta(
        applications=(App("Webex", "44.10.1.31028", folder[:-1], publisher="Cisco Systems, Inc", source="registry"),),
        processes=(Proc(folder + "CiscoCollabHost.exe", parent="explorer.exe", started=300),
                   Proc(LOCALAPP + "Programs\\Cisco Spark\\CiscoCollabHost.exe", parent="CiscoCollabHost.exe",
                        key="CiscoCollabHost.exe#meeting", started=4000)),
        connections=(Conn("{lan_ip}", 53002, "170.72.231.10", 443, "CiscoCollabHost.exe#meeting"),))


def zoom_screen_share_windows() -> Delta:
    folder = "{home}\\AppData\\Roaming\\Zoom\\bin\\"
    return Delta(
        processes=(Proc(folder + "Zoom.exe", parent="explorer.exe", started=5400),
                   Proc(folder + "CptHost.exe", ("-key", "0x1a2b3c"), parent="Zoom.exe"),
                   Proc(folder + "CptControl.exe", ("-scene", "0"), parent="Zoom.exe")),
        connections=(Conn("{lan_ip}", 53110, "170.114.52.2", 443, "Zoom.exe"),
                     Conn("{lan_ip}", 53111, "170.114.52.2", 8801, "Zoom.exe")))


def teams_screen_share_windows() -> Delta:
    folder = "C:\\Program Files\\WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\\"
    return Delta(
        processes=(Proc(folder + "ms-teams.exe", parent="explorer.exe", started=200, signer="Microsoft Corporation"),
                   Proc(PF86 + "Microsoft\\EdgeWebView\\Application\\131.0.2903.63\\msedgewebview2.exe",
                        ("--type=renderer", "--webview-exe-name=ms-teams.exe"), parent="ms-teams.exe", started=201)),
        connections=(Conn("{lan_ip}", 53210, "52.112.120.4", 3478, "ms-teams.exe", status="ESTABLISHED"),))


def zoom_macos_share() -> Delta:
    app = "/Applications/zoom.us.app"
    return Delta(
        applications=(App("zoom.us", "6.2.11", app, "us.zoom.xos", signer="BJ4HAAB9B3", source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/zoom.us", parent="launchd", bundle_id="us.zoom.xos", started=3000),
                   Proc(app + "/Contents/Frameworks/cpthost.app/Contents/MacOS/CptHost", parent="zoom.us",
                        bundle_id="us.zoom.CptHost")),
        connections=(Conn("{lan_ip}", 53110, "170.114.52.2", 8801, "zoom.us"),))


def crd_web_client_pwa_windows() -> Delta:
    """The Chrome Remote Desktop *web client* installed as a Chrome app, open on the user's home PC: Chrome's
    chrome_proxy.exe launcher and chrome.exe with the app id. This laptop drives; nothing is installed."""
    chrome = PF + "Google\\Chrome\\Application\\"
    app_id = "inomeogfingihgjfjlpeplalcfajhgai"
    return Delta(
        processes=(Proc(chrome + "chrome_proxy.exe", ("--profile-directory=Default", f"--app-id={app_id}"),
                        parent="explorer.exe", started=3000, signer="Google LLC"),
                   Proc(chrome + "chrome.exe", ("--profile-directory=Default", f"--app-id={app_id}"),
                        parent="chrome_proxy.exe", key="chrome.exe#crd", started=3001, signer="Google LLC"),
                   Proc(chrome + "chrome_pwa_launcher.exe", parent="explorer.exe", started=3002, signer="Google LLC")),
        connections=(Conn("{lan_ip}", 53500, "142.250.72.106", 443, "chrome.exe#crd"),))


def remote_desktop_admin_macos() -> Delta:
    """Apple Remote Desktop, the admin app, observing lab Macs: this Mac is the one in control."""
    app = "/Applications/Remote Desktop.app"
    return Delta(
        applications=(App("Remote Desktop", "3.9.8", app, "com.apple.RemoteDesktop", source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/Remote Desktop", parent="launchd", bundle_id="com.apple.RemoteDesktop"),),
        connections=(Conn("100.64.1.9", 61301, "10.40.12.21", 5900, "Remote Desktop"),
                     Conn("100.64.1.9", 61302, "10.40.12.22", 3283, "Remote Desktop")))


def windows_app_rdp_client_macos() -> Delta:
    app = "/Applications/Windows App.app"
    return Delta(
        applications=(App("Windows App", "11.0.8", app, "com.microsoft.rdc.macos", signer="UBF8T346G9",
                          source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/Windows App", parent="launchd", bundle_id="com.microsoft.rdc.macos"),),
        connections=(Conn("100.64.1.9", 61400, "10.40.12.8", 3389, "Windows App"),))


def helpdesk_consoles_windows() -> Delta:
    """A help-desk technician: RDCMan and mRemoteNG sessions out to servers, the BeyondTrust representative
    console, the company's NinjaOne agent."""
    return Delta(
        applications=(App("NinjaRMMAgent", "5.9.1158", PF86 + "ninjarmmagent", publisher="NinjaRMM LLC",
                          source="registry"),
                      App("mRemoteNG", "1.76.20", PF86 + "mRemoteNG", publisher="mRemoteNG", source="registry")),
        processes=(Proc(PF86 + "ninjarmmagent\\NinjaRMMAgent.exe", user=SYSTEM, parent="services.exe", started=12,
                        signer="NinjaOne LLC"),
                   Proc("{home}\\Tools\\RDCMan.exe", parent="explorer.exe", started=900,
                        signer="Microsoft Corporation"),
                   Proc(PF86 + "mRemoteNG\\mRemoteNG.exe", parent="explorer.exe", started=910),
                   Proc(LOCALAPP + "bomgar-rep-acme\\bomgar-rep.exe", parent="explorer.exe", started=920,
                        signer="BeyondTrust Corporation")),
        connections=(Conn("100.64.1.7", 53388, "10.40.12.8", 3389, "RDCMan.exe"),
                     Conn("100.64.1.7", 53390, "10.40.12.11", 3389, "mRemoteNG.exe"),
                     Conn("100.64.1.7", 53392, "52.23.150.10", 443, "bomgar-rep.exe")))


def tailscale_windows() -> Delta:
    folder = PF + "Tailscale\\"
    return Delta(
        applications=(App("Tailscale", "1.76.6", folder[:-1], publisher="Tailscale Inc.", source="registry"),
                      App("Tailscale", path=folder + "tailscaled.exe", source="service")),
        processes=(Proc(folder + "tailscaled.exe", user=SYSTEM, parent="services.exe", started=12),
                   Proc(folder + "tailscale-ipn.exe", parent="explorer.exe", started=104)),
        interfaces=(NetIface("Tailscale", "", ("100.101.7.42",), kind="tunnel"),),
        connections=(Conn("{lan_ip}", 51022, "192.200.0.102", 443, "tailscaled.exe"),))


def ssh_from_tailnet_linux() -> Delta:
    from software import ssh_server
    return ssh_server("linux", "100.77.3.14")


def docker_desktop_wsl_windows() -> Delta:
    folder = PF + "Docker\\Docker\\"
    return Delta(
        ip_forwarding=True,
        applications=(App("Docker Desktop", "4.36.0", folder[:-1], publisher="Docker Inc.", source="registry"),
                      App("com.docker.service", path=folder + "com.docker.service", source="service")),
        processes=(Proc(folder + "Docker Desktop.exe", parent="explorer.exe", started=300),
                   Proc(folder + "resources\\com.docker.backend.exe", parent="Docker Desktop.exe", started=302),
                   Proc("C:\\Windows\\System32\\wsl.exe", ("-d", "docker-desktop"), parent="com.docker.backend.exe",
                        started=303),
                   Proc("C:\\Program Files\\WSL\\wslservice.exe", user=SYSTEM, parent="services.exe", started=290)),
        interfaces=(NetIface("vEthernet (WSL (Hyper-V firewall))", "00:15:5d:4a:1e:07", ("172.27.96.1",)),
                    NetIface("vEthernet (Default Switch)", "00:15:5d:01:c3:00", ("172.22.208.1",))),
        listeners=(Listen("0.0.0.0", 5432, "com.docker.backend.exe"), Listen("127.0.0.1", 8080,
                                                                            "com.docker.backend.exe")))


def utm_vm_macos() -> Delta:
    """UTM running a Linux VM in shared (vmnet) mode: bridge100 with the VM's vmenet0, forwarding on."""
    app = "/Applications/UTM.app"
    return Delta(
        ip_forwarding=True,
        applications=(App("UTM", "4.5.4", app, "com.utmapp.UTM", signer="WDNLXAD4W8", source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/UTM", parent="launchd", bundle_id="com.utmapp.UTM", started=700),
                   Proc(app + "/Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app/Contents/MacOS/"
                        "QEMULauncher", parent="launchd", started=705),
                   Proc("/usr/libexec/bootpd", ("-d",), user="root", parent="launchd", started=706)),
        interfaces=(NetIface("vmenet0", "9a:1c:44:0e:7b:21", (), kind="virtual"),
                    NetIface("bridge100", "f2:18:98:4a:11:65", ("192.168.64.1",), kind="bridge")),
        listeners=(Listen("0.0.0.0", 67, "bootpd", "udp"),))


def lxd_incus_linux() -> Delta:
    return Delta(
        ip_forwarding=True,
        applications=(App("incus", "6.0.0-1ubuntu0.1", source="dpkg"),
                      App("incus.service", path="/usr/lib/systemd/system/incus.service", source="systemd")),
        processes=(Proc("/usr/libexec/incus/incusd", ("--group", "incus-admin"), user="root", parent="systemd",
                        started=6),
                   Proc("/usr/sbin/dnsmasq", ("--keep-in-foreground", "--strict-order", "--bind-interfaces",
                                              "--interface=incusbr0"), user="incus", parent="incusd", started=7)),
        interfaces=(NetIface("incusbr0", "00:16:3e:5c:21:9a", ("10.88.41.1",), kind="bridge"),
                    NetIface("veth3f0c1a22", "de:44:a1:70:3c:10", (), kind="virtual")))


def duet_macos() -> Delta:
    app = "/Applications/Duet.app"
    return Delta(
        applications=(App("Duet", "3.13.2", app, "com.kairos.duetMac", source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/duet", parent="launchd", bundle_id="com.kairos.duetMac", started=200),))


def barrier_client_linux() -> Delta:
    return Delta(
        applications=(App("barrier", "2.4.0+dfsg-3", source="dpkg"),),
        processes=(Proc("/usr/bin/barrierc", ("-f", "--no-tray", "--name", "latitude", "--enable-crypto",
                                              "{lan_net}.30:24800"), parent="systemd#user", started=200),),
        connections=(Conn("{lan_ip}", 48220, "{lan_net}.30", 24800, "barrierc"),))


def korean_ime_windows() -> Delta:
    return Delta(
        applications=(App("KakaoTalk", "4.3.1.3826", PF86 + "Kakao\\KakaoTalk", publisher="Kakao Corp.",
                          source="registry"),),
        processes=(Proc(PF86 + "Kakao\\KakaoTalk\\KakaoTalk.exe", parent="explorer.exe", started=150),))


def obs_stream_deck_windows() -> Delta:
    return Delta(
        applications=(App("Elgato Stream Deck", "6.8.0", PF + "Elgato\\StreamDeck", publisher="Corsair",
                          source="registry"),
                      App("OBS Studio", "30.2.3", PF + "obs-studio", publisher="OBS Project", source="registry")),
        processes=(Proc(PF + "Elgato\\StreamDeck\\StreamDeck.exe", parent="explorer.exe", started=110),
                   Proc(PF + "obs-studio\\bin\\64bit\\obs64.exe", parent="explorer.exe", started=900)),
        listeners=(Listen("127.0.0.1", 4455, "obs64.exe"), Listen("127.0.0.1", 28196, "StreamDeck.exe")))


def amphetamine_macos() -> Delta:
    """Amphetamine keeps the Mac awake (no input is faked): a power assertion, not a jiggler."""
    app = "/Applications/Amphetamine.app"
    return Delta(
        applications=(App("Amphetamine", "5.3.2", app, "com.if.Amphetamine", signer="V5JH8HM3HJ", source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/Amphetamine", parent="launchd", bundle_id="com.if.Amphetamine",
                        started=120),))
