"""What an input video is (its size, length, frame rate and sound codec, read by the bundled
ffmpeg from the container's header, no frame decoded), and one of its frames as a picture, through
``FFmpegPool``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from runware_mock.media.ffmpeg import FFmpegPool
from runware_mock.media.probe import ProbeError
from runware_mock.media.video_upscale import write_whole

_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #0:\d+.*?: Video: (\w+).*?, (\d{1,5})x(\d{1,5})")
_FPS = re.compile(r"Video: .*?, ([\d.]+) fps")
_AUDIO = re.compile(r"Stream #0:\d+.*?: Audio: (\w+)")


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    seconds: float
    fps: float
    # The first sound track's codec (ffmpeg's name, aac, opus...); None without sound.
    audio_codec: str | None


async def probe_video(pool: FFmpegPool, path: Path) -> VideoInfo:
    """The header's facts; a file with no video stream or no length is ``ProbeError``."""
    # ffmpeg with an input and no output prints the header and exits 1: that is the probe.
    told = (await pool.run(["-v", "info", "-i", str(path)], check=False)).stderr
    stream, duration = _VIDEO.search(told), _DURATION.search(told)
    if stream is None or duration is None:
        raise ProbeError("not a decodable video (no video stream with a length)")
    hours, minutes, seconds = duration.groups()
    fps, audio = _FPS.search(told), _AUDIO.search(told)
    return VideoInfo(stream.group(1), int(stream.group(2)), int(stream.group(3)),
                     int(hours) * 3600 + int(minutes) * 60 + float(seconds),
                     float(fps.group(1)) if fps else 25.0,
                     audio.group(1) if audio else None)


async def still_frame(pool: FFmpegPool, source: Path, target: Path, seconds: float) -> None:
    """Write the frame of ``source`` shown at ``seconds`` to ``target`` as a PNG."""
    await write_whole(pool, target, ["-v", "error", "-ss", f"{max(0.0, seconds):.3f}", "-i",
                                     str(source), "-frames:v", "1", "-f", "image2",
                                     "-c:v", "png"])
