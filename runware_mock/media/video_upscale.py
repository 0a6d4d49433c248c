"""Video upscale (``upscale`` with ``inputs.video``): the input video at ``upscaleFactor`` times
its size, the same length.

One pass of the bundled ffmpeg (through ``FFmpegPool``: argument lists, never a shell, async so
the event loop never waits): every frame scaled by the factor (``fast_bilinear``; sides kept
even, as yuv420p needs), encoded with the fastest settings of the format's codec (H.264
``ultrafast`` for MP4 and MOV, VP9 ``realtime`` for WEBM), the audio track re-encoded for the
container when there is one. ``fps``, when asked, resamples the frame rate (the length stays).
The file is written next to ``target`` and moved there whole.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from runware_mock.media.ffmpeg import FFmpegPool

# outputFormat -> (muxer, video codec arguments, audio codec arguments).
CONTAINERS = {
    "MP4": ("mp4", ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "30"], ["-c:a", "aac"]),
    "MOV": ("mov", ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "30"], ["-c:a", "aac"]),
    "WEBM": ("webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                      "-row-mt", "1", "-crf", "40", "-b:v", "0"], ["-c:a", "libopus"]),
}


async def upscale_video(pool: FFmpegPool, source: Path, target: Path, factor: float,
                        output_format: str = "MP4", fps: float | None = None) -> Path:
    """Write ``source`` upscaled by ``factor`` to ``target`` (in ``output_format``)."""
    muxer, video, audio = CONTAINERS[output_format]
    filters = f"scale=trunc(iw*{factor}/2)*2:trunc(ih*{factor}/2)*2:flags=fast_bilinear"
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
