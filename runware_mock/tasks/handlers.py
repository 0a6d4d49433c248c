"""One handler per task type: a validated task in, a Reply out. No transport knowledge here."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from runware_mock.contract.errors import ApiError, error
from runware_mock.engine.lifecycle import (
    ERROR,
    SUCCESS,
    Generation,
    Task,
    TaskConflict,
    TaskEngine,
    TaskNotFound,
)
from runware_mock.engine.task_faults import NO_FAULTS, TaskFaults
from runware_mock.faults import DELIVERY, TASK, Fault, FaultInjector, Rule
from runware_mock.faults.traffic import task_traffic
from runware_mock.media.service import Media, MediaInputError
from runware_mock.protocol.envelope import Reply, failed, succeeded


@dataclass(frozen=True)
class Context:
    owner: str
    transport: str
    session_uuid: str | None = None
    # The rules of the request's (or WebSocket handshake's) X-Mock-Fault header.
    header_faults: tuple[Rule, ...] = ()
    # Faults that fired while handling, for the journal.
    fired: list[Fault] = field(default_factory=list, compare=False, hash=False)


Handler = Callable[[dict[str, Any], Context], Awaitable[Reply]]


class Handlers:
    def __init__(self, engine: TaskEngine, media: Media, faults: FaultInjector) -> None:
        self._engine = engine
        self._media = media
        self._faults = faults
        self.by_task_type: dict[str, Handler] = {
            "ping": self.ping,
            "authentication": self.authentication,
            "videoInference": self.video_inference,
            "getResponse": self.get_response,
            "mediaStorage": self.media_storage,
            "imageUpload": self.image_upload,
        }

    async def ping(self, task: dict[str, Any], context: Context) -> Reply:
        return succeeded({"taskType": "ping", "pong": True})

    async def authentication(self, task: dict[str, Any], context: Context) -> Reply:
        session = context.session_uuid or task.get("connectionSessionUUID") or str(uuid.uuid4())
        return succeeded({"taskType": "authentication", "connectionSessionUUID": session})

    async def video_inference(self, task: dict[str, Any], context: Context) -> Reply:
        try:
            if self._engine.holds(task["taskUUID"]):
                raise TaskConflict(task["taskUUID"])
            submitted = self._engine.submit(context.owner, task, self._pick_faults(task, context))
        except TaskConflict:
            return failed(_scoped(error(
                "conflictTaskUUID",
                f"taskUUID {task['taskUUID']} was already used: every task needs a new UUID v4.",
                parameter="taskUUID", type="string"), task))
        # The ack carries no *URL key and no status: SDKs would take either for a result.
        return succeeded({"taskType": "videoInference", "taskUUID": submitted.sent_uuid})

    def _pick_faults(self, task: dict[str, Any], context: Context) -> TaskFaults:
        """Decided at submit, so the journal shows them beside the request that caused them."""
        if not self._faults.armed(context.header_faults):
            return NO_FAULTS
        traffic = task_traffic(task, context.owner, context.transport)
        chosen = TaskFaults(task=self._faults.pick(TASK, traffic, context.header_faults),
                            delivery=self._faults.pick(DELIVERY, traffic, context.header_faults))
        context.fired.extend(chosen.fired())
        return chosen

    async def get_response(self, task: dict[str, Any], context: Context) -> Reply:
        try:
            found = self._engine.get(context.owner, task["taskUUID"])
        except TaskNotFound:
            return failed(_scoped(error(
                "taskNotFound",
                f"No task with taskUUID {task['taskUUID']} for this API key (never submitted, "
                "submitted with another key, or expired).", parameter="taskUUID"), task))
        reply = Reply()
        for generation in found.generations:
            if generation.status == ERROR and generation.error is not None:
                reply.errors.append(generation_error(found, generation))
            else:
                reply.data.append(self.generation_item(found, generation))
        return reply

    def generation_item(self, task: Task, generation: Generation) -> dict[str, Any]:
        item: dict[str, Any] = {"taskType": task.task_type, "taskUUID": task.sent_uuid,
                                "status": generation.status}
        if generation.status == SUCCESS:
            item.update(videoUUID=generation.video_uuid, videoURL=generation.video_url,
                        seed=generation.seed)
            if generation.cost is not None:
                item["cost"] = generation.cost
        else:
            item["progress"] = self._engine.progress(task, generation)
        return item

    async def media_storage(self, task: dict[str, Any], context: Context) -> Reply:
        if task["operation"] == "delete":
            if not self._media.delete_upload(task["media"]):
                return failed(_scoped(error(
                    "mediaNotFound", f"No uploaded media with mediaUUID {task['media']}.",
                    parameter="media"), task))
            return succeeded({"taskType": "mediaStorage", "taskUUID": task["taskUUID"],
                              "operation": "delete", "mediaUUID": task["media"]})
        try:
            upload = await self._media.upload(task["media"], "media")
        except MediaInputError as exc:
            return failed(_upload_error(exc, task))
        return succeeded({"taskType": "mediaStorage", "taskUUID": task["taskUUID"],
                          "operation": "upload", "mediaUUID": upload.served.uuid,
                          "mediaURL": upload.url})

    async def image_upload(self, task: dict[str, Any], context: Context) -> Reply:
        try:
            upload = await self._media.upload(task["image"], "image")
        except MediaInputError as exc:
            return failed(_upload_error(exc, task))
        return succeeded({"taskType": "imageUpload", "taskUUID": task["taskUUID"],
                          "imageUUID": upload.served.uuid, "imageURL": upload.url})


def generation_error(task: Task, generation: Generation) -> ApiError:
    assert generation.error is not None
    return dataclasses.replace(generation.error, task_type=task.task_type,
                               task_uuid=task.sent_uuid, task_status=ERROR)


def _upload_error(exc: MediaInputError, task: dict[str, Any]) -> ApiError:
    return _scoped(error("invalidValueUploadFailed", str(exc), parameter=exc.parameter), task)


def _scoped(problem: ApiError, task: dict[str, Any]) -> ApiError:
    return dataclasses.replace(problem, task_type=task.get("taskType"),
                               task_uuid=task.get("taskUUID"))
