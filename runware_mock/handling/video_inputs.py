"""The video input a task names (``inputs.video``), fetched and measured, as video upscale and
video caption take it."""

from __future__ import annotations

from pathlib import Path

from runware_mock.handling.input_failures import inputs_fail_the_task
from runware_mock.media.facade import Media
from runware_mock.media.video_probe import VideoInfo


async def video_input(media: Media, spec: str,
                      parameter: str = "inputs.video") -> tuple[Path, VideoInfo]:
    """The input on disk and measured, or the task fails with the reason."""
    with inputs_fail_the_task():
        return await media.video_input(parameter, spec)
