"""The task engine: lifecycle of avatar tasks, from ack to a terminal state per generation.

Each accepted task runs in its own asyncio task: resolve and probe inputs, draw a latency per
generation, render, wait on the simulated clock, then succeed. Every path ends in a terminal
state (success or error) for every generation, so no accepted task is ever lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contract.errors import ApiError, error
from mockserver.clock import Clock
from mockserver.cost import cost
from mockserver.faults.effects import TaskFaults
from mockserver.latency import parse_profile
from mockserver.media.service import Media, MediaInputError, PreparedInputs
from mockserver.randomness import Randomness
from mockserver.settings import Settings

log = logging.getLogger("runware_mock.engine")

PROCESSING, SUCCESS, ERROR = "processing", "success", "error"
# Characters of an input string kept with a task: any URL or UUID fits; base64 media does not.
_INLINE_KEPT = 2048


@dataclass
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
    # Resolved when the latency is over, or at once by complete_now / fail_now.
    ready: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future(),
        repr=False, compare=False)

    def wake(self) -> None:
        if not self.ready.done():
            self.ready.set_result(None)


@dataclass
class Task:
    owner: str
    task_uuid: str
    request: dict[str, Any]
    submitted_at: float
    generations: list[Generation]
    audio_seconds: float | None = None
    runner: asyncio.Task[None] | None = field(default=None, repr=False)
    faults: TaskFaults = field(default_factory=TaskFaults)

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


class _Settled(Exception):
    """A generation was failed from outside while its runner was still working."""


Listener = Callable[[Task, Generation], None]


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
                    faults=faults or TaskFaults())
        self._tasks[task_uuid] = task
        task.runner = asyncio.get_running_loop().create_task(self._run(task))
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
            generation.wake()
        return task

    def fail_now(self, task_uuid: str, code: str, message: str) -> Task:
        """Fail every generation still processing, at once, with this error."""
        task = self._processing(task_uuid)
        problem = error(code, message)
        for generation in task.generations:
            if generation.status == PROCESSING:
                generation.error = problem
                self._finish(task, generation, ERROR)
                # The runner may still be rendering; waking it lets it see the error and stop.
                generation.wake()
        return task

    async def wait_finished(self, task: Task) -> Task:
        if task.runner is not None and not task.runner.done():
            await asyncio.wait({task.runner})
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

    async def _wait_until_ready(self, task: Task, generation: Generation) -> None:
        if not task.faults.never_finishes:
            # A never-finishing task has no alarm: only complete_now or fail_now wake it.
            self._clock.resolve_at(generation.ready_at or 0.0, generation.ready)
        await generation.ready
        if generation.status != PROCESSING:
            raise _Settled(f"generation {generation.index} was settled from outside")

    async def close(self) -> None:
        runners = [t.runner for t in self._tasks.values() if t.runner and not t.runner.done()]
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)

    async def _run(self, task: Task) -> None:
        try:
            inputs = await self._media.prepare(task.request["inputs"]["image"],
                                               task.request["inputs"]["audio"])
            task.audio_seconds = inputs.audio_info.seconds
            for generation in task.generations:
                rng = self._random.stream("latency", task.task_uuid, generation.index)
                latency = self._profile.latency(rng, task.audio_seconds, self._settings.time_scale)
                latency = task.faults.latency(latency, self._settings.time_scale)
                if not task.faults.never_finishes:
                    generation.ready_at = task.submitted_at + latency
        except MediaInputError as exc:
            self._fail_all(task, error(exc.code, str(exc), parameter=exc.parameter))
            return
        except Exception as exc:
            self._fail_all(task, _internal(task, exc))
            return
        finally:
            task.request["inputs"] = _without_inline_data(task.request["inputs"])
        if len(task.generations) == 1:
            await self._generate_safely(task, task.generations[0], inputs)
        else:
            await asyncio.gather(*(self._generate_safely(task, g, inputs)
                                   for g in task.generations))

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
        # The render starts once the latency is over: a long simulated latency costs no CPU,
        # and a flood of submits does not queue renders that are not yet due.
        await self._wait_until_ready(task, generation)
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
            generation.cost = cost(request["model"], inputs.audio_info.seconds)
        self._finish(task, generation, SUCCESS)

    def _fail_all(self, task: Task, problem: ApiError) -> None:
        for generation in task.generations:
            if generation.status == PROCESSING:
                generation.error = problem
                self._finish(task, generation, ERROR)

    def _finish(self, task: Task, generation: Generation, status: str) -> None:
        generation.status = status
        generation.finished_at = self._clock.now()
        for listener in self._listeners:
            try:
                listener(task, generation)
            except Exception:
                log.exception("a task listener failed")


def _without_inline_data(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inline media (base64, data URIs) summarised once the inputs are on disk: a kept task
    must not hold megabytes of base64 for its whole retention."""
    return {name: value if len(value) <= _INLINE_KEPT else
            f"{value[:_INLINE_KEPT]}... [{len(value)} characters, inline data not kept]"
            for name, value in inputs.items()}


def _internal(task: Task, exc: Exception) -> ApiError:
    log.error("task %s failed inside the emulator", task.task_uuid, exc_info=exc)
    return error("internalServerError", f"The emulator failed to run this task: {exc}")
