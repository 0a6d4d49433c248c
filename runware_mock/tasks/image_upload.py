"""``imageUpload``: upload an image for later tasks (the older form of ``mediaStorage``)."""

from __future__ import annotations

from runware_mock.contract.request_types import ImageUploadRequest
from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.handling.uploads import uploaded
from runware_mock.protocol.envelope import Reply, succeeded


async def image_upload(task: ImageUploadRequest, context: Context, services: TaskServices) -> Reply:
    upload = await uploaded(services.media, task["image"], "image")
    return succeeded({"taskType": "imageUpload", "taskUUID": task["taskUUID"],
                      "imageUUID": upload.served.uuid, "imageURL": upload.url})


TASK_TYPE = TaskType.immediate("imageUpload", image_upload, "request.imageUpload")
