"""``getResponse``: every generation of a task so far, each an item or the error that ended it."""

from __future__ import annotations

from runware_mock.contract.request_types import GetResponseRequest
from runware_mock.handling.submission import owned_task, results
from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.protocol.envelope import Reply


async def get_response(task: GetResponseRequest, context: Context,
                       services: TaskServices) -> Reply:
    found = owned_task(task["taskUUID"], context, services)
    return results(found, services)


TASK_TYPE = TaskType.immediate("getResponse", get_response, "request.getResponse",
                               watches_task=True)
