"""Read the identity fields out of a raw EDID base block (VESA EDID 1.3/1.4).

Reports from other tools may carry only the raw `edid` bytes; the rules need the PNP id,
product code, monitor name and physical size, so they are decoded here when missing.
"""

from __future__ import annotations

from dataclasses import dataclass

HEADER = bytes.fromhex("00ffffffffffff00")
DESCRIPTOR_OFFSETS = (54, 72, 90, 108)
MONITOR_NAME_TAG = 0xFC
SERIAL_STRING_TAG = 0xFF


@dataclass(frozen=True)
class EdidIdentity:
    manufacturer_id: str
    product_code: int
    serial_number: int
    monitor_name: str
    serial_string: str
    width_mm: int
    height_mm: int


def _pnp_id(word: int) -> str:
    letters = ((word >> 10) & 0x1F, (word >> 5) & 0x1F, word & 0x1F)
    return "".join(chr(64 + n) if 1 <= n <= 26 else "?" for n in letters)


def _descriptor_text(block: bytes, tag: int) -> str:
    for offset in DESCRIPTOR_OFFSETS:
        desc = block[offset:offset + 18]
        if desc[:3] == b"\x00\x00\x00" and desc[3] == tag:
            return desc[5:18].split(b"\x0a")[0].decode("ascii", "replace").strip()
    return ""


def decode_edid(blob: bytes) -> EdidIdentity | None:
    """The identity in `blob`, or None when it is not an EDID base block."""
    if len(blob) < 128 or not blob.startswith(HEADER):
        return None
    block = blob[:128]
    return EdidIdentity(
        manufacturer_id=_pnp_id(int.from_bytes(block[8:10], "big")),
        product_code=int.from_bytes(block[10:12], "little"),
        serial_number=int.from_bytes(block[12:16], "little"),
        monitor_name=_descriptor_text(block, MONITOR_NAME_TAG),
        serial_string=_descriptor_text(block, SERIAL_STRING_TAG),
        width_mm=block[21] * 10,
        height_mm=block[22] * 10,
    )
