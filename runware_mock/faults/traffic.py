"""What a request, a frame or a task looks like to the fault rules."""

from __future__ import annotations

from typing import Any

from runware_mock.contract.request_types import TaskRequest
from runware_mock.faults.fault_kinds import Traffic


def request_traffic(tasks: list[Any], api_key: Any, transport: str) -> Traffic:
    """A REST request or a WebSocket frame: it matches a rule if any of its tasks does."""
    objects = [task for task in tasks if isinstance(task, dict)]
    return Traffic(transport=transport, api_key=api_key if isinstance(api_key, str) else None,
                   task_types=_strings(task.get("taskType") for task in objects),
                   models=_strings(task.get("model") for task in objects),
                   task_uuids=_strings(_lower(task.get("taskUUID")) for task in objects))


def task_traffic(task: TaskRequest, owner: str, transport: str) -> Traffic:
    """One validated task the engine runs (any task type with results), as the task and
    delivery faults see it."""
    safety = task.get("safety")
    return Traffic(transport=transport, api_key=owner, task_types=(str(task["taskType"]),),
                   models=_strings([task.get("model")]),  # an upload names none
                   task_uuids=(str(task["taskUUID"]).lower(),),
                   checks_content=isinstance(safety, dict) and safety.get("checkContent") is True,
                   has_webhook=bool(task.get("webhookURL")),
                   has_upload=bool(task.get("uploadEndpoint")),
                   number_results=int(task.get("numberResults", 1)),
                   streams=transport == "rest" and task.get("deliveryMethod") == "stream")


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if isinstance(value, str)))
