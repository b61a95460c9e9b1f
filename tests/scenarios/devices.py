"""Hardware the scenarios plug in: IP-KVM gadgets, capture paths, jigglers, docks and peripherals.

Identities (ids, strings, interface triples, EDID fields) are the ones recorded in
docs/detection.md §H; the README's table names the section each one comes from.
Driver names follow what each OS binds to that interface class.
"""

from __future__ import annotations

from edid import FHD_60, HD_60, QHD_60, UHD_60, MonitorSpec
from parts import Iface, Screen, Usb

DRIVERS = {
    "hid": {"linux": "usbhid", "windows": "HidUsb", "macos": "AppleUserHIDDrivers"},
    "storage": {"linux": "usb-storage", "windows": "USBSTOR", "macos": "IOUSBMassStorageDriver"},
    "rndis": {"linux": "rndis_host", "windows": "usb8023", "macos": ""},
    "cdc": {"linux": "cdc_ether", "windows": "UsbNcm", "macos": "AppleUserECM"},
    "video": {"linux": "uvcvideo", "windows": "usbvideo", "macos": ""},
    "audio": {"linux": "snd-usb-audio", "windows": "usbaudio2", "macos": "AppleUSBAudio"},
    "hub": {"linux": "hub", "windows": "USBHUB3", "macos": "AppleUSB20Hub"},
    "net": {"linux": "r8152", "windows": "rtux64w10", "macos": "AppleUserRTL815x"},
    "ccid": {"linux": "", "windows": "WUDFRd", "macos": ""},
    "still": {"linux": "", "windows": "WUDFRd", "macos": ""},
}

TRIPLE_KIND = {"03": "hid", "08": "storage", "e0": "rndis", "02": "cdc", "0a": "cdc", "0e": "video", "01": "audio",
               "09": "hub", "0b": "ccid", "ff": "net", "06": "still"}


def interfaces(os: str, *triples: str) -> tuple[Iface, ...]:
    out = []
    for triple in triples:
        cls, sub, proto = triple.split("/")
        out.append(Iface(cls, sub, proto, DRIVERS[TRIPLE_KIND[cls]][os]))
    return tuple(out)


def bus(os: str, linux: str, windows: str, macos: str) -> str:
    return {"linux": linux, "windows": windows, "macos": macos}[os]


# --- IP-KVMs (docs/detection.md §H1) -------------------------------------------------------------

KBD, ABS, REL, MSD = "03/01/01", "03/00/00", "03/01/02", "08/06/50"


