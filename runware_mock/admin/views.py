"""The JSON the admin API shows for a task: its state, each generation, and its results."""

from __future__ import annotations

from typing import Any

from runware_mock.delivery.log import DeliveryLog
from runware_mock.engine.lifecycle import ERROR, PROCESSING, SUCCESS, Generation, Task, TaskEngine
from runware_mock.handling.reporting import Reporter
from runware_mock.transport.journal import JournalEntry

TASK_STATES = (PROCESSING, SUCCESS, ERROR, "partial")


def task_state(task: Task) -> str:
    """processing while any generation is; else success, error, or partial (some of each)."""
    statuses = {generation.status for generation in task.generations}
    if PROCESSING in statuses:
        return PROCESSING
    return statuses.pop() if len(statuses) == 1 else "partial"


def task_json(task: Task, engine: TaskEngine, reporter: Reporter, deliveries: DeliveryLog,
              now: float) -> dict[str, Any]:
    request = task.request
    return {
        "taskUUID": task.task_uuid,
        "taskType": task.task_type,
        "model": request.get("model"),
        "apiKey": task.owner,
        "state": task_state(task),
        "ageSeconds": round(now - task.submitted_at, 3),
        "audioSeconds": task.output_seconds,
        "numberResults": len(task.generations),
        "webhookURL": request.get("webhookURL"),
        "uploadEndpoint": request.get("uploadEndpoint"),
        "standIns": task.stand_ins,
        "generations": [_generation_json(task, generation, engine, now)
                        for generation in task.generations],
        "results": [reporter.result(task, generation) for generation in task.generations],
        "deliveries": {"attempts": len(deliveries.attempts(task.task_uuid)),
                       "pending": deliveries.pending(task.task_uuid)},
    }


def _generation_json(task: Task, generation: Generation, engine: TaskEngine,
                     now: float) -> dict[str, Any]:
    ready_in = None
    if generation.status == PROCESSING and task.ready_at is not None:
        ready_in = round(max(0.0, task.ready_at - now), 3)
    return {"index": generation.index, "status": generation.status, "seed": generation.seed,
            "progress": engine.progress(task, generation), "readyInSeconds": ready_in,
            "result": generation.result,
            "cost": (generation.result or {}).get("cost"),
            "error": generation.error.to_json() if generation.error is not None else None}


def journal_entry_json(entry: JournalEntry, engine: TaskEngine) -> dict[str, Any]:
    """A journal entry as the admin API shows it; an entry submitting a task some of whose
    input URLs could not be reached also lists them (``standIns``, each with its taskUUID)."""
    shown = entry.to_json()
    if entry.kind == "sent" or "getResponse" in entry.task_types:
        return shown
    stand_ins = [{"taskUUID": task_uuid, **stand_in} for task_uuid in entry.task_uuids
                 if engine.holds(task_uuid) for stand_in in engine.find(task_uuid).stand_ins]
    if stand_ins:
        shown["standIns"] = stand_ins
    return shown
