"""What an input really is: image format and size (Pillow, header only), audio length (ffmpeg)."""

from __future__ import annotations

import asyncio
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from mockserver.media.ffmpeg import FFmpegError, FFmpegPool


class ProbeError(ValueError):
    """The file is not a decodable image or audio track."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class AudioInfo:
    format: str
    codec: str
    seconds: float
    sample_rate: int


def probe_image_sync(path: Path) -> ImageInfo:
    """Read the header only: a decompression bomb is rejected before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.verify()
                return ImageInfo(image.format or "unknown", image.width, image.height)
    except (UnidentifiedImageError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as exc:
        raise ProbeError(f"not a decodable image ({exc.__class__.__name__})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ProbeError(f"not a decodable image ({exc})") from exc


async def probe_image(path: Path) -> ImageInfo:
    return await asyncio.to_thread(probe_image_sync, path)


_INPUT = re.compile(r"Input #0, ([\w,]+), from")
_AUDIO_IN = re.compile(r"Stream #0:\d+.*?: Audio: (\w+)")
_AUDIO_OUT = re.compile(r"Audio: pcm_s16le, (\d+) Hz")


async def probe_audio(pool: FFmpegPool, path: Path) -> AudioInfo:
    """Decode the first audio stream and count its samples: exact to the sample, unlike headers.

    Gapless MP3/AAC metadata is honoured by the decoder, so a 12.266 s clip measures 12.266 s.
    """
    args = ["-v", "info", "-i", str(path), "-map", "0:a:0", "-vn", "-ac", "1",
            "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1"]
    try:
        completed = await pool.run(args)
    except FFmpegError as exc:
        raise ProbeError(f"not a decodable audio track ({_reason(exc.stderr)})") from exc
    container, codec, rate = (
        _INPUT.search(completed.stderr), _AUDIO_IN.search(completed.stderr),
        _AUDIO_OUT.search(completed.stderr),
    )
    if not (container and codec and rate) or completed.stdout_bytes == 0:
        raise ProbeError("not a decodable audio track (no audio samples)")
    sample_rate = int(rate.group(1))
    return AudioInfo(container.group(1), codec.group(1), completed.stdout_bytes / 2 / sample_rate,
                     sample_rate)


def _reason(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "ffmpeg could not read it"
