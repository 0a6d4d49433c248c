"""How a generation is reported, the same on every channel, by its task type's item builder."""

from __future__ import annotations

from typing import Any

from runware_mock.engine.lifecycle import ERROR, Generation, Task
from runware_mock.handling.task_type import TaskServices, generation_error


def result_item(services: TaskServices, task: Task, generation: Generation) -> dict[str, Any]:
    """A generation as its task type reports it (processing or succeeded)."""
    report = services.task_types[task.task_type].result_item
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
