"""Recovery at start: the tasks the store kept, back in the engine.

Finished tasks come back as they were reported. A task still processing waits for the due
time it had (at once if that passed while the emulator was down), then is run again by its
task type: measured anew (its inputs fetched again, from the request as it was sent) and
produced. A result whose file was never made (made at its first download) has it made, when
it is fetched, by its task run again: results are a function of the task and the seed, so it
is the same file.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runware_mock.contract.errors import ApiRefusal
from runware_mock.contract.request_types import TaskRequest
from runware_mock.engine.lifecycle import (
    Generation,
    Reviver,
    Task,
    TaskFinished,
    TaskNotFound,
    Work,
    WorkFailed,
)
from runware_mock.engine.task_faults import NO_FAULTS, TaskFaults
from runware_mock.faults import Fault
from runware_mock.handling.task_type import TaskServices
from runware_mock.media.facade import MediaInputError
from runware_mock.media.file_store import REQUESTER
from runware_mock.store.database import decode
from runware_mock.store.file_table import FileRow, FileTable
from runware_mock.store.task_table import TaskTable

log = logging.getLogger("runware_mock.recovery")


@dataclass(frozen=True)
class Recovered:
    tasks: int
    waiting: int


async def recover(services: TaskServices, table: TaskTable, files: FileTable) -> Recovered:
    engine, revive = services.engine, _reviver(services, table)

    def thaw(task_uuid: str, owner: str, state: bytes) -> Task:
        decoded = decode(state)
        return engine.restore(task_uuid, owner, decoded, _faults(decoded["faults"]), revive)

    waiting = 0
    # Paused while the store is read: 100,000 tasks are a million new objects, every one of
    # them kept, which the collector would otherwise scan again and again as they are made
    # (three times the time, measured).
    collecting = gc.isenabled()
    gc.disable()
    try:
        rows, file_rows = await asyncio.to_thread(_read, table, files)
        for task_uuid, owner, finished_at, state in rows:
            if finished_at is not None and not _may_owe_delivery(state):
                engine.keep_cold(task_uuid, owner, finished_at, state, thaw)
            else:
                waiting += not thaw(task_uuid, owner, state).finished
        services.media.store.restore(file_rows, _remaker(services, table))
    finally:
        if collecting:
            gc.enable()
    if rows:
        log.info("recovered %d tasks from the store, %d of them still processing",
                 len(rows), waiting)
    return Recovered(len(rows), waiting)


def _may_owe_delivery(state: bytes) -> bool:
    """Whether a finished task's request has a webhook or an upload (decoded at start, to
    deliver what it may still owe). The keys as its encoding writes them: the same words in
    a string value are escaped (``\\"webhookURL\\"``), so do not match."""
    if isinstance(state, str):  # TEXT, as a store written by hand may hold it
        state = state.encode()
    return b'"webhookURL":' in state or b'"uploadEndpoint":' in state


def _read(table: TaskTable, files: FileTable) -> tuple[list[tuple[str, str, float | None, bytes]],
                                                       list[FileRow]]:
    return table.load(), files.load()


def _reviver(services: TaskServices, table: TaskTable) -> Reviver:
    """Gives a restored task its work again, made from the request as it was sent; a task
    its task type cannot run again fails."""
    async def revive(task: Task) -> None:
        again = await _work_again(services, table, task)
        if isinstance(again, str):
            with contextlib.suppress(TaskFinished):
                services.engine.fail_now(task.task_uuid, "internalServerError",
                                         "The emulator could not run this task again after a "
                                         f"restart: {again}")
            return
        # Measured as its owner, as when it was submitted: uploads belong to an API key.
        requester = REQUESTER.set(task.owner)
        try:
            services.engine.resume(task, *again)
        finally:
            REQUESTER.reset(requester)
    return revive


async def _work_again(services: TaskServices, table: TaskTable,
                      task: Task) -> tuple[Work, TaskRequest] | str:
    """The task's work made anew from its request as it was sent, with that request; or why
    it cannot be."""
    request = await table.sent(task.task_uuid) or task.request
    task_type = services.task_types.get(task.task_type)
    if task_type is None or task_type.work is None:
        return f"{task.task_type} has no work to run again"
    try:
        return task_type.work(request, services), request
    except ApiRefusal as refused:
        return refused.problem.message


def _remaker(services: TaskServices,
             table: TaskTable) -> Callable[[str, int], Coroutine[Any, Any, Path]]:
    """For a file not made before the restart: ``remake(taskUUID, index)`` runs its task
    again to make it."""
    async def remake(task_uuid: str, index: int) -> Path:
        try:
            task = services.engine.find(task_uuid)
        except TaskNotFound:
            raise MediaInputError("taskUUID", f"task {task_uuid} is gone") from None
        return await _made_again(services, table, task, task.generations[index])
    return remake


async def _made_again(services: TaskServices, table: TaskTable, task: Task,
                      generation: Generation) -> Path:
    assert generation.file is not None
    kind, item_uuid = generation.file
    again = await _work_again(services, table, task)
    if isinstance(again, str):
        raise MediaInputError("taskUUID", f"the file of task {task.task_uuid} cannot be made "
                              f"again after a restart: {again}")
    work = again[0]
    store, now = services.media.store, services.engine.clock.now()
    restored = store.find_pending(kind, item_uuid, now)
    expires_at = restored.expires_at if restored is not None else None
    requester = REQUESTER.set(task.owner)
    try:
        if work.measured_now() is None:
            await work.measure()
        # Published again under the same UUID: its maker now is the task type's own.
        await work.produce(generation, lambda: expires_at)  # type: ignore[arg-type,return-value]
    except WorkFailed as exc:
        raise MediaInputError("taskUUID", exc.problem.message) from exc
    finally:
        REQUESTER.reset(requester)
    served = store.find(kind, item_uuid, now)
    if served is not None:
        return served.path
    pending = store.find_pending(kind, item_uuid, now)
    if pending is None or pending is restored:
        raise MediaInputError("taskUUID", f"the file of task {task.task_uuid} was not made "
                              "again after a restart")
    return await pending.make()


def _faults(state: dict | None) -> TaskFaults:
    if state is None:
        return NO_FAULTS
    return TaskFaults(*(Fault.from_state(part) if part is not None else None
                        for part in (state["task"], state["delivery"])))
