"""``videoInference``: a task whose videos come later, acknowledged at once and reported per
generation (getResponse, webhook, upload, pushed frame)."""

from __future__ import annotations

from typing import Any

from runware_mock.contract.errors import error
from runware_mock.engine.lifecycle import SUCCESS, Generation, Task, TaskConflict
from runware_mock.engine.task_faults import NO_FAULTS, TaskFaults
from runware_mock.faults import DELIVERY, TASK
from runware_mock.faults.traffic import task_traffic
from runware_mock.protocol.envelope import Reply, failed, succeeded
from runware_mock.tasks.base import Context, TaskServices, TaskType, scoped


async def video_inference(task: dict[str, Any], context: Context,
                          services: TaskServices) -> Reply:
    try:
        if services.engine.holds(task["taskUUID"]):
            raise TaskConflict(task["taskUUID"])
        submitted = services.engine.submit(context.owner, task,
                                           _pick_faults(task, context, services))
    except TaskConflict:
        return failed(scoped(error(
            "conflictTaskUUID",
            f"taskUUID {task['taskUUID']} was already used: every task needs a new UUID v4.",
            parameter="taskUUID", type="string"), task))
    # The ack carries no *URL key and no status: SDKs would take either for a result.
    return succeeded({"taskType": "videoInference", "taskUUID": submitted.sent_uuid})


def _pick_faults(task: dict[str, Any], context: Context, services: TaskServices) -> TaskFaults:
    """Decided at submit, so the journal shows them beside the request that caused them."""
    faults = services.faults
    if not faults.armed(context.header_faults):
        return NO_FAULTS
    traffic = task_traffic(task, context.owner, context.transport)
    chosen = TaskFaults(task=faults.pick(TASK, traffic, context.header_faults),
                        delivery=faults.pick(DELIVERY, traffic, context.header_faults))
    context.fired.extend(chosen.fired())
    return chosen


def video_item(services: TaskServices, task: Task, generation: Generation) -> dict[str, Any]:
    item: dict[str, Any] = {"taskType": task.task_type, "taskUUID": task.sent_uuid,
                            "status": generation.status}
    if generation.status == SUCCESS:
        item.update(videoUUID=generation.video_uuid, videoURL=generation.video_url,
                    seed=generation.seed)
        if generation.cost is not None:
            item["cost"] = generation.cost
    else:
        item["progress"] = services.engine.progress(task, generation)
    return item


TASK_TYPE = TaskType("videoInference", None, video_inference, result_item=video_item,
                     watches_task=True)
