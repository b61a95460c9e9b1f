"""Hardware: IP-KVMs and other devices by USB identity and display EDID, plus heuristics for
the unknown ones (docs/detection.md §H; docs/detection.md K1-K8, B2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from farmwatch.collector.detect.catalogue import Hardware, normalise_text
from farmwatch.collector.detect.findings import Subject
from farmwatch.collector.detect.report import DisplayView, UsbView
from farmwatch.collector.detect.rules.base import Context, Hit, rule
from farmwatch.common.vocabulary import severity_rank

# Severity of a signature match, by what the device is and how specific the match is.
SEVERITY = {
    "ip_kvm": {"high": "critical", "medium": "high", "low": "medium"},
    "gadget_default": {"high": "high", "medium": "medium", "low": "low"},
    "injector": {"high": "high", "medium": "medium", "low": "low"},
    "jiggler": {"high": "medium", "medium": "low", "low": "low"},
    "capture": {"high": "low", "medium": "low", "low": "info"},      # a capture dongle plugged into this laptop
    "diy_board": {"high": "low", "medium": "low", "low": "low"},
}
# On the display side the laptop is the *source* feeding a capture input (a DIY KVM).
DISPLAY_SEVERITY = {
    "ip_kvm": {"high": "critical", "medium": "high", "low": "medium"},
    "capture": {"high": "high", "medium": "medium", "low": "low"},
}
CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}


# --------------------------------------------------------------------------- signature matching

def _usb_fields_match(entry: Hardware, device: UsbView) -> bool:
    ident = entry.usb
    pairs = ((ident.vendor_id, device.vendor_id), (ident.manufacturer, device.manufacturer),
             (ident.product, device.product), (ident.serial, device.serial))
    return all(normalise_text(want) == normalise_text(have) for want, have in pairs if want) and \
        ident.covers_product(device.product_id) and set(ident.requires_interface_classes) <= device.interface_classes


def _edid_fields_match(entry: Hardware, display: DisplayView) -> bool:
    ident = entry.edid
    pairs = ((ident.manufacturer_id, display.manufacturer_id), (ident.monitor_name, display.monitor_name),
             (ident.serial_string, display.serial_string))
    code_ok = ident.product_code is None or ident.product_code == display.product_code
    serial_ok = ident.serial_number is None or ident.serial_number == display.serial_number
    return code_ok and serial_ok and all(normalise_text(want) == normalise_text(have) for want, have in pairs if want)


@dataclass(frozen=True)
class Match:
    entry: Hardware
    severity: str
    also: tuple[Hardware, ...]          # other entries that matched the same object

    def evidence(self) -> dict:
        e = self.entry
        identity = (e.usb or e.edid).fields()
        signature = {"id": e.id, "name": e.name, "kind": e.kind, "confidence": e.confidence,
                     "matched": identity, "note": e.note, "source": e.source}
        shown = {"signature": signature}
        if self.also:
            shown["also_matches"] = [{"id": h.id, "kind": h.kind, "confidence": h.confidence} for h in self.also]
        return shown


def best_match(matches: list[Hardware], table: dict[str, dict[str, str]], allow_weak: bool = True) -> Match | None:
    """The most telling non-benign entry, unless a benign identity at least as specific explains
    the object and the best suspicious match is only medium or low confidence."""
    suspicious = [m for m in matches if m.kind in table and (allow_weak or m.confidence == "high")]
    if not suspicious:
        return None
    best = max(suspicious, key=lambda m: (severity_rank(table[m.kind][m.confidence]), m.specificity))
    benign = [m for m in matches if m.kind == "benign" and m.specificity >= best.specificity]
    if benign and best.confidence != "high":
        return None
    return Match(best, table[best.kind][best.confidence], tuple(m for m in matches if m is not best))


def usb_matches(ctx: Context, device: UsbView) -> list[Hardware]:
    def compute() -> list[Hardware]:
        found = ctx.catalogue.usb_candidates(device.vendor_id, device.product_id)
        return [e for e in found if _usb_fields_match(e, device)]
    return ctx.cached(("usb", id(device)), compute)


def display_matches(ctx: Context, display: DisplayView) -> list[Hardware]:
    def compute() -> list[Hardware]:
        found = ctx.catalogue.edid_candidates(display.manufacturer_id, display.product_code, display.monitor_name)
        return [e for e in dict.fromkeys(found) if _edid_fields_match(e, display)]
    return ctx.cached(("display", id(display)), compute)


def usb_device_id(device: UsbView) -> str:
    return f"usb:{device.usb_id}"


def display_device_id(display: DisplayView) -> str:
    code = f"{display.product_code:04X}" if display.product_code is not None else "????"
    return f"edid:{display.manufacturer_id or '???'}{code}"


def _hardware_subject(entry: Hardware | None, device_id: str) -> Subject:
    """Allow-listable as the catalogue entry that matched or as the device's own id."""
    return Subject("hardware", entry.id if entry else device_id, aliases=(device_id,))


