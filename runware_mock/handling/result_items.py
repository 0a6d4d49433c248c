"""How a generation of a task whose results come later is reported, unless its task type says
otherwise: the task's type (as sent) and UUID, the generation's status, and its result once it
succeeded, else its progress."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runware_mock.engine.lifecycle import SUCCESS, Generation, Task

if TYPE_CHECKING:  # task_type.py names this builder as TaskType.later's default
    from runware_mock.handling.task_type import TaskServices


def generation_item(services: TaskServices, task: Task, generation: Generation) -> dict[str, Any]:
    item: dict[str, Any] = {"taskType": task.task_type, "taskUUID": task.sent_uuid,
                            "status": generation.status}
    if generation.status == SUCCESS and generation.result is not None:
        item.update(generation.result)
    else:
        item["progress"] = services.engine.progress(task, generation)
    return item
