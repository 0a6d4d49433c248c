"""The video input a task names (``inputs.video``), fetched and measured, as video upscale and
video caption take it."""

from __future__ import annotations

from pathlib import Path

from runware_mock.contract.errors import error
from runware_mock.engine.lifecycle import WorkFailed
from runware_mock.media.facade import Media, MediaInputError
from runware_mock.media.video_probe import VideoInfo


async def video_input(media: Media, spec: str,
                      parameter: str = "inputs.video") -> tuple[Path, VideoInfo]:
    """The input on disk and measured, or the task fails with the reason."""
    try:
        return await media.video_input(parameter, spec)
    except MediaInputError as exc:
        raise WorkFailed(error(exc.code, str(exc), parameter=exc.parameter)) from exc
