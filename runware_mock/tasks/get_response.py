"""``getResponse``: every generation of a task so far, each an item or the error that ended it."""

from __future__ import annotations

from typing import Any

from runware_mock.contract.errors import error
from runware_mock.engine.lifecycle import TaskNotFound
from runware_mock.handling.submission import results
from runware_mock.handling.task_type import Context, TaskServices, TaskType, scoped
from runware_mock.protocol.envelope import Reply, failed


async def get_response(task: dict[str, Any], context: Context,
                       services: TaskServices) -> Reply:
    try:
        found = services.engine.get(context.owner, task["taskUUID"])
    except TaskNotFound:
        return failed(scoped(error(
            "taskNotFound",
            f"No task with taskUUID {task['taskUUID']} for this API key (never submitted, "
            "submitted with another key, or expired).", parameter="taskUUID"), task))
    return results(found, services)


TASK_TYPE = TaskType("getResponse", "request.getResponse", get_response, watches_task=True)
