"""Report bodies as the database keeps them: zstd-compressed serialized AgentReports.

zstd instead of zlib (issue 15): on a 36.6 KB report, level 1 takes ~0.1 ms against zlib level 1's
~0.3 ms for a body ~5 % smaller, level 3 ~0.14 ms against zlib level 6's ~0.65 ms for the same size,
and reading back is twice as fast (docs/performance.md, "Issue 15, round 2"). Databases written before
hold zlib bodies: a zstd frame starts with its magic number 28 b5 2f fd, and a zlib stream cannot
(its two header bytes make a multiple of 31, which 0x28b5 is not), so both are read with no migration.
"""
from __future__ import annotations

import threading
import zlib

import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
RAW_LEVEL = 3    # a report as received: written once, kept for the retention
STATE_LEVEL = 1  # a device's state: rewritten with every report that moves the device

_local = threading.local()  # a zstd (de)compression context may serve one thread at a time


def pack(data: bytes, level: int) -> bytes:
    compressors = _local.__dict__.setdefault("compressors", {})
    compressor = compressors.get(level) or compressors.setdefault(level, zstandard.ZstdCompressor(level=level))
    return compressor.compress(data)


def unpack(blob: bytes) -> bytes:
    """The bytes `pack` was given, or those of a zlib body an older collector wrote."""
    if not blob.startswith(ZSTD_MAGIC):
        return zlib.decompress(blob)
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return decompressor.decompress(blob)
