"""The connector icon: a 230×230 PNG drawn here, byte for byte the same on every run."""

from __future__ import annotations

import struct
import zlib
from functools import cache

SIZE = 230  # what connector certification asks for


def _hex(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _pixel(x: int, y: int) -> bool:
    """True where the glyph (a white page with a folded corner and three text lines) is."""
    left, top, right, bottom, fold = 70, 45, 160, 185, 28
    if not (left <= x < right and top <= y < bottom):
        return False
    if x - (right - fold) > y - top:  # the cut-off corner
        return False
    text_line = any(start <= y < start + 8 for start in (100, 122, 144))
    return not (text_line and left + 16 <= x < right - 16)


@cache
def icon_png(color: str = "#4c00ff") -> bytes:
    """PNG bytes: `color` background, white page glyph."""
    background = bytes(_hex(color))
    white = b"\xff\xff\xff"
    raw = bytearray()
    for y in range(SIZE):
        raw.append(0)  # filter type: none
        for x in range(SIZE):
            raw += white if _pixel(x, y) else background
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )
