"""Test media made on demand: images and audio at the edges of the model's limits."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

from PIL import Image

from tests.helpers import ffmpeg


def image_bytes(width: int, height: int, fmt: str = "PNG", colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format=fmt)
    return buffer.getvalue()


def padded(content: bytes, size: int) -> bytes:
    """The same media padded with trailing zeros to exactly ``size`` bytes (decoders stop at the
    end of the image or audio data, so only the file size changes)."""
    assert len(content) <= size
    return content + b"\0" * (size - len(content))


def bomb_png() -> bytes:
    """A ~50 KB PNG that decodes to 400 megapixels."""
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def audio_file(folder: Path, seconds: float, extension: str, *codec: str,
               rate: int = 8000) -> Path:
    path = folder / f"tone-{seconds}-{rate}.{extension}"
    if not path.exists():
        made = ffmpeg("-v", "error", "-y", "-f", "lavfi",
                      "-i", f"sine=f=330:d={seconds}:r={rate}", "-ac", "1", *codec, str(path))
        assert made.returncode == 0, made.stderr
    return path


def dataset(images: int, captions: bool = True) -> str:
    """A data URI of a ZIP of ``images`` small PNGs, each with its caption."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(images):
            picture = io.BytesIO()
            Image.new("RGB", (32, 32), (index * 20 % 256, 90, 160)).save(picture, "PNG")
            archive.writestr(f"set/{index:02d}.png", picture.getvalue())
            if captions:
                archive.writestr(f"set/{index:02d}.txt", "a watercolour landscape")
    return "data:application/zip;base64," + base64.b64encode(buffer.getvalue()).decode()
