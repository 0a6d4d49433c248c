"""Valid task bodies of the generated task types (images, upscale, speech, video), with
inline or no inputs; a test overrides what it checks. The avatar task is helpers.avatar_task."""

from __future__ import annotations

import uuid
from typing import Any

from runware_mock.fixtures import media_path
from tests.helpers import PORTRAIT, data_uri

KLEIN = "runware:400@2"
TEXT = "Hello, I am your guide to this emulator, and this is my voice."  # 62 characters


def image_task(**overrides: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()),
                            "model": KLEIN, "positivePrompt": "A serene mountain lake",
                            "width": 512, "height": 512}
    task.update(overrides)
    return {name: value for name, value in task.items() if value is not None}


def upscale_task(task_type: str = "upscale", **overrides: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"taskType": task_type, "taskUUID": str(uuid.uuid4()),
                            "inputImage": data_uri(media_path(PORTRAIT), "image/jpeg"),
                            "upscaleFactor": 2}
    task.update(overrides)
    return task


def speech_task(**overrides: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()),
                            "model": "inworld:tts@1.5-max",
                            "speech": {"text": TEXT, "voice": "Dennis"}}
    task.update(overrides)
    return task


def video_task(**overrides: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()),
                            "model": "pixverse:1@5", "positivePrompt": "a mountain lake",
                            "width": 360, "height": 640, "duration": 5}
    task.update(overrides)
    return task
