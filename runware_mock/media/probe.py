"""What an input really is: image format and size (Pillow, header only), audio length (ffmpeg;
a PCM WAV from its header, which says it exactly)."""

from __future__ import annotations

import asyncio
import math
import re
import struct
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
    A plain PCM WAV is measured from its chunks instead, as exactly and without an ffmpeg
    process; any WAV that is not plainly so is decoded like the rest.
    """
    cap = max_seconds + 1.0
    pcm = await asyncio.to_thread(pcm_wav_info, path, cap)
    if pcm is not None:
        return pcm
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


# WAVE_FORMAT_PCM (1) and WAVE_FORMAT_IEEE_FLOAT (3), by bits per sample: ffmpeg's codec names.
_PCM_CODECS = {(1, 8): "pcm_u8", (1, 16): "pcm_s16le", (1, 24): "pcm_s24le",
               (1, 32): "pcm_s32le", (3, 32): "pcm_f32le", (3, 64): "pcm_f64le"}
_CHUNK = struct.Struct("<4sI")
_FMT = struct.Struct("<HHIIHH")


def pcm_wav_info(path: Path, cap: float) -> AudioInfo | None:
    """A PCM WAV's length from its ``fmt `` and ``data`` chunks (the data present, should the
    file end early), as ffmpeg measures it up to ``cap`` seconds; None for anything else."""
    with path.open("rb") as file:
        riff = file.read(12)
        if riff[:4] != b"RIFF" or riff[8:] != b"WAVE":
            return None
        fmt: tuple[int, ...] | None = None
        while len(header := file.read(_CHUNK.size)) == _CHUNK.size:
            name, size = _CHUNK.unpack(header)
            if name == b"fmt " and size >= _FMT.size:
                fmt = _FMT.unpack(file.read(_FMT.size))
                file.seek(size - _FMT.size + size % 2, 1)
            elif name == b"data":
                present = min(size, path.stat().st_size - file.tell())
                return _pcm_info(fmt, present, cap) if fmt is not None else None
            else:
                file.seek(size + size % 2, 1)
    return None


def _pcm_info(fmt: tuple[int, ...], data_bytes: int, cap: float) -> AudioInfo | None:
    tag, channels, rate, _, block, bits = fmt
    codec = _PCM_CODECS.get((tag, bits))
    if codec is None or channels < 1 or rate < 1 or block != channels * bits // 8:
        return None
    frames = data_bytes // block
    if frames == 0:
        return None  # ffmpeg says why there is nothing to hear
    seconds = min(frames / rate, math.floor(cap * rate) / rate)
    return AudioInfo("wav", codec, seconds, rate, truncated=seconds >= cap - 0.001)
