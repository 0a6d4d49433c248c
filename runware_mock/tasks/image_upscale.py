"""``imageUpscale``: runware 0.5's name for ``upscale``. The same task, answered under the name
the client sent: 0.5 picks its result class from the reply's taskType, and would read an
``upscale`` item as a video."""

from __future__ import annotations

from runware_mock.handling.task_type import TaskType
from runware_mock.tasks.upscale import upscale, upscale_work
from runware_mock.tasks.video_inference import video_item

TASK_TYPE = TaskType("imageUpscale", "request.imageUpscale", upscale, result_item=video_item,
                     watches_task=True, work=upscale_work)
