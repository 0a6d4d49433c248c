"""A PNG of an RGBA, RGB or greyscale picture, written in half the time Pillow takes.

Pillow chooses a filter for each row by trying all five on it (as libpng does), which at
1024x1024 RGBA costs more than the deflating itself. A background removal's cut-out is written
here instead with the "Up" filter on every row but the first: the difference from the row
above, which Pillow's ``ImageChops.subtract_modulo`` computes for the whole picture in one C
pass; zlib (level 1) deflates it. A photo-like 1024x1024 cut-out: about 22 ms instead of 36,
and no larger (benchmarks/new_outputs.py). The format: PNG specification, chunks IHDR, IDAT,
IEND, each with its CRC-32; filter type 2 (Up) is ``Raw(x) - Prior(x)`` modulo 256. ControlNet
guides (RGB) are written the same way: a 1024x1024 one in 8 to 12 ms instead of 15 to 25.
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image, ImageChops

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NONE, _UP = b"\x00", b"\x02"
# Pillow mode -> (bytes per pixel, PNG colour type: 6 RGBA, 2 RGB, 0 greyscale).
_COLOUR_TYPES = {"RGBA": (4, 6), "RGB": (3, 2), "L": (1, 0)}
_LEVEL = 1


def rgba_png(picture: Image.Image) -> bytes:
    """``picture`` (mode RGBA) as PNG bytes."""
    assert picture.mode == "RGBA", picture.mode
    return png(picture)


def png(picture: Image.Image) -> bytes:
    """``picture`` (mode RGBA, RGB or L) as PNG bytes."""
    channels, colour_type = _COLOUR_TYPES[picture.mode]
    width, height = picture.size
    stride = width * channels
    # Each row minus the row above it (the first row's "above" is the last: written unfiltered).
    up = memoryview(ImageChops.subtract_modulo(picture, ImageChops.offset(picture, 0, 1))
                    .tobytes())
    rows = [_NONE + picture.crop((0, 0, width, 1)).tobytes()]
    rows += [_UP + up[y * stride:(y + 1) * stride] for y in range(1, height)]
    # 8 bits per channel, deflate, adaptive filtering, no interlace.
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"".join((_SIGNATURE, _chunk(b"IHDR", header),
                     _chunk(b"IDAT", zlib.compress(b"".join(rows), _LEVEL)),
                     _chunk(b"IEND", b"")))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
