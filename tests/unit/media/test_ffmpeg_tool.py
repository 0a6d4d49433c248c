"""media.ffmpeg_tool: which ffmpeg run makes a tools output from the primary input's kind, and
that nothing of the request reaches ffmpeg's arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from runware_mock.media.ffmpeg_tool import (
    AUDIO_FORMATS,
    FORMATS,
    IMAGE_FORMATS,
    VIDEO_FORMATS,
    ToolInput,
    extension,
    tool_args,
)

VIDEO_IN = ToolInput(Path("/data/in/clip"), "video", True)
SILENT_VIDEO = ToolInput(Path("/data/in/silent"), "video", False)
IMAGE_IN = ToolInput(Path("/data/in/picture"), "image", False)
AUDIO_IN = ToolInput(Path("/data/in/voice"), "audio", True)


def test_the_twelve_documented_formats_and_their_extensions():
    # runware-surface.md §2.13's outputFormat list.
    assert sorted(FORMATS) == sorted(["MP4", "WEBM", "MOV", "MKV", "MP3", "WAV", "AAC",
                                      "FLAC", "OGG", "PNG", "JPG", "WEBP"])
    assert [extension(name) for name in ("MKV", "AAC", "JPG")] == ["mkv", "aac", "jpg"]


@pytest.mark.parametrize("primary", [VIDEO_IN, SILENT_VIDEO, IMAGE_IN, AUDIO_IN])
@pytest.mark.parametrize("output_format", sorted(FORMATS))
def test_every_run_reads_the_primary_at_most_and_ends_with_the_muxer(primary, output_format):
    args = tool_args(primary, output_format)
    silence = output_format in AUDIO_FORMATS and not primary.has_audio
    assert (str(primary.path) in args) != silence
    assert args[-2:] == ["-f", FORMATS[output_format][0]]
    # Only the emulator's own file paths: the one input, no output (write_whole adds it).
    assert {arg for arg in args if arg.startswith("/")} <= {str(primary.path)}


def test_sound_comes_from_the_primary_or_is_silence():
    assert "0:a:0" in tool_args(AUDIO_IN, "MP3")
    assert "0:a:0" in tool_args(VIDEO_IN, "WAV")
    silent = tool_args(SILENT_VIDEO, "OGG")
    assert "anullsrc=r=44100:cl=mono" in silent and "0:a:0" not in silent


def test_pictures_and_videos_from_each_kind():
    assert "showwavespic=s=640x240" in tool_args(AUDIO_IN, "PNG")
    assert tool_args(VIDEO_IN, "JPG")[tool_args(VIDEO_IN, "JPG").index("-frames:v") + 1] == "1"
    assert any(arg.startswith("tpad=") for arg in tool_args(IMAGE_IN, "MP4"))
    assert "color=c=black:s=640x360:r=25" in tool_args(AUDIO_IN, "MKV")
    assert set(VIDEO_FORMATS) | set(AUDIO_FORMATS) | set(IMAGE_FORMATS) == set(FORMATS)
