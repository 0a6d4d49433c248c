"""``mediaStorage``: upload an image or audio file for later tasks, or delete one."""

from __future__ import annotations

from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import MediaStorageRequest
from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.handling.uploads import uploaded
from runware_mock.protocol.envelope import Reply, succeeded


async def media_storage(task: MediaStorageRequest, context: Context,
                        services: TaskServices) -> Reply:
    if task["operation"] == "delete":
        if not services.media.delete_upload(task["media"]):
            raise ApiRefusal(error("mediaNotFound",
                                   f"No uploaded media with mediaUUID {task['media']}.",
                                   parameter="media"))
        return succeeded({"taskType": "mediaStorage", "taskUUID": task["taskUUID"],
                          "operation": "delete", "mediaUUID": task["media"]})
    upload = await uploaded(services.media, task["media"], "media")
    return succeeded({"taskType": "mediaStorage", "taskUUID": task["taskUUID"],
                      "operation": "upload", "mediaUUID": upload.served.uuid,
                      "mediaURL": upload.url})


TASK_TYPE = TaskType.immediate("mediaStorage", media_storage, "request.mediaStorage")