def _usb_label(device: UsbView) -> str:
    words = " ".join(w for w in (device.manufacturer, device.product) if w)
    return f"{device.usb_id} {words}".strip()


def _usb_signature_hits(ctx: Context, kinds: set[str]) -> Iterator[Hit]:
    for device in ctx.view.usb_devices:
        match = best_match(usb_matches(ctx, device), SEVERITY)
        if match and match.entry.kind in kinds:
            evidence = {"usb_device": device.evidence(), **match.evidence()}
            yield Hit({"name": match.entry.name, "device": _usb_label(device)}, evidence, match.severity,
                      _hardware_subject(match.entry, usb_device_id(device)))


@rule("usb-ip-kvm", "critical", "IP-KVM attached over USB: {name} ({device})", reads={"usb_devices"})
def usb_ip_kvm(ctx: Context) -> Iterator[Hit]:
    """A USB identity of an IP-KVM (PiKVM, TinyPilot, JetKVM, NanoKVM, GL.iNet Comet, BliKVM,
    enterprise KVM dongles): the keyboard and mouse belong to a box someone drives over the
    network. Vendor strings are exact but easy to change; shared ids weigh less."""
    yield from _usb_signature_hits(ctx, {"ip_kvm"})


@rule("usb-gadget-default", "high", "Linux USB gadget with a default id attached: {name} ({device})",
      reads={"usb_devices"})
def usb_gadget_default(ctx: Context) -> Iterator[Hit]:
    """A Linux board posing as a USB device with the kernel's default ids (1d6b:0104 is what
    most IP-KVMs ship with; docs/detection.md K1). Root hubs share the vendor id and are benign."""
    yield from _usb_signature_hits(ctx, {"gadget_default"})


@rule("usb-hid-injector", "high", "Keystroke-injection device attached: {name} ({device})", reads={"usb_devices"})
def usb_hid_injector(ctx: Context) -> Iterator[Hit]:
    """Hak5 Rubber Ducky, Bash Bunny, Digispark and similar type on their own."""
    yield from _usb_signature_hits(ctx, {"injector"})


@rule("usb-mouse-jiggler", "medium", "Mouse jiggler attached: {name} ({device})", reads={"usb_devices"})
def usb_mouse_jiggler(ctx: Context) -> Iterator[Hit]:
    """A hardware jiggler keeps the session alive with nobody at the keyboard (docs/detection.md B2)."""
    yield from _usb_signature_hits(ctx, {"jiggler"})


@rule("usb-capture-device", "low", "HDMI capture device attached: {name} ({device})", reads={"usb_devices"})
def usb_capture_device(ctx: Context) -> Iterator[Hit]:
    """An HDMI-to-USB capture dongle plugged into this laptop: this laptop watches another
    screen. Weak for the laptop under watch (docs/detection.md §H3)."""
    yield from _usb_signature_hits(ctx, {"capture"})


@rule("usb-diy-hid", "low", "Keyboard or mouse built on a hobby board: {name} ({device})", reads={"usb_devices"})
def usb_diy_hid(ctx: Context) -> Iterator[Hit]:
    """An HID device on a microcontroller platform's vendor id, what DIY jigglers and
    injectors are built on (Detect_My_Jiggler risk list); many honest gadgets too."""
    yield from _usb_signature_hits(ctx, {"diy_board"})


# --------------------------------------------------------------------------- composite gadget heuristic

