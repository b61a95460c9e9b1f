"""Decode the identity part of a VESA EDID (1.3/1.4) base block: the one EDID decoder, used by
the agent's display probes and by the collector for reports that carry only the raw bytes.

Only what tells one display from another is decoded: the PNP manufacturer id, product
code, serials, name, physical size, year and the block's integrity. Real EDIDs are often
sloppy (bad checksums, junk in text descriptors, sizes only in the timing descriptor), so
the parser keeps whatever it can read and reports the checksum instead of refusing.

Two readings share the block layout below:

* `parse_edid` (the agent's probes): refuses what is not a base block (`EdidError`), cleans the
  text, takes the size from the first detailed timing.
* `decode_reported_edid` (the collector, for raw `edid` bytes in a report from another tool):
  None for what is not a base block, and reads three fields as the collector always has, so the
  values stored and matched for such reports stay the same: a PNP letter out of range is `?`
  (not an empty id), text is kept as decoded ASCII up to LF (not cleaned), and the size is the
  base block's centimetres × 10 (0 where not given).
"""

from __future__ import annotations

from dataclasses import dataclass

EDID_HEADER = bytes.fromhex("00ffffffffffff00")
BLOCK_SIZE = 128

_DESCRIPTOR_OFFSETS = (54, 72, 90, 108)
_TAG_SERIAL_STRING = 0xFF
_TAG_MONITOR_NAME = 0xFC


class EdidError(ValueError):
    """The bytes are not an EDID base block."""


@dataclass(frozen=True)
class EdidInfo:
    """A display's identity as decoded from its EDID base block."""

    manufacturer_id: str
    product_code: int
    serial_number: int
    serial_string: str
    monitor_name: str
    width_mm: int
    height_mm: int
    manufacture_year: int
    checksum_ok: bool
    extension_count: int


def parse_edid(data: bytes) -> EdidInfo:
    block = _base_block(data)
    width_mm, height_mm = _physical_size_mm(block)
    return EdidInfo(
        manufacturer_id=_pnp_id(block[8], block[9]),
        product_code=_product_code(block),
        serial_number=_serial_number(block),
        serial_string=_descriptor_text(block, _TAG_SERIAL_STRING),
        monitor_name=_descriptor_text(block, _TAG_MONITOR_NAME),
        width_mm=width_mm,
        height_mm=height_mm,
        manufacture_year=_manufacture_year(block),
        checksum_ok=sum(block) % 256 == 0,
        extension_count=block[126],
    )


def decode_reported_edid(blob: bytes) -> EdidInfo | None:
    """The identity in raw EDID bytes a report carries, or None when they are not an EDID base
    block; the collector's reading of PNP id, text and size (see the module docstring)."""
    try:
        block = _base_block(blob)
    except EdidError:
        return None
    return EdidInfo(
        manufacturer_id=_pnp_letters(int.from_bytes(block[8:10], "big")),
        product_code=_product_code(block),
        serial_number=_serial_number(block),
        serial_string=_descriptor_ascii(block, _TAG_SERIAL_STRING),
        monitor_name=_descriptor_ascii(block, _TAG_MONITOR_NAME),
        width_mm=block[21] * 10,
        height_mm=block[22] * 10,
        manufacture_year=_manufacture_year(block),
        checksum_ok=sum(block) % 256 == 0,
        extension_count=block[126],
    )


def _base_block(data: bytes) -> bytes:
    if len(data) < BLOCK_SIZE:
        raise EdidError(f"EDID too short: {len(data)} bytes, a base block is {BLOCK_SIZE}")
    if data[:8] != EDID_HEADER:
        raise EdidError(f"not an EDID: header is {data[:8].hex()}")
    return data[:BLOCK_SIZE]


def _product_code(block: bytes) -> int:
    return int.from_bytes(block[10:12], "little")


def _serial_number(block: bytes) -> int:
    return int.from_bytes(block[12:16], "little")


