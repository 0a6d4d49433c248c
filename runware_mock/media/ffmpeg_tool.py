"""The ``tools`` task's FFmpeg run: one output file, in the format asked, made by the bundled
ffmpeg from the task's first media input (the primary), whatever its kind.

- A video output (MP4, WEBM, MOV, MKV) is the primary video transcoded (its first video and
  audio streams), a still image held for one second, or an audio track over black frames.
- An audio output (MP3, WAV, AAC, FLAC, OGG) is the primary's first audio track, or one
  second of silence when it has none (an image, a silent video).
- An image output (PNG, JPG, WEBP) is the primary's first frame, or an audio track's
  waveform.

No argument of the request reaches ffmpeg: the arguments are the emulator's own, so a request
cannot make ffmpeg read or write another file. Outputs are at most ``LONGEST_SECONDS`` long.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runware_mock.media.ffmpeg import FFmpegPool
from runware_mock.media.video_upscale import write_whole

VIDEO, IMAGE, AUDIO = "video", "image", "audio"
LONGEST_SECONDS = 30
_STILL_SECONDS = 1
_EVEN = "scale=trunc(iw/2)*2:trunc(ih/2)*2"
_H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
# outputFormat -> (the ffmpeg muxer, the codec arguments, the file's extension).
VIDEO_FORMATS = {
    "MP4": ("mp4", [*_H264, "-c:a", "aac", "-movflags", "+faststart"], "mp4"),
    "MOV": ("mov", [*_H264, "-c:a", "aac", "-movflags", "+faststart"], "mov"),
    "MKV": ("matroska", [*_H264, "-c:a", "aac"], "mkv"),
    "WEBM": ("webm", ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v",
                      "1M", "-c:a", "libopus", "-fflags", "+bitexact"], "webm"),
}
AUDIO_FORMATS = {
    "MP3": ("mp3", ["-c:a", "libmp3lame"], "mp3"),
    "WAV": ("wav", ["-c:a", "pcm_s16le"], "wav"),
    "AAC": ("adts", ["-c:a", "aac"], "aac"),
    "FLAC": ("flac", ["-c:a", "flac"], "flac"),
    "OGG": ("ogg", ["-c:a", "libvorbis", "-fflags", "+bitexact"], "ogg"),
}
IMAGE_FORMATS = {
    "PNG": ("image2", ["-c:v", "png"], "png"),
    "JPG": ("image2", ["-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", "3"], "jpg"),
    "WEBP": ("webp", ["-c:v", "libwebp"], "webp"),
}
FORMATS = {**VIDEO_FORMATS, **AUDIO_FORMATS, **IMAGE_FORMATS}


@dataclass(frozen=True)
class ToolInput:
    """A media input, fetched and measured: its kind, and whether it carries sound."""

    path: Path
    kind: str
    has_audio: bool


def extension(output_format: str) -> str:
    return FORMATS[output_format][2]


def tool_args(primary: ToolInput, output_format: str) -> list[str]:
    """ffmpeg's arguments, the output file's path left out (``write_whole`` adds it)."""
    muxer, codecs, _ = FORMATS[output_format]
    source = str(primary.path)
    if output_format in VIDEO_FORMATS:
        made = _video(primary, source)
    elif output_format in AUDIO_FORMATS:
        made = _audio(primary, source)
    else:
        made = _image(primary, source)
    return ["-v", "error", *made, *codecs, "-map_metadata", "-1", "-f", muxer]


def _video(primary: ToolInput, source: str) -> list[str]:
    if primary.kind == IMAGE:
        return ["-i", source, "-vf", f"tpad=stop_mode=clone:stop_duration={_STILL_SECONDS},"
                f"fps=25,{_EVEN}", "-t", str(_STILL_SECONDS), "-an"]
    if primary.kind == AUDIO:
        return ["-f", "lavfi", "-i", "color=c=black:s=640x360:r=25", "-i", source,
                "-map", "0:v", "-map", "1:a:0", "-shortest", "-t", str(LONGEST_SECONDS)]
    return ["-i", source, "-map", "0:v:0", "-map", "0:a:0?", "-vf", _EVEN,
            "-t", str(LONGEST_SECONDS)]


def _audio(primary: ToolInput, source: str) -> list[str]:
    if primary.has_audio:
        return ["-i", source, "-map", "0:a:0", "-vn", "-t", str(LONGEST_SECONDS)]
    return ["-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", str(_STILL_SECONDS)]


def _image(primary: ToolInput, source: str) -> list[str]:
    if primary.kind == AUDIO:
        return ["-i", source, "-filter_complex", "showwavespic=s=640x240", "-frames:v", "1"]
    return ["-i", source, "-map", "0:v:0", "-frames:v", "1"]


async def run_tool(pool: FFmpegPool, primary: ToolInput, output_format: str,
                   target: Path) -> None:
    """Write the output to ``target`` whole (or not at all)."""
    await write_whole(pool, target, tool_args(primary, output_format))
