"""``imageUpload``: upload an image for later tasks (the older form of ``mediaStorage``)."""

from __future__ import annotations

from typing import Any

from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.media.facade import MediaInputError
from runware_mock.protocol.envelope import Reply, failed, succeeded
from runware_mock.tasks.media_storage import upload_error


async def image_upload(task: dict[str, Any], context: Context, services: TaskServices) -> Reply:
    try:
        upload = await services.media.upload(task["image"], "image")
    except MediaInputError as exc:
        return failed(upload_error(exc, task))
    return succeeded({"taskType": "imageUpload", "taskUUID": task["taskUUID"],
                      "imageUUID": upload.served.uuid, "imageURL": upload.url})


TASK_TYPE = TaskType("imageUpload", "request.imageUpload", image_upload)
