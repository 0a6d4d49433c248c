"""The task engine: lifecycle of avatar tasks, from ack to a terminal state per generation.

An accepted task is prepared at once (resolve and probe its inputs, draw a latency per
generation): during the submit when its inputs are local files already measured, else in a
short asyncio task. Then each generation waits as an alarm on the simulated clock,
holding no task, future or coroutine, so thousands of pending tasks stay cheap. When a
generation is due, a render task starts, and the generation succeeds once the video is
published. Every path ends in a terminal state (success or error) for every generation, so no
accepted task is ever lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from runware_mock.contract import catalog
from runware_mock.contract.errors import ApiError, error
from runware_mock.engine.clock import Alarm, Clock
from runware_mock.engine.latency import parse_profile
from runware_mock.engine.randomness import Randomness
from runware_mock.engine.task_faults import NO_FAULTS, TaskFaults
from runware_mock.media.limits import input_limits
from runware_mock.media.service import Media, MediaInputError, PreparedInputs
from runware_mock.settings import Settings

log = logging.getLogger("runware_mock.engine")

PROCESSING, SUCCESS, ERROR = "processing", "success", "error"
# Characters of an input string kept with a task: any URL or UUID fits; base64 media does not.
_INLINE_KEPT = 2048


@dataclass(slots=True, eq=False)
class Generation:
    index: int
    seed: int
    status: str = PROCESSING
    ready_at: float | None = None
    progress: int = 0
    video_uuid: str | None = None
    video_url: str | None = None
    cost: float | None = None
    error: ApiError | None = None
    finished_at: float | None = None
    # Waiting out the latency: the clock alarm that starts the render.
    alarm: Alarm | None = field(default=None, repr=False)
    # complete_now came while the inputs were still being prepared.
    due_now: bool = False
    rendering: bool = False


@dataclass(slots=True, eq=False)
class Task:
    owner: str
    task_uuid: str
    request: dict[str, Any]
    submitted_at: float
    generations: list[Generation]
    audio_seconds: float | None = None
    faults: TaskFaults = NO_FAULTS
    inputs: PreparedInputs | None = field(default=None, repr=False)
    # Futures of wait_finished callers: None until someone waits.
    waiters: list[asyncio.Future[None]] | None = field(default=None, repr=False)

    @property
    def task_type(self) -> str:
        return str(self.request["taskType"])

    @property
    def sent_uuid(self) -> str:
        """The taskUUID as the client wrote it: replies echo it, so clients matching replies
        by string equality find theirs (``task_uuid`` is the lower-case key)."""
        return str(self.request["taskUUID"])

    @property
    def finished(self) -> bool:
        return all(g.status != PROCESSING for g in self.generations)


class TaskConflict(Exception):
    pass


class TaskNotFound(Exception):
    pass


class TaskFinished(Exception):
    """The task has no generation left processing, so it cannot be completed or failed."""


Listener = Callable[[Task, Generation], None]
# A finished generation as the client is told of it (``{"data":[item]}`` or
# ``{"errors":[error]}``), by its task type: given to whoever delivers results.
ResultBody = Callable[[Task, Generation], dict[str, Any]]


class TaskEngine:
    def __init__(self, settings: Settings, clock: Clock, randomness: Randomness,
                 media: Media) -> None:
        self._settings = settings
        self._clock = clock
        self._random = randomness
        self._media = media
        self._profile = parse_profile(settings.latency)
        self._tasks: dict[str, Task] = {}
        self._listeners: list[Listener] = []
        # Strong references to the running prepare and render tasks (the loop keeps weak ones).
        self._running: set[asyncio.Task[None]] = set()
        # Bound once: a bound method in every alarm would be one more object per pending
        # task for the garbage collector to scan.
        self._due = self._on_due

    def subscribe(self, listener: Listener) -> None:
        """Called once per generation when it reaches a terminal state."""
        self._listeners.append(listener)

    def submit(self, owner: str, request: dict[str, Any],
               faults: TaskFaults | None = None) -> Task:
        task_uuid = str(request["taskUUID"]).lower()
        if self.holds(task_uuid):
            raise TaskConflict(task_uuid)
        generations = [Generation(i, self._random.result_seed(task_uuid, i))
                       for i in range(int(request.get("numberResults", 1)))]
        task = Task(owner, task_uuid, request, self._clock.now(), generations,
                    faults=faults or NO_FAULTS)
        inputs = self._media.prepared_now(request["inputs"]["image"], request["inputs"]["audio"],
                                          input_limits(request["model"]))
        if inputs is not None:
            self._schedule(task, inputs)
        self._tasks[task_uuid] = task
        if inputs is None:
            self._start(self._prepare(task))
        return task

    def holds(self, task_uuid: str) -> bool:
        """Whether this taskUUID was already used (by any owner)."""
        return task_uuid.lower() in self._tasks

    def get(self, owner: str, task_uuid: str) -> Task:
        task = self._tasks.get(task_uuid.lower())
        if task is None or task.owner != owner:
            raise TaskNotFound(task_uuid)
        return task

    def tasks(self) -> list[Task]:
        return list(self._tasks.values())

    def progress(self, task: Task, generation: Generation) -> int:
        """0-99 while processing, never decreasing between calls; 100 once terminal."""
        if generation.status != PROCESSING:
            return 100
        if generation.ready_at is not None:
            span = generation.ready_at - task.submitted_at
            elapsed = self._clock.now() - task.submitted_at
            estimate = 99 if span <= 0 else min(99, int(100 * elapsed / span))
            generation.progress = max(generation.progress, estimate)
        return generation.progress

    def sweep(self) -> int:
        """Forget finished tasks older than the retention; returns how many were dropped."""
        horizon = self._clock.now() - self._settings.task_retention
        stale = [uuid for uuid, task in self._tasks.items()
                 if task.finished and max(g.finished_at or 0 for g in task.generations) < horizon]
        for uuid in stale:
            del self._tasks[uuid]
        self._media.store.sweep(self._clock.now())
        return len(stale)

    def find(self, task_uuid: str) -> Task:
        """A task of any owner (for the admin API)."""
        task = self._tasks.get(task_uuid.lower())
        if task is None:
            raise TaskNotFound(task_uuid)
        return task

    def complete_now(self, task_uuid: str) -> Task:
        """Finish without waiting for the latency. The video is still rendered, so the task
        ends when the render does; await ``wait_finished`` for that."""
        task = self._processing(task_uuid)
        for generation in task.generations:
            if generation.status == PROCESSING:
                self._render_now(task, generation)
        return task

    def fail_now(self, task_uuid: str, code: str, message: str) -> Task:
        """Fail every generation still processing, at once, with this error."""
        task = self._processing(task_uuid)
        problem = error(code, message)
        for generation in task.generations:
            if generation.status == PROCESSING:
                # A render in progress finishes unseen: it finds the generation settled.
                generation.error = problem
                self._finish(task, generation, ERROR)
        return task

    async def wait_finished(self, task: Task) -> Task:
        if not task.finished:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            task.waiters = [*(task.waiters or ()), waiter]
            await waiter
        return task

    async def reset(self) -> None:
        """Stop and forget every task."""
        await self.close()
        self._tasks.clear()

    def _processing(self, task_uuid: str) -> Task:
        task = self.find(task_uuid)
        if task.finished:
            raise TaskFinished(task_uuid)
        return task

    async def close(self) -> None:
        for task in self._tasks.values():
            for generation in task.generations:
                self._disarm(generation)
        running = list(self._running)
        for runner in running:
            runner.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        runner = asyncio.get_running_loop().create_task(work)
        self._running.add(runner)
        runner.add_done_callback(self._running.discard)

    async def _prepare(self, task: Task) -> None:
        """Fetch, decode and measure the inputs, then schedule the generations."""
        try:
            inputs = task.request["inputs"]
            self._schedule(task, await self._media.prepare(
                inputs["image"], inputs["audio"], input_limits(task.request["model"])))
        except MediaInputError as exc:
            self._fail_all(task, error(exc.code, str(exc), parameter=exc.parameter))
        except Exception as exc:
            self._fail_all(task, _internal(task, exc))
        finally:
            task.request["inputs"] = _without_inline_data(task.request["inputs"])

    def _schedule(self, task: Task, inputs: PreparedInputs) -> None:
        """Each generation waits for the alarm its latency sets (unless it is due already)."""
        task.inputs = inputs
        task.audio_seconds = inputs.audio_info.seconds
        for generation in task.generations:
            if generation.status != PROCESSING:
                continue
            if generation.due_now:
                self._render_now(task, generation)
            elif not task.faults.never_finishes:
                # A never-finishing task has no alarm (nor progress): only complete_now or
                # fail_now end it.
                generation.ready_at = self._ready_at(task, generation)
                generation.alarm = self._clock.call_at(generation.ready_at, self._due, task,
                                                       generation)

    def _ready_at(self, task: Task, generation: Generation) -> float:
        draws = self._random.draws("latency", task.task_uuid, generation.index)
        latency = self._profile.latency(draws, task.audio_seconds or 0.0,
                                        self._settings.time_scale)
        return task.submitted_at + task.faults.latency(latency, self._settings.time_scale)

    def _on_due(self, task: Task, generation: Generation) -> None:
        generation.alarm = None
        if generation.status == PROCESSING:
            self._render_now(task, generation)

    def _render_now(self, task: Task, generation: Generation) -> None:
        """Start the render at once (or as soon as the inputs are ready), alarm or not."""
        self._disarm(generation)
        if task.inputs is None:
            generation.due_now = True
        elif not generation.rendering:
            generation.rendering = True
            self._start(self._generate_safely(task, generation, task.inputs))

    def _disarm(self, generation: Generation) -> None:
        if generation.alarm is not None:
            self._clock.cancel(generation.alarm)
            generation.alarm = None

    async def _generate_safely(self, task: Task, generation: Generation,
                               inputs: PreparedInputs) -> None:
        try:
            await self._generate(task, generation, inputs)
        except Exception as exc:
            if generation.status == PROCESSING:
                generation.error = _internal(task, exc)
                self._finish(task, generation, ERROR)

    async def _generate(self, task: Task, generation: Generation, inputs: PreparedInputs) -> None:
        request = task.request
        label = (f"task {task.task_uuid[:8]}  result {generation.index + 1}/"
                 f"{len(task.generations)}  seed {generation.seed}")
        injected = task.faults.error_for(generation.index)
        if injected is not None:
            generation.error = injected
            self._finish(task, generation, ERROR)
            return
        path = await self._media.render(inputs, request["outputFormat"],
                                        request["outputQuality"], label)
        if generation.status != PROCESSING:
            return
        ttl = request.get("ttl", self._settings.default_ttl)
        generation.video_uuid, generation.video_url = self._media.publish_video(
            path, request["outputFormat"], self._clock.now() + ttl)
        if request.get("includeCost"):
            generation.cost = catalog.model(request["model"]).price.of(inputs.audio_info.seconds)
        self._finish(task, generation, SUCCESS)

    def _fail_all(self, task: Task, problem: ApiError) -> None:
        for generation in task.generations:
            if generation.status == PROCESSING:
                generation.error = problem
                self._finish(task, generation, ERROR)

    def _finish(self, task: Task, generation: Generation, status: str) -> None:
        generation.status = status
        generation.finished_at = self._clock.now()
        self._disarm(generation)
        for listener in self._listeners:
            try:
                listener(task, generation)
            except Exception:
                log.exception("a task listener failed")
        if task.waiters and task.finished:
            for waiter in task.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            task.waiters = None


def _without_inline_data(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inline media (base64, data URIs) summarised once the inputs are on disk: a kept task
    must not hold megabytes of base64 for its whole retention."""
    return {name: value if len(value) <= _INLINE_KEPT else
            f"{value[:_INLINE_KEPT]}... [{len(value)} characters, inline data not kept]"
            for name, value in inputs.items()}


def _internal(task: Task, exc: Exception) -> ApiError:
    log.error("task %s failed inside the emulator", task.task_uuid, exc_info=exc)
    return error("internalServerError", f"The emulator failed to run this task: {exc}")
