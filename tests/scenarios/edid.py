"""Encode a VESA EDID 1.4 base block (128 bytes) from a monitor's identity.

The scenario displays carry real-looking EDID bytes so that a rule may read either the decoded
fields of the Display message or the raw blob; both come from one MonitorSpec and cannot
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

HEADER = bytes([0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00])
# sRGB-like primaries; the exact chromaticity does not matter to any rule.
CHROMATICITY = bytes([0xEE, 0x91, 0xA3, 0x54, 0x4C, 0x99, 0x26, 0x0F, 0x50, 0x54])
ESTABLISHED_TIMINGS = bytes([0x21, 0x08, 0x00])
UNUSED_STANDARD_TIMINGS = bytes([0x01, 0x01] * 8)
DIGITAL_8BIT = 0xA5


@dataclass(frozen=True)
class Mode:
    width: int
    height: int
    pixel_clock_khz: int
    h_blank: int
    v_blank: int
    h_sync_offset: int = 48
    h_sync_width: int = 32
    v_sync_offset: int = 3
    v_sync_width: int = 5


FHD_60 = Mode(1920, 1080, 148_500, 280, 45, 88, 44, 4, 5)
UHD_60 = Mode(3840, 2160, 533_250, 160, 62)
QHD_60 = Mode(2560, 1440, 241_500, 160, 41)
WUXGA_60 = Mode(1920, 1200, 154_000, 160, 35)
HD_60 = Mode(1280, 720, 74_250, 370, 30, 110, 40, 5, 5)
RETINA_16 = Mode(3072, 1920, 366_540, 160, 62)


@dataclass(frozen=True)
class MonitorSpec:
    """What a monitor's EDID says about itself."""

    pnp_id: str
    product_code: int
    serial_number: int
    week: int
    year: int
    width_mm: int
    height_mm: int
    mode: Mode = FHD_60
    monitor_name: str = ""
    serial_string: str = ""
    panel_strings: tuple[str, ...] = ()   # 0xFE descriptors, as laptop panels carry them
    extension_blocks: int = 0             # CTA-861 blocks after the base block (TVs, HDMI monitors)


def pnp_bytes(pnp_id: str) -> bytes:
    """Three 5-bit codes, 'A' = 1. '@' (0) and '[' .. '_' (27-31) spell the invalid ids sloppy
    firmware ships (an all-zero or all-ones manufacturer word), which no OS decodes to letters."""
    if len(pnp_id) != 3 or not all("@" <= ch <= "_" for ch in pnp_id):
        raise ValueError(f"PNP id must be three characters from '@' to '_': {pnp_id!r}")
    a, b, c = (ord(ch) - 64 for ch in pnp_id)
    return ((a << 10) | (b << 5) | c).to_bytes(2, "big")


def _detailed_timing(mode: Mode, width_mm: int, height_mm: int) -> bytes:
    clock = (mode.pixel_clock_khz // 10).to_bytes(2, "little")
    return clock + bytes([
        mode.width & 0xFF, mode.h_blank & 0xFF, ((mode.width >> 8) << 4) | (mode.h_blank >> 8),
        mode.height & 0xFF, mode.v_blank & 0xFF, ((mode.height >> 8) << 4) | (mode.v_blank >> 8),
        mode.h_sync_offset & 0xFF, mode.h_sync_width & 0xFF,
        ((mode.v_sync_offset & 0x0F) << 4) | (mode.v_sync_width & 0x0F),
        ((mode.h_sync_offset >> 8) << 6) | ((mode.h_sync_width >> 8) << 4)
        | ((mode.v_sync_offset >> 4) << 2) | (mode.v_sync_width >> 4),
        width_mm & 0xFF, height_mm & 0xFF, ((width_mm >> 8) << 4) | (height_mm >> 8),
        0x00, 0x00, 0x1E,
    ])


def _text_descriptor(tag: int, text: str) -> bytes:
    body = text.encode("ascii")[:13]
    if len(body) < 13:
        body += b"\n" + b" " * (12 - len(body))
    return bytes([0, 0, 0, tag, 0]) + body


def _range_limits() -> bytes:
    return bytes([0, 0, 0, 0xFD, 0, 0x30, 0x4C, 0x1E, 0x53, 0x15, 0x00, 0x0A]) + b" " * 6


def _dummy_descriptor() -> bytes:
    return bytes([0, 0, 0, 0x10]) + bytes(14)


def _descriptors(spec: MonitorSpec) -> list[bytes]:
    out = [_detailed_timing(spec.mode, spec.width_mm, spec.height_mm)]
    out += [_text_descriptor(0xFE, text) for text in spec.panel_strings]
    if spec.serial_string:
        out.append(_text_descriptor(0xFF, spec.serial_string))
    if spec.monitor_name:
        out.append(_text_descriptor(0xFC, spec.monitor_name))
    if len(out) < 4 and not spec.panel_strings:
        out.append(_range_limits())
    while len(out) < 4:
        out.append(_dummy_descriptor())
    if len(out) > 4:
        raise ValueError(f"{spec.pnp_id}{spec.product_code:04X}: more than four descriptors")
    return out


def is_pnp_letters(pnp_id: str) -> bool:
    return len(pnp_id) == 3 and all("A" <= ch <= "Z" for ch in pnp_id)


def _cta_block(spec: MonitorSpec, index: int) -> bytes:
    """A CTA-861 extension: one detailed timing of the monitor's mode, no data blocks."""
    block = bytearray([0x02, 0x03, 0x04, 0x70 | (index & 0x0F)])
    block += _detailed_timing(spec.mode, spec.width_mm, spec.height_mm)
    block += bytes(127 - len(block))
    block += bytes([(-sum(block)) & 0xFF])
    assert len(block) == 128
    return bytes(block)


def encode(spec: MonitorSpec) -> bytes:
    block = bytearray()
    block += HEADER
    block += pnp_bytes(spec.pnp_id)
    block += spec.product_code.to_bytes(2, "little")
    block += spec.serial_number.to_bytes(4, "little")
    block += bytes([spec.week, spec.year - 1990, 1, 4])
    block += bytes([DIGITAL_8BIT, round(spec.width_mm / 10), round(spec.height_mm / 10), 0x78, 0x2A])
    block += CHROMATICITY + ESTABLISHED_TIMINGS + UNUSED_STANDARD_TIMINGS
    for descriptor in _descriptors(spec):
        block += descriptor
    block += bytes([spec.extension_blocks])
    block += bytes([(-sum(block)) & 0xFF])
    assert len(block) == 128
    return bytes(block) + b"".join(_cta_block(spec, i) for i in range(spec.extension_blocks))