# CDC networking models (class 02): ECM, EEM, NCM, MBIM. CDC-ACM (02/02/00-01) is a serial port, which
# every Arduino/Teensy/Pico sketch with `Serial` exposes beside its HID; it is no network function.
CDC_NETWORK_SUBCLASSES = {"06", "0c", "0d", "0e"}
# RNDIS as Windows (e0/01/03), the misc class (ef/04/01) and Linux's f_rndis default (02/02/ff) describe it.
RNDIS = {("e0", "01", "03"), ("ef", "04", "01"), ("02", "02", "ff")}
HUB_CLASS = "09"


def _is_keyboard(i) -> bool:
    return i.klass == "03" and i.protocol == "01"


def _is_pointer(i) -> bool:
    return i.klass == "03" and (i.protocol == "02" or (i.subclass == "00" and i.protocol == "00"))


def _has_network(device: UsbView) -> bool:
    """An RNDIS or CDC network function (what KVM gadgets and phones tether with), not a CDC-ACM serial port.
    A CDC data interface (0a) belongs to either, so it says nothing alone."""
    return any((i.klass == "02" and i.subclass in CDC_NETWORK_SUBCLASSES) or (i.klass, i.subclass, i.protocol) in RNDIS
               for i in device.interfaces)


def _composite_tells(ctx: Context, device: UsbView, storage: bool, network: bool) -> list[str]:
    kinds = {m.kind for m in usb_matches(ctx, device)}
    tells = []
    if storage and network:
        tells.append("mass storage and a network function together")
    if sum(_is_pointer(i) for i in device.interfaces) >= 2:
        tells.append("two pointing devices (absolute and relative mouse)")
    if kinds & {"gadget_default", "diy_board", "ip_kvm"}:
        tells.append("vendor/product id of a Linux gadget or hobby board")
    if "benign" in kinds:
        tells.append("claims the identity of an ordinary keyboard or receiver, which has no storage or network")
    return tells


@rule("usb-kvm-composite", "high", "USB device {device} combines keyboard, mouse and {extra}, like an IP-KVM",
      reads={"usb_devices"})
def usb_kvm_composite(ctx: Context) -> Iterator[Hit]:
    """One USB device exposing a HID keyboard and a HID pointer together with mass storage
    and/or a network function (RNDIS/ECM): the gadget composite of most IP-KVMs, which survives
    id and string spoofing (chelmzy; docs/detection.md §H1 notes). Critical with a further tell."""
    for device in ctx.view.usb_devices:
        if device.device_class == HUB_CLASS:
            continue
        storage, network = "08" in device.interface_classes, _has_network(device)
        if not (any(map(_is_keyboard, device.interfaces)) and any(map(_is_pointer, device.interfaces))
                and (storage or network)):
            continue
        tells = _composite_tells(ctx, device, storage, network)
        functions = (("mass storage", storage), ("a network function", network))
        extra = " and ".join(w for w, present in functions if present)
        evidence = {"usb_device": device.evidence(), "further_tells": tells}
        yield Hit({"device": _usb_label(device), "extra": extra}, evidence, "critical" if tells else "high",
                  _hardware_subject(None, usb_device_id(device)))


# --------------------------------------------------------------------------- displays

def _display_label(display: DisplayView) -> str:
    name = f" '{display.monitor_name}'" if display.monitor_name else ""
    return f"{display_device_id(display).removeprefix('edid:')}{name} on {display.connector or 'unknown connector'}"


def _display_signature_hits(ctx: Context, kind: str) -> Iterator[tuple[DisplayView, Match]]:
    for display in ctx.view.displays:
        match = best_match(display_matches(ctx, display), DISPLAY_SEVERITY, allow_weak=not display.built_in)
        if match and match.entry.kind == kind:
            yield display, match


@rule("display-kvm-edid", "critical", "Display output goes into an IP-KVM: {name} ({display})", reads={"displays"})
def display_kvm_edid(ctx: Context) -> Iterator[Hit]:
    """The 'monitor' on a video output has the EDID of an IP-KVM's capture input (PiKVM's LNX
    EDIDs, TinyPilot, JetKVM and its monitor presets, NanoKVM; docs/detection.md K7)."""
    for display, match in _display_signature_hits(ctx, "ip_kvm"):
        yield Hit({"name": match.entry.name, "display": _display_label(display)},
                  {"display": display.evidence(), **match.evidence()}, match.severity,
                  _hardware_subject(match.entry, display_device_id(display)))


