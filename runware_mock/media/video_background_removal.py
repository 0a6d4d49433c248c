"""Video background removal (``removeBackground`` with ``inputs.video``): the input video, the
same size and length, with an alpha channel.

The backdrop is the dominant colour of the first frame's border (``media.matte``, the same rule
as for pictures); ffmpeg's ``colorkey`` filter makes every pixel near that colour transparent,
with a soft edge, in every frame. Containers, as [py18] documents them: ``WEBM`` is VP9 with
alpha (``yuva420p``), ``MOV`` is ProRes 4444 with alpha (``yuva444p10le``); ``MP4`` (runware 0.5,
ComfyUI) has no alpha, so the foreground is laid on the ``rgba`` colour (H.264). Both passes run in
the bundled ffmpeg through ``FFmpegPool`` (async, argument lists, never a shell); the frame is
read in a worker thread.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from PIL import Image

from runware_mock.media import matte
from runware_mock.media.ffmpeg import FFmpegPool
from runware_mock.media.video_upscale import container_args, write_whole

# outputFormat -> (muxer, video codec arguments with the alpha pixel format, audio arguments).
CONTAINERS = {
    "WEBM": ("webm", ["-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-deadline", "realtime",
                      "-cpu-used", "8", "-row-mt", "1", "-crf", "40", "-b:v", "0",
                      "-auto-alt-ref", "0"], ["-c:a", "libopus"]),
    "MOV": ("mov", ["-c:v", "prores_ks", "-profile:v", "4444", "-pix_fmt", "yuva444p10le",
                    "-vendor", "apl0"], ["-c:a", "aac"]),
    "MP4": ("mp4", ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"],
            ["-c:a", "aac"]),
}
# colorkey's similarity and blend (shares of the largest colour distance): about the picture
# matte's ramp, whose two distances are 24 and 72 of 255.
_SIMILARITY, _BLEND = 0.12, 0.15


async def remove_video_background(pool: FFmpegPool, source: Path, target: Path,
                                  output_format: str = "WEBM",
                                  behind: tuple[int, int, int] = (0, 0, 0)) -> Path:
    """Write ``source`` with its background made transparent to ``target`` (for MP4, which
    has no alpha, replaced by the colour ``behind``)."""
    muxer, video, audio = CONTAINERS[output_format]
    red, green, blue = await _backdrop(pool, source, target.parent)
    key = f"colorkey=0x{red:02x}{green:02x}{blue:02x}:{_SIMILARITY}:{_BLEND}"
    if output_format == "MP4":
        colour = "0x{:02x}{:02x}{:02x}".format(*behind)
        key = (f"split[cut][back];[back]drawbox=c={colour}:t=fill[flat];[cut]{key}[front];"
               "[flat][front]overlay=format=auto")
    await write_whole(pool, target, [
        "-v", "error", "-i", str(source), "-map", "0:v:0", "-map", "0:a:0?",
        "-vf", key, *video, *audio, *container_args(muxer), "-f", muxer])
    return target


async def _backdrop(pool: FFmpegPool, source: Path, folder: Path) -> tuple[int, int, int]:
    """The dominant colour of the first frame's border."""
    frame = folder / f".frame-{uuid.uuid4().hex}.png"
    try:
        await pool.run(["-v", "error", "-y", "-i", str(source), "-frames:v", "1",
                        "-vf", f"scale='min({matte.WORKING_SIDE},iw)':-2", str(frame)])
        return await asyncio.to_thread(_border_colour, frame)
    finally:
        frame.unlink(missing_ok=True)


def _border_colour(frame: Path) -> tuple[int, int, int]:
    with Image.open(frame) as picture:
        return matte.border_colour(picture.convert("RGB"))