def pikvm(os: str) -> Usb:
    return Usb("1d6b", "0104", "PiKVM", "PiKVM Composite Device", "CAFEBABE", "00", "0100", 480.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"), interfaces(os, KBD, ABS, REL, MSD))


def tinypilot(os: str) -> Usb:
    return Usb("1d6b", "0104", "tinypilot", "Multifunction USB Device", "6b65796d696d6570690", "00", "0100", 480.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"), interfaces(os, KBD, ABS))


def jetkvm(os: str) -> Usb:
    return Usb("1d6b", "0104", "JetKVM", "USB Emulation Device", "", "00", "0100", 480.0,
               bus(os, "3-2", "Port_#0002.Hub_#0002", "0x00200000"), interfaces(os, KBD, "03/00/02", REL, MSD))


def jetkvm_as_logitech(os: str) -> Usb:
    """JetKVM's 'Logitech' USB preset: big-brand ids, but the KVM's functions are unchanged."""
    return Usb("046d", "c52b", "Logitech (x64)", "Logitech USB Input Device", "N&2b7f1c9&0&1", "00", "0100", 480.0,
               bus(os, "3-2", "Port_#0002.Hub_#0002", "0x00200000"), interfaces(os, KBD, "03/00/02", REL, MSD))


def nanokvm(os: str) -> Usb:
    return Usb("3346", "1009", "sipeed", "NanoKVM", "0123456789ABCDEF", "ef", "0510", 480.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"),
               interfaces(os, "03/00/01", "03/00/02", "03/00/02", "e0/01/03", "0a/00/00"))


def blikvm(os: str) -> Usb:
    return Usb("1d6b", "0106", "smart-kvm", "Multifunction USB Device", "6b65796d696d6570690", "00", "0100", 480.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"), interfaces(os, KBD, ABS, REL, MSD))


def glinet_comet(os: str) -> Usb:
    return Usb("1d6b", "0104", "GLKVM", "Composite KVM Device", "CAFEBABE", "00", "0100", 480.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"),
               interfaces(os, "e0/01/03", "0a/00/00", KBD, ABS, MSD, MSD))


def glinet_comet_current(os: str) -> Usb:
    """GLKVM firmware >= 1.7.2: GL.iNet's own vendor id; the per-model PID falls back to 0104."""
    return Usb("38eb", "0104", "Glinet", "Glinet Composite Device", "CAFEBABE", "00", "0100", 480.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"), interfaces(os, KBD, ABS, REL, MSD, MSD))


def nanokvm_hid_only(os: str) -> Usb:
    return Usb("3346", "1009", "sipeed", "NanoKVM", "", "00", "0623", 12.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"), interfaces(os, KBD, REL, REL))


def openterface_target(os: str) -> Usb:
    """The target-side HID of an Openterface Mini-KVM (WCH CH9329); its strings are not in source."""
    return Usb("1a86", "e129", "", "", "", "00", "0100", 12.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"), interfaces(os, KBD, "03/00/02", ABS))


def unknown_gadget(os: str) -> Usb:
    """A configfs gadget with made-up ids: only the interface mix and kernel defaults give it away."""
    return Usb("5e3a", "0b07", "Generic", "USB Composite Device", "20240917", "00", "0510", 480.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"),
               interfaces(os, KBD, ABS, REL, MSD, "02/06/00", "0a/00/00"))


def pi_hid_gadget(os: str) -> Usb:
    """A DIY Raspberry Pi HID gadget left at the Linux Foundation id, no strings (kernel default bcdDevice)."""
    return Usb("1d6b", "0104", "", "", "", "00", "0510", 480.0,
               bus(os, "3-1", "Port_#0001.Hub_#0002", "0x00100000"), interfaces(os, KBD, REL))


# --- KVM and capture EDIDs (docs/detection.md §H2, §H3) ---------------------------------------

PIKVM_V4_PLUS = MonitorSpec("LNX", 0x7773, 0x01010101, 35, 2016, 0, 0, FHD_60, "PiKVM V4 Plus", "CAFEBABE")
PIKVM_V3 = MonitorSpec("LNX", 0x7771, 0x01010101, 35, 2016, 0, 0, FHD_60, "PiKVM V3", "CAFEBABE")
TINYPILOT_EDID = MonitorSpec("TSB", 0x9876, 0x88888800, 45, 2020, 0, 0, FHD_60, "TinyPilot")
JETKVM_EDID = MonitorSpec("TSB", 0x8801, 0x88888800, 28, 2011, 0, 0, HD_60, "T749-fHD720")
NANOKVM_EDID = MonitorSpec("SPD", 0x3301, 21, 30, 2025, 0, 0, FHD_60, "NanoKVM", "NanoKVM")
TOSHIBA_H2C = MonitorSpec("TSB", 0x8888, 0x88888800, 28, 2011, 0, 0, FHD_60, "Toshiba-H2C")
JETKVM_DELL_PRESET = MonitorSpec("DEL", 0x2013, 0x39363945, 32, 2020, 597, 336, FHD_60, "DELL D2721H", "3S5GQ23")
NANOKVM_PHILIPS_CLONE = MonitorSpec("PHL", 0xC233, 47718, 43, 2021, 800, 335, QHD_60, "PHL 342E2", "UK02143047718")
MACROSILICON = MonitorSpec("HJW", 0x1836, 0, 1, 2018, 0, 0, FHD_60, "MACROSILICON")
HD_TO_USB = MonitorSpec("HJW", 0x2109, 0, 1, 2020, 0, 0, FHD_60, "HD TO USB")

# --- Benign look-alikes (docs/detection.md §H8 and ordinary peripherals) ----------------------

DELL_D2721H = MonitorSpec("DEL", 0x2013, 0x4C42524B, 12, 2022, 597, 336, FHD_60, "DELL D2721H", "FJ3HQ23")
LG_27GL850 = MonitorSpec("GSM", 0x5B7F, 0x0001D6A4, 8, 2021, 597, 336, QHD_60, "27GL850", "908NTQDCE428")
EIZO_CG2700X = MonitorSpec("ENC", 0x2950, 0x0171A3C5, 19, 2023, 597, 336, UHD_60, "CG2700X", "25371541")
BENQ_SW272U = MonitorSpec("BNQ", 0x8055, 0x0000D3A1, 41, 2023, 597, 336, UHD_60, "BenQ SW272U", "ET5AP0283619")
LG_TV = MonitorSpec("GSM", 0x0001, 0x01010101, 1, 2022, 1600, 900, FHD_60, "LG TV SSCR2")


def elgato_hd60s_plus(os: str) -> Usb:
    return Usb("0fd9", "006a", "Elgato", "Game Capture HD60 S+", "00031D15A8000", "ef", "0100", 5000.0,
               bus(os, "2-2", "Port_#0002.Hub_#0004", "0x00200000"),
               interfaces(os, "0e/01/00", "0e/02/00", "01/01/00", "01/02/00", "03/00/00"))


def elgato_cam_link_4k(os: str) -> Usb:
    return Usb("0fd9", "0066", "Elgato", "Cam Link 4K", "0005AB4F7B000", "ef", "0300", 5000.0,
               bus(os, "2-1", "Port_#0001.Hub_#0004", "0x00100000"),
               interfaces(os, "0e/01/00", "0e/02/00", "01/01/00", "01/02/00"))


def logitech_unifying(os: str, path: str = "") -> Usb:
    return Usb("046d", "c52b", "Logitech", "USB Receiver", "", "00", "1211", 12.0,
               path or bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"), interfaces(os, KBD, REL, ABS))


def logitech_bolt(os: str, path: str = "") -> Usb:
    return Usb("046d", "c548", "Logitech", "USB Receiver", "", "00", "0502", 12.0,
               path or bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"), interfaces(os, KBD, REL, ABS))


def yubikey5(os: str, path: str = "") -> Usb:
    return Usb("1050", "0407", "Yubico", "YubiKey OTP+FIDO+CCID", "", "00", "0543", 12.0,
               path or bus(os, "1-3", "Port_#0003.Hub_#0001", "0x00130000"), interfaces(os, KBD, ABS, "0b/00/00"))


def logitech_c920(os: str, path: str = "") -> Usb:
    return Usb("046d", "082d", "", "HD Pro Webcam C920", "4A3B2C1D", "ef", "0011", 480.0,
               path or bus(os, "1-4", "Port_#0004.Hub_#0001", "0x00150000"),
               interfaces(os, "0e/01/00", "0e/02/00", "01/01/00", "01/02/00"))


def logitech_g29(os: str) -> Usb:
    return Usb("046d", "c24f", "Logitech", "G29 Driving Force Racing Wheel", "", "00", "8900", 12.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"), interfaces(os, ABS))


def logitech_g502(os: str) -> Usb:
    """A gaming mouse that also exposes a keyboard interface for its macro buttons."""
    return Usb("046d", "c08b", "Logitech", "G502 HERO Gaming Mouse", "1387395B3937", "00", "2702", 12.0,
               bus(os, "1-1", "Port_#0001.Hub_#0001", "0x00110000"), interfaces(os, REL, KBD))


def wacom_intuos(os: str) -> Usb:
    """A pen tablet: an absolute pointer, as a KVM's mouse is, but on its own."""
    return Usb("056a", "0374", "Wacom Co.,Ltd.", "Intuos S", "8BQ00X1012345", "00", "0100", 12.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00140000"), interfaces(os, ABS, ABS))


def aten_cs682_desk_kvm(os: str) -> Usb:
    """A local (non-IP) two-port desk KVM switch: emulated keyboard and mouse, nothing else."""
    return Usb("0557", "2213", "ATEN", "CS682", "", "00", "0100", 12.0,
               bus(os, "1-1", "Port_#0001.Hub_#0001", "0x00110000"), interfaces(os, KBD, REL))


def fujitsu_bmc_remote_kvm(os: str) -> Usb:
    """An id from Fujitsu Component's 'remote key/mouse/storage' block (BMC-style console redirection) with a
    keyboard and a mouse; no strings are known."""
    return Usb("0430", "a101", "", "", "", "00", "0100", 12.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00120000"), interfaces(os, KBD, REL))


def avocent_kvm_hub(os: str) -> Usb:
    """The USB 2.0 hub inside an Avocent KVM, as usb.ids names it; what sits behind it is not identified."""
    return Usb("04cc", "1520", "", "", "", "09", "0100", 480.0,
               bus(os, "1-2", "Port_#0002.Hub_#0001", "0x00120000"), interfaces(os, "09/00/00"))


def iphone(os: str) -> Usb:
    return Usb("05ac", "12a8", "Apple Inc.", "iPhone", "00008110001A2C3E0E9B801E", "00", "1506", 480.0,
               bus(os, "1-4", "Port_#0004.Hub_#0001", "0x00100000"), interfaces(os, "06/01/01", "ff/fe/02", "ff/fd/01"))


def pixel_tethering(os: str) -> Usb:
    return Usb("18d1", "4ee3", "Google", "Pixel 8", "3A281FDJH00ABC", "ef", "0530", 480.0,
               bus(os, "3-2", "Port_#0002.Hub_#0002", "0x00200000"), interfaces(os, "e0/01/03", "0a/00/00"))


def diy_jiggler_as_logitech(os: str) -> Usb:
    """A Digispark jiggler rebuilt with Logitech's Bolt ids, as the DIY README suggests; one mouse, no keyboard."""
    return Usb("046d", "c548", "Logitech", "USB RECEIVER", "USB RECEIVER", "00", "0100", 1.5,
               bus(os, "1-3", "Port_#0003.Hub_#0001", "0x00130000"), interfaces(os, REL))


def wiebetech_jiggler(os: str) -> Usb:
    return Usb("0e90", "0028", "", "", "", "00", "0100", 1.5,
               bus(os, "1-3", "Port_#0003.Hub_#0001", "0x00130000"), interfaces(os, REL))


def dell_wd19_dock(os: str) -> tuple[Usb, ...]:
    return (
        Usb("413c", "b06e", "Dell Inc.", "Dell dock", "", "09", "0101", 480.0, "Port_#0001.Hub_#0003",
            interfaces(os, "09/00/00")),
        Usb("413c", "b06f", "Dell Inc.", "Dell dock", "", "09", "0101", 5000.0, "Port_#0001.Hub_#0005",
            interfaces(os, "09/00/00")),
        Usb("0bda", "8153", "Realtek", "USB 10/100/1000 LAN", "000001", "00", "3100", 5000.0, "Port_#0004.Hub_#0005",
            interfaces(os, "ff/ff/00", "02/06/00", "0a/00/00")),
        Usb("0bda", "402e", "Generic", "USB Audio", "200901010001", "00", "0001", 480.0, "Port_#0005.Hub_#0003",
            interfaces(os, "01/01/00", "01/02/00", "01/02/00", "03/00/00")),
    )


def lenovo_usbc_dock_gen2(os: str) -> tuple[Usb, ...]:
    return (
        Usb("17ef", "a391", "Lenovo", "USB2.0 Hub", "", "09", "5031", 480.0, "3-1", interfaces(os, "09/00/00")),
        Usb("17ef", "a392", "Lenovo", "USB3.1 Hub", "", "09", "5031", 10000.0, "4-1", interfaces(os, "09/00/00")),
        Usb("17ef", "a387", "Lenovo", "ThinkPad USB-C Dock Gen2 Ethernet", "301000001", "00", "3104", 5000.0, "4-1.1",
            interfaces(os, "ff/ff/00", "02/06/00", "0a/00/00")),
        Usb("17ef", "a396", "Lenovo", "ThinkPad USB-C Dock Gen2 USB Audio", "000000000000", "00", "0003", 480.0,
            "3-1.5",
            interfaces(os, "01/01/00", "01/02/00", "01/02/00", "03/00/00")),
    )


def caldigit_ts4(os: str) -> tuple[Usb, ...]:
    return (
        Usb("2109", "2822", "VIA Labs, Inc.", "USB2.0 Hub", "", "09", "9223", 480.0, "0x02100000",
            interfaces(os, "09/00/00")),
        Usb("2109", "0822", "VIA Labs, Inc.", "USB3.1 Hub", "", "09", "9223", 10000.0, "0x03100000",
            interfaces(os, "09/00/00")),
        Usb("2188", "4042", "CalDigit, Inc.", "CalDigit Pro Audio", "", "00", "0100", 480.0, "0x02140000",
            interfaces(os, "01/01/00", "01/02/00", "01/02/00", "03/00/00")),
    )


def external(os: str, monitor: MonitorSpec, port: str) -> Screen:
    """An external display on the connector name each OS reports (port: HDMI or DP)."""
    linux = {"HDMI": "card1-HDMI-A-1", "DP": "card1-DP-2"}[port]
    macos = {"HDMI": "HDMI", "DP": "DisplayPort"}[port]
    windows = f"DISPLAY\\{monitor.pnp_id}{monitor.product_code:04X}\\5&1a0d2b4c&0&UID4353"
    return Screen(bus(os, linux, windows, macos), monitor)
