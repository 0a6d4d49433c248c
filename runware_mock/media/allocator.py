"""The C allocator told to keep the memory that making a picture frees, for the next picture.

Making a 1024x1024 output allocates and frees tens of megabytes in blocks of a few megabytes
(Pillow's image blocks, libwebp's and zlib's buffers). With glibc's defaults those blocks are
mapped from the kernel and unmapped on free, or trimmed off the heap's top, so each new picture
touches its memory afresh: 2,500 to 5,500 page faults, each zeroing a page, 6 to 13 ms of a
ControlNet guide's or a background removal's 30 (measured in ``benchmarks/new_outputs.py``).
Served from the heap and kept there, blocks of up to 32 MiB cost no fault the second time; a
process keeps at most 32 MiB free per malloc arena (one per worker thread at most) for it.
"""

from __future__ import annotations

import ctypes

# glibc's <malloc.h>: mallopt's parameter numbers.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks below this come from the heap (a 2048x2048 RGBA picture is 16 MiB); this much free
# memory at a heap's top is kept rather than given back. glibc takes at most 32 MiB here.
_KEPT = 32 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Tune glibc's malloc for this process (its forks inherit it); False where the C library
    is not glibc (macOS, musl), which is then left as it is."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # Both at once: setting either stops glibc from raising the mapping threshold itself.
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEPT)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEPT))
