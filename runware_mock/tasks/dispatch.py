"""Run the tasks of one request (or frame) for an authenticated owner: validate, then handle."""

from __future__ import annotations

import logging
from typing import Any

from runware_mock.contract.errors import error
from runware_mock.contract.validation import check_task
from runware_mock.protocol.envelope import Reply
from runware_mock.tasks.handlers import Context, Handlers

log = logging.getLogger("runware_mock.dispatch")


class Dispatcher:
    def __init__(self, handlers: Handlers) -> None:
        self._handlers = handlers

    async def run(self, tasks: list[Any], context: Context) -> Reply:
        """Each task independently: one task's error never hides another task's result."""
        reply = Reply()
        for index, task in enumerate(tasks):
            reply.extend(await self.run_one(task, index, context))
        return reply

    async def run_one(self, task: Any, index: int, context: Context) -> Reply:
        checked = check_task(task, index)
        if not checked.ok:
            return Reply(errors=checked.errors)
        handler = self._handlers.by_task_type[checked.task["taskType"]]
        try:
            return await handler(checked.task, context)
        except Exception as exc:
            log.exception("handler for %s failed", checked.task["taskType"])
            return Reply(errors=[error("internalServerError", f"The emulator failed: {exc}",
                                       task_type=checked.task.get("taskType"),
                                       task_uuid=checked.task.get("taskUUID"))])
