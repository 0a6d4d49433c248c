"""Submitting a task whose results the engine produces, and answering as its
``deliveryMethod`` asks: ``async`` with the ack at once (results by getResponse, webhook or
pushed frame), ``sync`` with the results themselves once they exist.

Every task type with results goes through here, so conflicts, injected faults, acks and
result replies are the same for all of them.
"""

from __future__ import annotations

import asyncio

from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import TaskRequest
from runware_mock.engine.lifecycle import ERROR, Task, TaskConflict, TaskNotFound, Work
from runware_mock.engine.task_faults import NO_FAULTS, TaskFaults
from runware_mock.faults import DELIVERY, TASK
from runware_mock.faults.traffic import task_traffic
from runware_mock.handling.reporting import result_item
from runware_mock.handling.task_type import Context, TaskServices, generation_error
from runware_mock.protocol.envelope import Reply, succeeded
from runware_mock.store.database import StoreError
from runware_mock.store.health import StoreUnwritable, refusal


async def submit(task: TaskRequest, context: Context, services: TaskServices,
                 work: Work) -> Reply:
    """``task`` is validated, its defaults applied (``deliveryMethod`` among them)."""
    submitted = await accept_committed(task, context, services, work)
    if task.get("deliveryMethod", "async") == "async":
        # The ack carries no *URL key and no status: SDKs would take either for a result.
        return succeeded({"taskType": submitted.task_type, "taskUUID": submitted.sent_uuid})
    return await _when_finished(submitted, services)


def accept(task: TaskRequest, context: Context, services: TaskServices,
           work: Work) -> Task:
    """The task handed to the engine (its faults chosen); a reused taskUUID is refused
    (``conflictTaskUUID``). ``submit`` answers it as its deliveryMethod asks; a streamed answer
    (textInference) follows it chunk by chunk instead."""
    try:
        # Checked first, so a resent task draws no faults.
        if services.engine.holds(task["taskUUID"]):
            raise TaskConflict(task["taskUUID"])
        services.accounts.check_credit(context.owner, task)
        return services.engine.submit(context.owner, task, work,
                                      _pick_faults(task, context, services))
    except TaskConflict:
        raise ApiRefusal(error(
            "conflictTaskUUID",
            f"taskUUID {task['taskUUID']} was already used: every task needs a new UUID v4.",
            parameter="taskUUID", type="string")) from None


async def accept_committed(task: TaskRequest, context: Context, services: TaskServices,
                      work: Work) -> Task:
    """``accept``, once the store has the task: whatever answers it (an ack, the first
    streamed chunk) tells the client a task that survives a crash."""
    accepted = accept(task, context, services, work)
    try:
        await services.engine.committed()
    except StoreUnwritable as exc:
        # Refused without a trace: acknowledged, it would run but be lost at a restart.
        services.engine.withdraw(accepted)
        raise ApiRefusal(refusal(services.health, exc)) from exc
    except StoreError as exc:
        services.engine.withdraw(accepted)
        raise ApiRefusal(error(
            "internalServerError", f"The emulator could not keep this task: {exc}.")) from exc
    return accepted


def owned_task(task_uuid: str, context: Context, services: TaskServices) -> Task:
    """The task this API key submitted under ``task_uuid`` (getResponse, getTaskDetails)."""
    try:
        return services.engine.get(context.owner, task_uuid)
    except TaskNotFound:
        raise ApiRefusal(error(
            "taskNotFound",
            f"No task with taskUUID {task_uuid} for this API key (never submitted, submitted "
            "with another key, answered at once, or expired).", parameter="taskUUID")) from None


def results(task: Task, services: TaskServices) -> Reply:
    """Every generation so far: an item (processing or succeeded), or the error that ended it
    (getResponse's answer, and a sync task's)."""
    reply = Reply()
    for generation in task.generations:
        if generation.status == ERROR and generation.error is not None:
            reply.errors.append(generation_error(task, generation))
        else:
            reply.data.append(result_item(services, task, generation))
    return reply


async def _when_finished(task: Task, services: TaskServices) -> Reply:
    try:
        async with asyncio.timeout(services.settings.sync_timeout):
            await services.engine.wait_finished(task)
    except TimeoutError:
        raise ApiRefusal(error(
            "timeoutProvider", f"The task did not finish within {services.settings.sync_timeout:g}"
            " s, the longest a sync request is held (--sync-timeout); it goes on: poll it with "
            "getResponse.")) from None
    return results(task, services)


def _pick_faults(task: TaskRequest, context: Context, services: TaskServices) -> TaskFaults:
    """Decided at submit, so the journal shows them beside the request that caused them."""
    faults = services.faults
    if not faults.armed(context.header_faults):
        return NO_FAULTS
    traffic = task_traffic(task, context.owner, context.transport)
    chosen = TaskFaults(task=faults.pick(TASK, traffic, context.header_faults),
                        delivery=faults.pick(DELIVERY, traffic, context.header_faults))
    context.fired.extend(chosen.fired())
    return chosen