@rule("display-capture-edid", "high", "Display output goes into an HDMI capture device: {name} ({display})",
      reads={"displays"})
def display_capture_edid(ctx: Context) -> Iterator[Hit]:
    """The 'monitor' is an HDMI-to-USB capture dongle's fixed EDID: another computer records
    this screen, the DIY-KVM path (docs/detection.md K8; docs/detection.md §H3)."""
    for display, match in _display_signature_hits(ctx, "capture"):
        yield Hit({"name": match.entry.name, "display": _display_label(display)},
                  {"display": display.evidence(), **match.evidence()}, match.severity,
                  _hardware_subject(match.entry, display_device_id(display)))


CAPTURE_WORDS = re.compile(r"\b(kvm|capture|grabber|h2c|hdmi to usb|hd to usb|video encoder)\b", re.IGNORECASE)
PNP_ID = re.compile(r"[A-Z]{3}")


def _display_tells(display: DisplayView) -> list[str]:
    tells = []
    if _named_like_capture(display):
        tells.append(f"monitor name '{display.monitor_name}' names a KVM or capture device")
    if not display.width_mm and not display.height_mm:
        tells.append("no physical size")
    if not display.monitor_name:
        tells.append("no monitor name")
    if not PNP_ID.fullmatch(display.manufacturer_id):
        tells.append(f"manufacturer id '{display.manufacturer_id}' is not a PNP id")
    return tells


@rule("display-capture-like", "low", "External display {display} looks like a capture input: {tells}",
      reads={"displays"})
def display_capture_like(ctx: Context) -> Iterator[Hit]:
    """Catches unknown capture inputs: an external 'monitor' whose name says KVM/capture
    (medium), or which has neither a physical size nor a plausible identity (low). Projectors
    and TVs may report no size, so size alone never fires."""
    for display in ctx.view.displays:
        if display.built_in or display_matches(ctx, display):
            continue
        tells = _display_tells(display)
        named = _named_like_capture(display)
        if not named and not ("no physical size" in tells and len(tells) >= 2):
            continue
        yield Hit({"display": _display_label(display), "tells": "; ".join(tells)},
                  {"display": display.evidence(), "tells": tells}, "medium" if named else "low",
                  _hardware_subject(None, display_device_id(display)))


# --------------------------------------------------------------------------- both halves of a KVM

# Hobby-board HID (macro pads) is left out: with a streamer's capture card it is too ordinary.
HID_SOURCES = {"ip_kvm", "gadget_default", "injector"}


def _named_like_capture(display: DisplayView) -> bool:
    return bool(CAPTURE_WORDS.search(display.monitor_name))


def _captured_outputs(ctx: Context) -> list[DisplayView]:
    """External outputs feeding a known capture/KVM input, or one named like one."""
    return [d for d in ctx.view.displays
            if not d.built_in and (best_match(display_matches(ctx, d), DISPLAY_SEVERITY)
                                   or (not display_matches(ctx, d) and _named_like_capture(d)))]


def _foreign_input_devices(ctx: Context) -> list[UsbView]:
    found = []
    for device in ctx.view.usb_devices:
        match = best_match(usb_matches(ctx, device), SEVERITY)
        hid_capable = not device.interfaces or "03" in device.interface_classes
        if match and match.entry.kind in HID_SOURCES and hid_capable:
            found.append(device)
    return found


@rule("kvm-assembled", "critical", "Screen goes into {display} while {device} supplies keyboard/mouse input: a KVM",
      reads={"usb_devices", "displays"})
def kvm_assembled(ctx: Context) -> Iterator[Hit]:
    """The two halves of a KVM seen separately: the video output feeds a capture or KVM input,
    and a Linux gadget, keystroke injector or KVM HID bridge is attached (DIY
    capture-dongle KVMs, Openterface: docs/detection.md K8, docs/detection.md §H3). Together they
    mean the laptop is watched and typed on from elsewhere."""
    outputs, inputs = _captured_outputs(ctx), _foreign_input_devices(ctx)
    if outputs and inputs:
        yield Hit({"display": _display_label(outputs[0]), "device": _usb_label(inputs[0])},
                  {"displays": [d.evidence() for d in outputs], "usb_devices": [u.evidence() for u in inputs]})
