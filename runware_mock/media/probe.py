"""What an input really is: image format and size (Pillow, header only), audio length (ffmpeg)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from runware_mock.media.ffmpeg import FFmpegError, FFmpegPool

# Pillow's own guard raises at open(), before the size is known; ImageLimits.max_pixels is
# stricter and checked before any pixel is decoded, so the message can give the dimensions.
Image.MAX_IMAGE_PIXELS = None


class ProbeError(ValueError):
    """The file is not a decodable image or audio track."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class AudioInfo:
    format: str
    codec: str
    seconds: float
    sample_rate: int
    # Decoding stopped at the cap: the track is at least ``seconds`` long.
    truncated: bool = False


def probe_image_sync(path: Path, max_pixels: int) -> ImageInfo:
    """Read the header; decode the pixels only when there are at most ``max_pixels``, so a
    decompression bomb never reaches the decoder and a truncated file is caught here."""
    try:
        with Image.open(path) as image:
            info = ImageInfo(image.format or "unknown", image.width, image.height)
            if info.pixels <= max_pixels:
                image.load()
            return info
    except UnidentifiedImageError as exc:
        raise ProbeError("not a decodable image (unknown format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ProbeError(f"not a decodable image ({exc})") from exc


async def probe_image(path: Path, max_pixels: int) -> ImageInfo:
    return await asyncio.to_thread(probe_image_sync, path, max_pixels)


_INPUT = re.compile(r"Input #0, ([\w,]+), from")
_AUDIO_IN = re.compile(r"Stream #0:\d+.*?: Audio: (\w+)")
_AUDIO_OUT = re.compile(r"Audio: pcm_s16le, (\d+) Hz")


async def probe_audio(pool: FFmpegPool, path: Path, max_seconds: float) -> AudioInfo:
    """Decode the first audio stream and count its samples: exact to the sample, unlike headers.

    Gapless MP3/AAC metadata is honoured by the decoder, so a 12.266 s clip measures 12.266 s.
    Decoding stops a little past ``max_seconds``: an hour-long track costs no more than that.
    """
    cap = max_seconds + 1.0
    args = ["-v", "info", "-i", str(path), "-map", "0:a:0", "-vn", "-ac", "1", "-t", f"{cap}",
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
    seconds = completed.stdout_bytes / 2 / sample_rate
    return AudioInfo(container.group(1), codec.group(1), seconds, sample_rate,
                     truncated=seconds >= cap - 0.001)


def _reason(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "ffmpeg could not read it"
