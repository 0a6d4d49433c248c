"""``getResponse``: every generation of a task so far, each an item or the error that ended it."""

from __future__ import annotations

from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import GetResponseRequest
from runware_mock.engine.lifecycle import TaskNotFound
from runware_mock.handling.submission import results
from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.protocol.envelope import Reply


async def get_response(task: GetResponseRequest, context: Context,
                       services: TaskServices) -> Reply:
    try:
        found = services.engine.get(context.owner, task["taskUUID"])
    except TaskNotFound:
        raise ApiRefusal(error(
            "taskNotFound",
            f"No task with taskUUID {task['taskUUID']} for this API key (never submitted, "
            "submitted with another key, or expired).", parameter="taskUUID")) from None
    return results(found, services)


TASK_TYPE = TaskType.immediate("getResponse", get_response, "request.getResponse",
                               watches_task=True)
