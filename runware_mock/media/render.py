"""Render the placeholder avatar video: the portrait as picture, the voice track as sound.

A still picture does not need every frame encoded: a two-second segment (one GOP) is encoded
once, then looped by stream copy for the length of the audio, and muxed with the audio track
encoded once per (audio, format, quality). Every intermediate and the final file are cached by
content, so identical requests reuse a render.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from runware_mock.media.ffmpeg import FFmpegPool

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
        if self.extension == "webm":
            return ["-c:a", "libopus", "-b:a", f"{round(24 + (quality - 20) * 40 / 79)}k"]
        # Mono AAC at 24 kHz, 32-64 kb/s, is ample for a voice track and encodes about twice
        # as fast as 48 kHz; above 64 kb/s at 24 kHz the encoder slows down sharply.
        return ["-c:a", "aac", "-ar", "24000", "-b:a", f"{round(32 + (quality - 20) * 32 / 79)}k"]

    def mux_args(self) -> list[str]:
        if self.muxer == "webm":
            # Without it the muxer writes a random segment UID: the same request would give
            # other bytes on each render (the file made at first download, say).
            return ["-fflags", "+bitexact"]
        return ["-movflags", "+faststart"]


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
    # The longest side of the frames, when the client asked for a size (a generated video);
    # None: the renderer's max_long_side (an avatar's size follows its portrait).
    long_side: int | None = None


class Renderer:
    def __init__(self, pool: FFmpegPool, cache_dir: Path, max_long_side: int,
                 animate: bool = False) -> None:
        self._pool = pool
        self._cache_dir = cache_dir
        self._max_long_side = max_long_side
        self._animate = animate
        self._in_flight: dict[str, asyncio.Future[Path]] = {}

    async def render(self, request: RenderRequest) -> Path:
        fmt = FORMATS[request.output_format]
        key = _key("video", file_identity(request.image), file_identity(request.audio),
                   request.seconds, request.output_format, request.quality, request.label,
                   self._long_side(request), self._animate)
        render = self._render_animated if self._animate else self._render
        return await self._once(self._cache_dir / f"{key}.{fmt.extension}",
                                lambda out: render(request, fmt, out))

    async def _render(self, request: RenderRequest, fmt: OutputFormat, out: Path) -> None:
        segment, track = await asyncio.gather(
            self._segment(request, fmt), self._audio_track(request, fmt)
        )
        # Counting packets (not -t) cuts a stream copy exactly: segments have no B-frames, so
        # decode order is display order and N packets are N frames. Rounding up keeps the
        # picture on until the last audio packet, which would otherwise be dropped.
        frames = frame_count(request.seconds)
        await self._pool.run([
            "-v", "error", "-y", "-stream_loop", "-1", "-i", str(segment),
            "-t", f"{request.seconds:.6f}", "-i", str(track),
            "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-frames:v", str(frames),
            *fmt.mux_args(), "-f", fmt.muxer, str(out),
        ])

    async def _render_animated(self, request: RenderRequest, fmt: OutputFormat,
                               out: Path) -> None:
        """Every frame encoded, with the waveform of the voice drawn over the portrait."""
        frame = await self._frame(request)
        width, height = await asyncio.to_thread(_size_of, frame)
        wave_height = max(2, height // 6 // 2 * 2)
        graph = (f"[1:a]aformat=channel_layouts=mono,showwaves=s={width}x{wave_height}:"
                 f"mode=cline:rate={FPS}:colors=white[wave];"
                 f"[0:v][wave]overlay=0:{height * 2 // 3}:shortest=1,format=yuv420p[v]")
        await self._pool.run([
            "-v", "error", "-y", "-loop", "1", "-framerate", str(FPS), "-i", str(frame),
            "-i", str(request.audio), "-filter_complex", graph, "-map", "[v]", "-map", "1:a:0",
            *fmt.video_args(request.quality), "-g", str(FPS * SEGMENT_SECONDS),
            "-frames:v", str(frame_count(request.seconds)), "-ac", "1",
            *fmt.audio_args(request.quality), *fmt.mux_args(), "-f", fmt.muxer, str(out),
        ])

    async def _frame(self, request: RenderRequest) -> Path:
        long_side = self._long_side(request)
        key = _key("frame", file_identity(request.image), request.label, long_side)
        return await self._once(self._cache_dir / f"{key}.png", lambda out: asyncio.to_thread(
            compose_frame, request.image, request.label, long_side, out))

    async def _segment(self, request: RenderRequest, fmt: OutputFormat) -> Path:
        key = _key("segment", file_identity(request.image), request.label, fmt.extension,
                   request.quality, self._long_side(request))
        frame = await self._frame(request)
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
        key = _key("track", file_identity(request.audio), fmt.track_extension, request.quality)
        return await self._once(
            self._cache_dir / f"{key}.{fmt.track_extension}",
            lambda out: self._pool.run([
                "-v", "error", "-y", "-i", str(request.audio), "-map", "0:a:0", "-vn",
                "-ac", "1", *fmt.audio_args(request.quality),
                "-f", "mp4" if fmt.track_extension == "m4a" else "webm", str(out),
            ]),
        )

    def _long_side(self, request: RenderRequest) -> int:
        return request.long_side or self._max_long_side

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
    if label:
        _draw_label(picture, label)
    picture.save(out, format="PNG", compress_level=1)  # an intermediate: speed over size


def _draw_label(picture: Image.Image, label: str) -> None:
    width, height = picture.size
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(10, height // 32))
    left, top, _, bottom = draw.textbbox((0, 0), label, font=font)
    margin = max(4, height // 80)
    box_top = height - (bottom - top) - 3 * margin
    draw.rectangle((0, box_top, width, height), fill=(0, 0, 0))
    draw.text((margin - left, box_top + margin - top), label, font=font, fill=(255, 255, 255))


def frame_count(seconds: float) -> int:
    return max(1, math.ceil(seconds * FPS - 1e-6))


def _size_of(image: Path) -> tuple[int, int]:
    with Image.open(image) as opened:
        return opened.size


def file_identity(path: Path, stat: os.stat_result | None = None) -> str:
    """Names a file's content cheaply: path, size and modification time."""
    stat = stat or path.stat()
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def _key(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
