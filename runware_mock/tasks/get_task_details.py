"""``getTaskDetails``: the request and the response of a past task of this API key, read from
the store (runware-surface.md §2.9).

The answer is one item ``{taskType, taskUUID, request, response}``: ``request`` the list of
the task as the store keeps it (inline media included, its documented defaults filled in, as
the emulator validated it), ``response`` ``{"data": [...]}`` with each result as getResponse
reports it (or the stage reached while it runs) and ``{"errors": [...]}`` for the results
that failed (both keys when some did and some did not). The store holds every task whose
results come later (every inference task, uploads, ...), until ``--task-retention`` forgets
it; a taskUUID it does not hold for this key is ``taskNotFound``, as for getResponse.
"""

from __future__ import annotations

from typing import Any

from runware_mock.contract.request_types import GetTaskDetailsRequest
from runware_mock.handling.submission import owned_task, results
from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.protocol.envelope import Reply, succeeded


async def get_task_details(task: GetTaskDetailsRequest, context: Context,
                           services: TaskServices) -> Reply:
    found = owned_task(task["taskUUID"], context, services)
    reported = results(found, services)
    response: dict[str, Any] = {}
    if reported.data:
        response["data"] = reported.data
    if reported.errors:
        response["errors"] = [problem.to_json() for problem in reported.errors]
    return succeeded({"taskType": task["taskType"], "taskUUID": task["taskUUID"],
                      "request": [await services.engine.sent_request(found)],
                      "response": response})


TASK_TYPE = TaskType.immediate("getTaskDetails", get_task_details, "request.getTaskDetails")
