"""The table of task types: every module of this package that exports ``TASK_TYPE``.

Adding a task type is adding a module (and its request schema under ``contract/schemas``):
nothing else names it.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from runware_mock import tasks
from runware_mock.engine.lifecycle import ERROR, Generation, Task
from runware_mock.tasks.base import TaskServices, TaskType, generation_error


@cache
def task_types() -> dict[str, TaskType]:
    found: dict[str, TaskType] = {}
    for module in sorted(info.name for info in pkgutil.iter_modules(tasks.__path__)):
        task_type = getattr(importlib.import_module(f"{tasks.__name__}.{module}"),
                            "TASK_TYPE", None)
        if isinstance(task_type, TaskType):
            found[task_type.name] = task_type
    return found


def result_item(services: TaskServices, task: Task, generation: Generation) -> dict[str, Any]:
    """A generation as its task type reports it (processing or succeeded)."""
    report = task_types()[task.task_type].result_item
    assert report is not None, f"{task.task_type} has no results"
    return report(services, task, generation)


class Reporter:
    """How a generation is reported, the same on every channel: an item of its task type, or
    the error that ended it."""

    def __init__(self, services: TaskServices) -> None:
        self._services = services

    def result(self, task: Task, generation: Generation) -> dict[str, Any]:
        """The getResponse item, or the error object, as JSON."""
        if generation.status == ERROR and generation.error is not None:
            return generation_error(task, generation).to_json()
        return result_item(self._services, task, generation)

    def body(self, task: Task, generation: Generation) -> dict[str, Any]:
        """``{"data":[item]}`` or ``{"errors":[error]}``: the REST envelope's shapes, used by
        webhooks and pushed WebSocket frames, so one parser serves all of them."""
        if generation.status == ERROR and generation.error is not None:
            return {"errors": [generation_error(task, generation).to_json()]}
        return {"data": [result_item(self._services, task, generation)]}