def manufacturer_id(code: int) -> str:
    """The 3-letter PNP id packed in a 16-bit manufacturer code (0x10AC is "DEL"), as
    OS tools print it apart from the EDID bytes."""
    return _pnp_id((code >> 8) & 0xFF, code & 0xFF)


def _pnp_id(high: int, low: int) -> str:
    """Three letters packed as 5-bit values (1 = 'A') in a big-endian 16-bit word; "" unless
    all three are letters."""
    letters = _pnp_letters((high << 8) | low)
    return "" if "?" in letters else letters


def _pnp_letters(word: int) -> str:
    """The three 5-bit values of `word` as letters, `?` for one outside 1-26."""
    codes = ((word >> 10) & 0x1F, (word >> 5) & 0x1F, word & 0x1F)
    return "".join(chr(ord("A") + code - 1) if 1 <= code <= 26 else "?" for code in codes)


def _manufacture_year(block: bytes) -> int:
    # Byte 16 = 0xFF means byte 17 is a model year rather than a manufacture year;
    # either way byte 17 counts from 1990, and 0 means "not given".
    return 1990 + block[17] if block[17] else 0


def _physical_size_mm(block: bytes) -> tuple[int, int]:
    """The first detailed timing's size in mm, unless the base block's size in cm
    contradicts it: some panels put centimetres or an aspect ratio ("16 x 9") there."""
    detailed = _detailed_timing_size_mm(block[54:72])
    coarse = _base_block_size_mm(block)
    if detailed is not None and (coarse is None or _roughly_equal(detailed, coarse)):
        return detailed
    return coarse or (0, 0)


def _base_block_size_mm(block: bytes) -> tuple[int, int] | None:
    # Bytes 21-22 hold the size in cm; 0 means variable (projectors, capture inputs).
    # When only one is set, EDID 1.4 stores an aspect ratio instead of a size.
    if block[21] and block[22]:
        return block[21] * 10, block[22] * 10
    return None


def _roughly_equal(first: tuple[int, int], second: tuple[int, int]) -> bool:
    return all(b / 2 <= a <= b * 2 for a, b in zip(first, second))


def _detailed_timing_size_mm(descriptor: bytes) -> tuple[int, int] | None:
    pixel_clock = int.from_bytes(descriptor[0:2], "little")
    if pixel_clock == 0:  # a display descriptor, not a timing
        return None
    width = descriptor[12] | ((descriptor[14] & 0xF0) << 4)
    height = descriptor[13] | ((descriptor[14] & 0x0F) << 8)
    if not (width and height):
        return None
    return width, height


def _descriptor_text(block: bytes, tag: int) -> str:
    raw = _descriptor_payload(block, tag)
    return "" if raw is None else _clean_text(raw)


def _descriptor_ascii(block: bytes, tag: int) -> str:
    """The descriptor's text up to LF as ASCII (other bytes as U+FFFD), stripped, not cleaned."""
    raw = _descriptor_payload(block, tag)
    return "" if raw is None else raw.split(b"\x0a")[0].decode("ascii", "replace").strip()


def _descriptor_payload(block: bytes, tag: int) -> bytes | None:
    """The 13 text bytes of the first display descriptor tagged `tag`, or None."""
    for offset in _DESCRIPTOR_OFFSETS:
        descriptor = block[offset : offset + 18]
        if descriptor[0:3] == b"\x00\x00\x00" and descriptor[3] == tag:
            return descriptor[5:18]
    return None


def _clean_text(raw: bytes) -> str:
    """Descriptor text ends at LF (padded with spaces); sloppy firmware pads with NULs
    or leaves control and high bytes, which are dropped rather than guessed at."""
    for terminator in (b"\n", b"\x00"):
        raw = raw.split(terminator, 1)[0]
    return "".join(chr(byte) for byte in raw if 0x20 <= byte < 0x7F).strip()
