"""Render the placeholder avatar video: the portrait as picture, the voice track as sound.

A still picture does not need every frame encoded: a two-second segment (one GOP) is encoded
once, then looped by stream copy for the length of the audio, and muxed with the audio track
encoded once per (audio, format, quality). Every intermediate and the final file are cached by
content, so identical requests reuse a render.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from mockserver.media.ffmpeg import FFmpegPool

FPS = 25
SEGMENT_SECONDS = 2


@dataclass(frozen=True)
class OutputFormat:
    extension: str
    muxer: str
    segment_extension: str
    track_extension: str

    def video_args(self, quality: int) -> list[str]:
        if self.extension == "webm":
            crf = round(50 - (quality - 20) * 35 / 79)
            return ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                    "-crf", str(crf), "-b:v", "0", "-row-mt", "1", "-lag-in-frames", "0",
                    "-auto-alt-ref", "0"]
        crf = round(40 - (quality - 20) * 22 / 79)
        return ["-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage",
                "-crf", str(crf), "-profile:v", "high", "-bf", "0"]

    def audio_args(self, quality: int) -> list[str]:
        kbps = round(32 + (quality - 20) * 96 / 79)
        if self.extension == "webm":
            return ["-c:a", "libopus", "-b:a", f"{kbps}k"]
        # AAC at 24 kHz is ample for a voice track and encodes twice as fast as 48 kHz.
        rate = "24000" if kbps < 96 else "48000"
        return ["-c:a", "aac", "-b:a", f"{kbps}k", "-ar", rate]

    def mux_args(self) -> list[str]:
        return ["-movflags", "+faststart"] if self.muxer in ("mp4", "mov") else []


FORMATS = {
    "MP4": OutputFormat("mp4", "mp4", "mp4", "m4a"),
    "MOV": OutputFormat("mov", "mov", "mp4", "m4a"),
    "WEBM": OutputFormat("webm", "webm", "webm", "webm"),
}


@dataclass(frozen=True)
class RenderRequest:
    image: Path
    audio: Path
    seconds: float
    output_format: str
    quality: int
    label: str


class Renderer:
    def __init__(self, pool: FFmpegPool, cache_dir: Path, max_long_side: int) -> None:
        self._pool = pool
        self._cache_dir = cache_dir
        self._max_long_side = max_long_side
        self._in_flight: dict[str, asyncio.Future[Path]] = {}

    async def render(self, request: RenderRequest) -> Path:
        fmt = FORMATS[request.output_format]
        key = _key("video", _identity(request.image), _identity(request.audio), request.seconds,
                   request.output_format, request.quality, request.label, self._max_long_side)
        return await self._once(self._cache_dir / f"{key}.{fmt.extension}",
                                lambda out: self._render(request, fmt, out))

    async def _render(self, request: RenderRequest, fmt: OutputFormat, out: Path) -> None:
        segment, track = await asyncio.gather(
            self._segment(request, fmt), self._audio_track(request, fmt)
        )
        # Counting packets (not -t) cuts a stream copy exactly: segments have no B-frames, so
        # decode order is display order and N packets are N frames.
        frames = max(1, round(request.seconds * FPS))
        await self._pool.run([
            "-v", "error", "-y", "-stream_loop", "-1", "-i", str(segment),
            "-t", f"{request.seconds:.6f}", "-i", str(track),
            "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-frames:v", str(frames),
            *fmt.mux_args(), "-f", fmt.muxer, str(out),
        ])

    async def _segment(self, request: RenderRequest, fmt: OutputFormat) -> Path:
        key = _key("segment", _identity(request.image), request.label, fmt.extension,
                   request.quality, self._max_long_side)
        frame = await self._once(self._cache_dir / f"{key}.png", lambda out: asyncio.to_thread(
            compose_frame, request.image, request.label, self._max_long_side, out))
        return await self._once(
            self._cache_dir / f"{key}.{fmt.segment_extension}",
            lambda out: self._pool.run([
                "-v", "error", "-y", "-loop", "1", "-framerate", str(FPS), "-i", str(frame),
                "-t", str(SEGMENT_SECONDS), *fmt.video_args(request.quality),
                "-g", str(FPS * SEGMENT_SECONDS), "-pix_fmt", "yuv420p", "-an",
                "-f", fmt.segment_extension, str(out),
            ]),
        )

    async def _audio_track(self, request: RenderRequest, fmt: OutputFormat) -> Path:
        key = _key("track", _identity(request.audio), fmt.track_extension, request.quality)
        return await self._once(
            self._cache_dir / f"{key}.{fmt.track_extension}",
            lambda out: self._pool.run([
                "-v", "error", "-y", "-i", str(request.audio), "-map", "0:a:0", "-vn",
                "-ac", "1", *fmt.audio_args(request.quality),
                "-f", "mp4" if fmt.track_extension == "m4a" else "webm", str(out),
            ]),
        )

    async def _once(self, target: Path, make: Callable[[Path], Awaitable[object]]) -> Path:
        """Build ``target`` at most once, even when many tasks ask for it at the same time."""
        if target.exists():
            return target
        pending = self._in_flight.get(target.name)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._in_flight[target.name] = future
        partial = target.with_name(f"{target.stem}.{uuid.uuid4().hex}.part{target.suffix}")
        try:
            await make(partial)
            partial.replace(target)
            future.set_result(target)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: the caller that raises reports it
            raise
        finally:
            partial.unlink(missing_ok=True)
            del self._in_flight[target.name]
        return target


def compose_frame(image: Path, label: str, max_long_side: int, out: Path) -> None:
    """The portrait scaled to fit ``max_long_side`` with even sides, and a readable label."""
    with Image.open(image) as source:
        picture = ImageOps.exif_transpose(source).convert("RGB")
    scale = min(1.0, max_long_side / max(picture.size))
    width = max(2, int(picture.width * scale) // 2 * 2)
    height = max(2, int(picture.height * scale) // 2 * 2)
    picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(10, height // 32))
    left, top, _, bottom = draw.textbbox((0, 0), label, font=font)
    margin = max(4, height // 80)
    box_top = height - (bottom - top) - 3 * margin
    draw.rectangle((0, box_top, width, height), fill=(0, 0, 0))
    draw.text((margin - left, box_top + margin - top), label, font=font, fill=(255, 255, 255))
    picture.save(out, format="PNG")


def _identity(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _key(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
