"""Run the tasks of one request (or frame) for an authenticated owner: validate, then handle."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from runware_mock.contract.errors import ApiError, ApiRefusal, error
from runware_mock.contract.validation import MOST_ERRORS, check_task
from runware_mock.handling.task_type import Context, TaskServices
from runware_mock.media.file_store import REQUESTER
from runware_mock.protocol.envelope import Reply
from runware_mock.store.health import disk_trouble, refusal

log = logging.getLogger("runware_mock.dispatch")


class Dispatcher:
    def __init__(self, services: TaskServices, most_errors: int = MOST_ERRORS) -> None:
        self._services = services
        self._most_errors = most_errors

    async def run(self, tasks: list[Any], context: Context) -> Reply:
        """Each task independently: one task's error never hides another task's result."""
        reply = Reply()
        for index, task in enumerate(tasks):
            reply.extend(await self.run_one(task, index, context))
        return reply

    async def run_one(self, task: Any, index: int, context: Context) -> Reply:
        checked = check_task(task, index, self._most_errors, owner=context.owner)
        if not checked.ok:
            return Reply(errors=checked.errors, omitted=checked.omitted)
        task_type = checked.task["taskType"]
        # The uploads a task makes, finds or deletes are its owner's; work the handler starts
        # (preparing a task's inputs) inherits this.
        requester = REQUESTER.set(context.owner)
        try:
            handle = self._services.task_types[task_type].handle
            return await handle(checked.task, context, self._services)
        except ApiRefusal as refused:
            return Reply(errors=[labelled(refused.problem, checked.task)])
        except Exception as exc:
            if disk_trouble(exc):  # not a bug: a file it had to write found no room
                return Reply(errors=[refusal(self._services.health, exc, task_type=task_type,
                                             task_uuid=checked.task.get("taskUUID"))])
            log.exception("handler for %s failed", task_type)
            return Reply(errors=[error("internalServerError", f"The emulator failed: {exc}",
                                       task_type=task_type,
                                       task_uuid=checked.task.get("taskUUID"))])
        finally:
            REQUESTER.reset(requester)


def labelled(problem: ApiError, task: dict[str, Any]) -> ApiError:
    """The error, naming the task it answers (its taskType as sent: an alias is answered
    under the name received)."""
    return dataclasses.replace(problem, task_type=task.get("taskType"),
                               task_uuid=task.get("taskUUID"))
