"""A training dataset (a ZIP of images, each perhaps with a caption) read without unpacking
it, and the LoRA a training makes, written as a safetensors file.

The dataset's images are the entries Pillow recognises from their first bytes (JPEG, PNG,
WEBP...), wherever they sit in the archive; captions (``.txt``), folders and macOS's
``__MACOSX`` metadata are not images. Only each entry's header is read, so a ZIP of large
pictures is counted quickly and a ZIP bomb is never inflated.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

# More entries than this is not a dataset: refused before any is opened.
_MOST_ENTRIES = 10_000
_LORA_RANK = 4
_LORA_WIDTH = 64
# The LoRA's layers: few and small, enough for a loader to find what a LoRA holds.
_LAYERS = ("lora_unet_single_blocks_0_linear1", "lora_unet_double_blocks_0_img_attn_qkv")


class DatasetError(ValueError):
    """The file is not a dataset: not a ZIP, or a ZIP the emulator will not read."""


@dataclass(frozen=True)
class Dataset:
    images: int
    captions: int


def read_dataset(path: Path) -> Dataset:
    """Count the images (and captions) of a dataset ZIP (blocking: run in a worker thread)."""
    if not zipfile.is_zipfile(path):
        raise DatasetError("is not a ZIP file")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = [entry for entry in archive.infolist()
                       if not entry.is_dir() and not _hidden(entry.filename)]
            if len(entries) > _MOST_ENTRIES:
                raise DatasetError(f"holds {len(entries)} files, over the {_MOST_ENTRIES} "
                                   "read")
            images = sum(_is_image(archive, entry) for entry in entries)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        # RuntimeError: an encrypted entry, which zipfile cannot open without a password.
        raise DatasetError(f"is not a readable ZIP file ({exc})") from exc
    captions = sum(entry.filename.lower().endswith(".txt") for entry in entries)
    return Dataset(images, captions)


def _hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in name.split("/"))


def _is_image(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bool:
    try:
        with archive.open(entry) as stream, Image.open(stream) as image:
            return image.format is not None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return False


def lora_file(metadata: dict[str, str], seed: int) -> bytes:
    """A safetensors file (an 8-byte header length, the JSON header, then the tensors' bytes)
    holding a LoRA's down and up weights per layer, in float16, drawn from ``seed``; the
    training's description in the header's ``__metadata__``."""
    header: dict[str, object] = {"__metadata__": metadata}
    data = bytearray()
    for layer in _LAYERS:
        for part, shape in (("lora_down", [_LORA_RANK, _LORA_WIDTH]),
                            ("lora_up", [_LORA_WIDTH, _LORA_RANK])):
            size = 2 * shape[0] * shape[1]
            header[f"{layer}.{part}.weight"] = {"dtype": "F16", "shape": shape,
                                               "data_offsets": [len(data), len(data) + size]}
            data += _weights(f"{seed}|{layer}|{part}", size)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the tensors start 8-byte aligned
    return struct.pack("<Q", len(encoded)) + encoded + bytes(data)


def _weights(key: str, size: int) -> bytes:
    """``size`` bytes of small float16 weights (no NaN or infinity), the same for ``key``."""
    stream = bytearray()
    counter = 0
    while len(stream) < size:
        stream += hashlib.sha256(f"{key}|{counter}".encode()).digest()
        counter += 1
    values = [(byte - 128) / 4096 for byte in stream[:size // 2]]
    return struct.pack(f"<{len(values)}e", *values)
