"""A textInference task answered as Server-Sent Events (``deliveryMethod: "stream"`` over
REST), the framing every SDK's parser accepts (docs/text.md):

    data: {"taskType":"textInference","taskUUID":"…","delta":{"text":"Hel"}}

    data: {"taskType":"textInference","taskUUID":"…","delta":{},"finishReason":"stop",
           "usage":{…},"cost":…}

    data: [DONE]

One delta per token. The task runs in the engine like any other (getResponse, webhooks and
the admin API see it); its deltas are spread evenly over its latency on the simulated clock,
and the final chunk (finishReason, usage, cost) is sent once the engine finished it, so the
streamed text is the text getResponse reports. A task that fails (an injected ``task_error``
or ``stream_cut``, an admin fail) ends the stream with ``data: {"errors":[E],"error":E}``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from runware_mock.contract.errors import ApiError, error
from runware_mock.engine.lifecycle import ERROR, Generation, Task, TaskEngine, TaskFinished
from runware_mock.engine.task_faults import stream_cut_error
from runware_mock.handling.task_type import TaskServices, generation_error
from runware_mock.protocol import jsoncodec

DONE = b"data: [DONE]\n\n"

# The text of a generation, as its stream sends it (one delta each).
Deltas = Callable[[Generation], list[str]]


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + jsoncodec.dumps(payload) + b"\n\n"


def error_event(problem: ApiError) -> bytes:
    """Both keys: runware-sdk and @runware/sdk read ``errors``, runware 0.5 reads ``error``."""
    body = problem.to_json()
    return event({"errors": [body], "error": body})


async def text_events(task: Task, services: TaskServices,
                      deltas: Deltas) -> AsyncIterator[bytes]:
    engine = services.engine
    loop = asyncio.get_running_loop()
    # A stream is held no longer than a sync answer (--sync-timeout, in real seconds).
    give_up = loop.time() + services.settings.sync_timeout
    head = {"taskType": task.task_type, "taskUUID": task.sent_uuid}
    several = len(task.generations) > 1
    planned = [(generation, piece) for generation in task.generations
               for piece in deltas(generation)]
    cut_after = _cut_after(task)
    # An instant task may have failed before its stream began (the ack waited for the store).
    failed_first = _failed(task) if task.finished else None
    for sent, (generation, piece) in enumerate(planned):
        if sent == cut_after:
            _cut(engine, task)
            if _failed(task) is not None:
                break
        due = _due(task, sent + 1, len(planned))
        if not await _until(engine, task, due, give_up - loop.time()):
            yield _timed_out(task, services)
            return
        if _stops(task, due, failed_first):
            break
        chunk = {**head, "delta": {"text": piece}}
        if several:
            chunk["resultIndex"] = generation.index
        yield event(chunk)
    if cut_after is not None and cut_after >= len(planned):
        _cut(engine, task)
    if not await _until(engine, task, None, give_up - loop.time()):
        yield _timed_out(task, services)
        return
    failed = _failed(task)
    if failed is not None:
        yield error_event(generation_error(task, failed))
        return
    for generation in task.generations:
        yield event(_final(head, generation, several))
    yield DONE


def _timed_out(task: Task, services: TaskServices) -> bytes:
    return error_event(error(
        "timeoutProvider", f"The task did not finish within {services.settings.sync_timeout:g}"
        " s, the longest a stream is held (--sync-timeout); it goes on: poll it with "
        "getResponse.", task_type=task.task_type, task_uuid=task.sent_uuid))


def _final(head: dict[str, Any], generation: Generation, several: bool) -> dict[str, Any]:
    result = generation.result or {}
    chunk = {**head, "delta": {}, "finishReason": result.get("finishReason", "stop"),
             "usage": result.get("usage")}
    if "cost" in result:
        chunk["cost"] = result["cost"]
    if several:
        chunk["resultIndex"] = generation.index
    return chunk


def _stops(task: Task, due: float | None, failed_first: Generation | None) -> bool:
    """Whether the stream ends before this chunk: the task failed while streaming (a cut, an
    admin fail), or, having failed before the stream began, before this chunk was due (the
    text written before a failure is still sent)."""
    failed = _failed(task) if task.finished else None
    if failed is None:
        return False
    if failed is not failed_first or due is None or failed.finished_at is None:
        return True
    return failed.finished_at < due


def _failed(task: Task) -> Generation | None:
    return next((g for g in task.generations if g.status == ERROR and g.error is not None),
                None)


def _cut_after(task: Task) -> int | None:
    fault = task.faults.task
    if fault is None or fault.name != "stream_cut":
        return None
    return int(fault["after"])


def _cut(engine: TaskEngine, task: Task) -> None:
    """Fail the task with its stream_cut error now (if it did not fail so already, at its due
    time); finished first (an admin complete), the stream goes on to its end."""
    fault = task.faults.task
    assert fault is not None
    problem = stream_cut_error(fault)
    with contextlib.suppress(TaskFinished):
        engine.fail_now(task.task_uuid, problem.code, problem.message)


def _due(task: Task, chunk: int, chunks: int) -> float | None:
    """When chunk ``chunk`` (1-based) of ``chunks`` is sent: its share of the latency. None
    while the task has no ready time (it never finishes by itself: only its end sends)."""
    if task.ready_at is None:
        return None
    return task.submitted_at + (task.ready_at - task.submitted_at) * chunk / chunks


async def _until(engine: TaskEngine, task: Task, deadline: float | None,
                 seconds_left: float) -> bool:
    """Wait for ``deadline`` on the simulated clock (None: for the task's end), or until the
    task ends sooner (an admin complete sends the rest at once). False when ``seconds_left``
    (real seconds) ran out first."""
    if task.finished or (deadline is not None and deadline <= engine.clock.now()):
        return True
    if seconds_left <= 0:
        return False
    waits = [asyncio.ensure_future(engine.wait_finished(task))]
    if deadline is not None:
        waits.append(asyncio.ensure_future(engine.clock.sleep_until(deadline)))
    try:
        done, _ = await asyncio.wait(waits, timeout=seconds_left,
                                     return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
    return bool(done)
