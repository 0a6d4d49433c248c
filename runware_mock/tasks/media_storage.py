"""``mediaStorage``: upload an image or audio file for later tasks, or delete one."""

from __future__ import annotations

from typing import Any

from runware_mock.contract.errors import ApiError, error
from runware_mock.handling.task_type import Context, TaskServices, TaskType, scoped
from runware_mock.media.facade import MediaInputError
from runware_mock.protocol.envelope import Reply, failed, succeeded


async def media_storage(task: dict[str, Any], context: Context,
                        services: TaskServices) -> Reply:
    if task["operation"] == "delete":
        if not services.media.delete_upload(task["media"]):
            return failed(scoped(error(
                "mediaNotFound", f"No uploaded media with mediaUUID {task['media']}.",
                parameter="media"), task))
        return succeeded({"taskType": "mediaStorage", "taskUUID": task["taskUUID"],
                          "operation": "delete", "mediaUUID": task["media"]})
    try:
        upload = await services.media.upload(task["media"], "media")
    except MediaInputError as exc:
        return failed(upload_error(exc, task))
    return succeeded({"taskType": "mediaStorage", "taskUUID": task["taskUUID"],
                      "operation": "upload", "mediaUUID": upload.served.uuid,
                      "mediaURL": upload.url})


def upload_error(exc: MediaInputError, task: dict[str, Any]) -> ApiError:
    return scoped(error("invalidValueUploadFailed", str(exc), parameter=exc.parameter), task)


TASK_TYPE = TaskType("mediaStorage", "request.mediaStorage", media_storage)
