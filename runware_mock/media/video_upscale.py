"""Video upscale (``upscale`` with ``inputs.video``): the input video at ``upscaleFactor`` times
its size, the same length.

One pass of the bundled ffmpeg (through ``FFmpegPool``: argument lists, never a shell, async so
the event loop never waits): every frame scaled by the factor (``fast_bilinear``, the cheapest
of ffmpeg's scalers here; sides kept even, as yuv420p needs), encoded with the fastest settings
of the format's codec (H.264 ``ultrafast`` at a fixed quantizer without chroma motion search
for MP4 and MOV, VP9 ``realtime`` for WEBM). The sound is copied as it is when the container
takes its codec (AAC in MP4 and MOV, Opus or Vorbis in WebM), else re-encoded for it.
``fps``, when asked, resamples the frame rate (the length stays). The file is written next to
``target`` and moved there whole.

Encoding the upscaled frames is nearly all the cost: a 10 s 720p clip upscaled 2x is 250
frames of 2560x1440 (benchmarks/new_outputs.py). A fixed quantizer (``-qp``) rather than CRF,
no chroma motion estimation and the copied sound took a fifth off its CPU time.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from runware_mock.media.ffmpeg import FFmpegPool

# outputFormat -> (muxer, video codec arguments, audio codec arguments).
_H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "36", "-x264-params", "chroma-me=0"]
CONTAINERS = {
    "MP4": ("mp4", _H264, ["-c:a", "aac"]),
    "MOV": ("mov", _H264, ["-c:a", "aac"]),
    "WEBM": ("webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                      "-row-mt", "1", "-crf", "40", "-b:v", "0"], ["-c:a", "libopus"]),
}


# The sound codecs each container takes as they are (ffmpeg's names, as a probe reports them).
_KEPT_SOUND = {"MP4": ("aac",), "MOV": ("aac",), "WEBM": ("opus", "vorbis")}


async def upscale_video(pool: FFmpegPool, source: Path, target: Path, factor: float,
                        output_format: str = "MP4", fps: float | None = None,
                        audio_codec: str | None = None,
                        size: tuple[int, int] | None = None) -> Path:
    """Write ``source`` upscaled by ``factor`` (or to ``size``, each side rounded down to an
    even number) to ``target`` (in ``output_format``); ``audio_codec``, the source's sound
    codec when known, is copied if the container takes it."""
    muxer, video, audio = CONTAINERS[output_format]
    if audio_codec in _KEPT_SOUND[output_format]:
        audio = ["-c:a", "copy"]
    width, height = (f"{size[0] // 2 * 2}", f"{size[1] // 2 * 2}") if size else (
        f"trunc(iw*{factor}/2)*2", f"trunc(ih*{factor}/2)*2")
    filters = f"scale={width}:{height}:flags=fast_bilinear"
    if fps:
        filters += f",fps={fps:g}"
    await write_whole(pool, target, [
        "-v", "error", "-i", str(source), "-map", "0:v:0", "-map", "0:a:0?",
        "-vf", filters, *video, "-pix_fmt", "yuv420p", *audio,
        *container_args(muxer), "-f", muxer])
    return target


def container_args(muxer: str) -> list[str]:
    """Byte-identical files for identical inputs (the WebM muxer otherwise writes a random
    segment UID), and MP4/MOV playable while still downloading."""
    return ["-fflags", "+bitexact"] if muxer == "webm" else ["-movflags", "+faststart"]


async def write_whole(pool: FFmpegPool, target: Path, args: list[str]) -> None:
    """Run ffmpeg with ``args`` writing a file beside ``target``, then move it into place, so a
    reader never sees half a video."""
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        await pool.run(["-y", *args, str(partial)])
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
