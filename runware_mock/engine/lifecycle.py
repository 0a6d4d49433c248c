"""The task engine: the lifecycle of every task whose results come later, from the ack to a
terminal state per generation, whatever its task type.

A task type hands the engine its ``Work``: how to measure the task (fetch and check inputs,
and say how long the output lasts, which the latency profiles scale with) and how to produce
one result. An accepted task is measured at once: during the submit when that needs no
waiting, else in a short asyncio task. Then the task waits as one alarm on the simulated
clock, holding no task, future or coroutine, so thousands of pending tasks stay cheap. When
it is due, its results are produced, and all of them succeed (or fail) at the same instant:
a client polling a task of several results sees none or all of them (runware 0.5 counts
results across polls and would count one twice otherwise). Every path ends in a terminal
state for every generation, so no accepted task is ever lost.

Every change of a task is written to the store (``store.tasks``) before anyone is told of it:
the ack waits for the task's commit, and results are reported once their commit is done. What
only this process knows, and several worker processes on one store would have to share or
claim (see issue 18), is marked "one process" below: the alarms waiting on this process's
clock, the produce and measure running here, and the sync requests waiting here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Container, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiError, error
from runware_mock.contract.request_types import TaskRequest
from runware_mock.engine.clock import Alarm, Clock
from runware_mock.engine.latency import UNTYPED_TYPICAL_SECONDS, parse_profile
from runware_mock.engine.randomness import Randomness
from runware_mock.engine.task_faults import NO_FAULTS, TaskFaults
from runware_mock.media.stand_ins import STOOD_IN
from runware_mock.settings import Settings
from runware_mock.store.file_table import FileTable
from runware_mock.store.task_table import TaskTable

log = logging.getLogger("runware_mock.engine")

PROCESSING, SUCCESS, ERROR = "processing", "success", "error"
# The longest a result is served, in seconds (a year: the schemas' bound on ttl).
LONGEST_TTL = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Produced:
    """One result: the fields its item reports (UUID, URL or data, seed...), its price, and
    the file behind it, for an ``uploadEndpoint`` (``(kind, uuid)`` as the media store has it)."""

    fields: dict[str, Any]
    cost: float | None = None
    file: tuple[str, str] | None = None


# When a file published now expires: the task's ttl counts from the moment its file exists.
Expiry = Callable[[], float]


class WorkFailed(Exception):
    """The task cannot be run (an input that cannot be used, say): every result fails so."""

    def __init__(self, problem: ApiError) -> None:
        super().__init__(problem.message)
        self.problem = problem


class Work(Protocol):
    """What one task of a task type does, as the engine runs it."""

    def measured_now(self) -> float | None:
        """The output's length in seconds when it is known without waiting, else None."""

    async def measure(self) -> float:
        """Fetch and check what the task needs; the output's length in seconds (0 for media
        without a length). Raises ``WorkFailed``."""

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        """Make one result; a file published at once is kept until ``expiry()``.
        Raises ``WorkFailed``."""

    def forget_inline_data(self) -> None:
        """Drop inline media (base64) once measured: a kept task must not hold megabytes."""


@dataclass(slots=True, eq=False)
class Generation:
    index: int
    seed: int
    status: str = PROCESSING
    progress: int = 0
    result: dict[str, Any] | None = None
    file: tuple[str, str] | None = None
    error: ApiError | None = None
    finished_at: float | None = None
    # Its price, reported or not (includeCost): what its key is charged (handling.accounts).
    cost: float | None = None


@dataclass(slots=True, eq=False)
class Task:
    owner: str
    task_uuid: str
    request: TaskRequest
    submitted_at: float
    generations: list[Generation]
    # None for a task restored finished from the store: it has nothing left to do.
    work: Work | None = field(repr=False)
    faults: TaskFaults = NO_FAULTS
    # Known once the task is measured: the output's length, and when its results are due.
    output_seconds: float | None = None
    ready_at: float | None = None
    # One process: the clock alarm that starts producing the results (the due time itself,
    # ready_at, is in the store, and a restart sets the alarm again from it).
    alarm: Alarm | None = field(default=None, repr=False)
    # One process: complete_now came while the task was still being measured, and whether
    # this process is producing the results (a second producer would make the same results:
    # they are a function of the task and the seed, but the work would be done twice).
    due_now: bool = False
    producing: bool = False
    # Written to the store at least once (a restored task is).
    stored: bool = False
    # A task restored still processing: what gives it its work again (once).
    reviver: Reviver | None = field(default=None, repr=False)
    # One process: futures of wait_finished callers (sync requests held here); None until
    # someone waits.
    waiters: list[asyncio.Future[None]] | None = field(default=None, repr=False)
    # Its ack could not be committed (``TaskEngine.withdraw``): it writes nothing more and tells
    # nobody anything.
    withdrawn: bool = False
    # Inputs whose URL could not be reached, and generated stand-ins took their place
    # (``media.stand_ins``): parameter, url, kind and reason of each.
    stand_ins: list[dict[str, str]] = field(default_factory=list)

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

    @property
    def measured(self) -> bool:
        return self.output_seconds is not None


# Gives a restored task its work again (``TaskEngine.resume``), or fails it.
Reviver = Callable[["Task"], Coroutine[Any, Any, None]]
# Restores a cold task from its stored state: (taskUUID, owner, state) -> the Task now held.
Thaw = Callable[[str, str, bytes], "Task"]


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
                 table: TaskTable, files: FileTable) -> None:
        self._settings = settings
        self._clock = clock
        self._random = randomness
        # The source of truth: every change of a task is written there; ``_tasks`` caches it.
        self._table = table
        self._files = files  # a withdrawn task's outputs not made yet
        self._profile = parse_profile(settings.latency)
        self._tasks: dict[str, Task] = {}
        # Tasks restored finished and not asked for since: their stored state, undecoded, and
        # what makes a Task of it (``keep_cold``). A restart reads a large store in a fraction
        # of the time, and a task is decoded when a poll, a file or the admin API needs it.
        self._cold: dict[str, tuple[float, str, bytes]] = {}
        self._thaw: Thaw | None = None
        self._listeners: list[Listener] = []
        # Strong references to the running measure and produce tasks (the loop keeps weak ones).
        self._running: set[asyncio.Task[None]] = set()
        # Bound once: a bound method in every alarm would be one more object per pending
        # task for the garbage collector to scan.
        self._due = self._on_due

    @property
    def clock(self) -> Clock:
        """The simulated clock latencies run on (a streamed answer paces its chunks by it)."""
        return self._clock

    def subscribe(self, listener: Listener) -> None:
        """Called once per generation when it reaches a terminal state."""
        self._listeners.append(listener)

    def submit(self, owner: str, request: TaskRequest, work: Work,
               faults: TaskFaults | None = None) -> Task:
        task_uuid = str(request["taskUUID"]).lower()
        if self.holds(task_uuid):
            raise TaskConflict(task_uuid)
        generations = [Generation(i, self._random.result_seed(task_uuid, i))
                       for i in range(int(request.get("numberResults", 1)))]
        task = Task(owner, task_uuid, request, self._clock.now(), generations, work,
                    faults=faults or NO_FAULTS)
        self._tasks[task_uuid] = task
        self._begin(task, work)
        if not task.stored:  # else written with its due time already: one row per submit
            self._save(task)
        return task

    async def committed(self) -> None:
        """Wait until the tasks submitted so far are in the store: an ack waits for it."""
        await self._table.committed()

    def withdraw(self, task: Task) -> None:
        """Forget a task whose ack could not be committed, as if it had never
        come: its work stops, nothing of it stays in memory or in the store, nobody is told of
        it, and its taskUUID may be sent again."""
        task.withdrawn = True
        if self._tasks.get(task.task_uuid) is task:
            del self._tasks[task.task_uuid]
        self._disarm(task)
        for runner in self._running:  # its measure or produce, named for it
            if runner.get_name() == task.task_uuid:
                runner.cancel()
        # Rows of it a later batch may have committed (the task measured meanwhile, say).
        self._table.forget([task.task_uuid])
        self._files.forget_outputs(task.task_uuid)

    def restore(self, task_uuid: str, owner: str, state: dict[str, Any],
                faults: TaskFaults, reviver: Reviver) -> Task:
        """A task as the store kept it (``task_state``). One still processing waits for the
        due time it had, without its work: ``reviver(task)`` gives it its work again (calling
        ``resume``) when it is due or completed, or at once if it was never measured. So a
        store of many waiting tasks starts as fast as one of finished tasks."""
        task = Task(owner, task_uuid, state["request"], state["submittedAt"],
                    [_generation(index, saved) for index, saved in enumerate(state["generations"])],
                    None, faults=faults, output_seconds=state["outputSeconds"],
                    ready_at=state["readyAt"], stand_ins=state.get("standIns", []))
        task.reviver, task.stored = reviver, True
        self._tasks[task_uuid] = task
        if task.finished or faults.never_finishes:
            return task
        if task.ready_at is None:
            self._revive(task)
        else:
            task.alarm = self._clock.call_at(task.ready_at, self._due, task)
        return task

    def resume(self, task: Task, work: Work, request: TaskRequest) -> None:
        """Run a restored task again from where it was: measured again (inputs are fetched
        anew, from ``request`` as it was sent, which ``work`` holds), then produced if it is
        due, else due when it was due."""
        task.work, task.request, task.output_seconds = work, request, None
        self._begin(task, work)

    def _revive(self, task: Task) -> None:
        if task.reviver is not None:
            self._start(task.reviver(task))
            task.reviver = None

    def _begin(self, task: Task, work: Work) -> None:
        seconds = work.measured_now()
        if seconds is not None:
            self._schedule(task, seconds)
        else:
            self._start(self._measure(task), task)

    def keep_cold(self, task_uuid: str, owner: str, finished_at: float, state: bytes,
                  thaw: Thaw) -> None:
        """A task restored finished, kept as the store has it until it is asked for:
        ``thaw(task_uuid, owner, state)`` then restores it (``restore``)."""
        self._cold[task_uuid] = (finished_at, owner, state)
        self._thaw = thaw

    async def sent_request(self, task: Task) -> TaskRequest:
        """The task's request as the store has it, inline media included."""
        return await self._table.sent(task.task_uuid) or task.request

    def holds(self, task_uuid: str) -> bool:
        """Whether this taskUUID was already used (by any owner)."""
        key = task_uuid.lower()
        return key in self._tasks or key in self._cold

    def get(self, owner: str, task_uuid: str) -> Task:
        task = self._held(task_uuid.lower())
        if task is None or task.owner != owner:
            raise TaskNotFound(task_uuid)
        return task

    def tasks(self) -> list[Task]:
        """Every task (the cold ones decoded: the admin API and the dashboard list them)."""
        for task_uuid in list(self._cold):
            self._held(task_uuid)
        return list(self._tasks.values())

    def loaded(self) -> list[Task]:
        """The tasks decoded so far: every task not finished, and the finished ones asked for."""
        return list(self._tasks.values())

    def count(self) -> int:
        return len(self._tasks) + len(self._cold)

    def task_uuids(self) -> set[str]:
        return {*self._tasks, *self._cold}

    def _held(self, key: str) -> Task | None:
        task = self._tasks.get(key)
        if task is None and key in self._cold:
            assert self._thaw is not None
            _, owner, state = self._cold.pop(key)
            task = self._thaw(key, owner, state)
        return task

    def progress(self, task: Task, generation: Generation) -> int:
        """0-99 while processing, never decreasing between calls; 100 once terminal."""
        if generation.status != PROCESSING:
            return 100
        if task.ready_at is not None:
            span = task.ready_at - task.submitted_at
            elapsed = self._clock.now() - task.submitted_at
            estimate = 99 if span <= 0 else min(99, int(100 * elapsed / span))
            generation.progress = max(generation.progress, estimate)
        return generation.progress

    def sweep(self, keep: Container[str] = ()) -> int:
        """Forget finished tasks older than the retention, but those in ``keep`` (still
        delivering); returns how many were dropped."""
        horizon = self._clock.now() - self._settings.task_retention
        stale = [uuid for uuid, task in self._tasks.items()
                 if task.finished and uuid not in keep
                 and max(g.finished_at or 0 for g in task.generations) < horizon]
        for uuid in stale:
            del self._tasks[uuid]
        stale_cold = [uuid for uuid, (finished_at, _, _) in self._cold.items()
                      if finished_at < horizon and uuid not in keep]
        for uuid in stale_cold:
            del self._cold[uuid]
        stale += stale_cold
        self._table.forget(stale)
        return len(stale)

    def find(self, task_uuid: str) -> Task:
        """A task of any owner (for the admin API)."""
        task = self._held(task_uuid.lower())
        if task is None:
            raise TaskNotFound(task_uuid)
        return task

    def complete_now(self, task_uuid: str) -> Task:
        """Finish without waiting for the latency. The results are still produced, so the task
        ends when they are; await ``wait_finished`` for that."""
        task = self._processing(task_uuid)
        self._produce_now(task)
        return task

    def fail_now(self, task_uuid: str, code: str, message: str) -> Task:
        """Fail every generation still processing, at once, with this error."""
        task = self._processing(task_uuid)
        # Results being produced finish unseen: they find their generations settled.
        self._fail_all(task, error(code, message))
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
        self._cold.clear()
        self._table.clear()

    def _processing(self, task_uuid: str) -> Task:
        task = self.find(task_uuid)
        if task.finished:
            raise TaskFinished(task_uuid)
        return task

    async def close(self) -> None:
        for task in self._tasks.values():
            self._disarm(task)
        running = list(self._running)
        for runner in running:
            runner.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def _start(self, work: Coroutine[Any, Any, None], task: Task | None = None) -> None:
        runner = asyncio.get_running_loop().create_task(
            work, name=task.task_uuid if task is not None else None)
        self._running.add(runner)
        runner.add_done_callback(self._running.discard)

    async def _measure(self, task: Task) -> None:
        assert task.work is not None
        task.stand_ins.clear()  # measured again after a restart: recorded again
        STOOD_IN.set(task.stand_ins)  # this measure's own context: the media records there
        try:
            seconds = await task.work.measure()
        except Exception as exc:
            self._forget_inline_data(task)
            await self._fail_kept(task, exc.problem if isinstance(exc, WorkFailed)
                                  else _internal(task, exc))
        else:
            self._forget_inline_data(task)
            self._schedule(task, seconds)

    def _forget_inline_data(self, task: Task) -> None:
        """Dropped from memory; the store keeps the request as sent, to run it again."""
        assert task.work is not None
        # Shallow: forget_inline_data replaces the fields it summarises, never edits them.
        sent = dict(task.request)
        task.work.forget_inline_data()
        if task.request != sent:
            self._table.summarise(task.task_uuid, sent)
            self._save(task)

    def _schedule(self, task: Task, output_seconds: float) -> None:
        """The task waits for the alarm its latency sets (unless it is due already)."""
        task.output_seconds = output_seconds
        if task.finished:
            return
        if task.due_now:
            self._produce_now(task)
        elif not task.faults.never_finishes:
            # A never-finishing task has no alarm (nor progress): only complete_now or
            # fail_now end it. A restored task keeps the due time it had.
            if task.ready_at is None:
                task.ready_at = self._ready_at(task)
                self._save(task)
            task.alarm = self._clock.call_at(task.ready_at, self._due, task)

    def _save(self, task: Task, finished_at: float | None = None,
              outcomes: dict[int, str] | None = None) -> None:
        if task.withdrawn:
            return
        task.stored = True
        self._table.save(task.task_uuid, task.owner, task_state(task, outcomes, finished_at),
                          finished_at)

    def _ready_at(self, task: Task) -> float:
        draws = self._random.draws("latency", task.task_uuid)
        # A task names its model (the schemas default it where the client may leave it out).
        family = model_catalog.family_of(task.request.get("model"))
        typical = family.typical_seconds if family is not None else UNTYPED_TYPICAL_SECONDS
        latency = self._profile.latency(draws, task.output_seconds or 0.0,
                                        self._settings.time_scale, typical)
        return task.submitted_at + task.faults.latency(latency, self._settings.time_scale)

    def _on_due(self, task: Task) -> None:
        task.alarm = None
        if not task.finished:
            self._produce_now(task)

    def _produce_now(self, task: Task) -> None:
        """Produce the results at once (or as soon as the task is measured), alarm or not."""
        self._disarm(task)
        if task.work is None:  # restored: given its work, it is measured, then produced
            task.due_now = True
            self._revive(task)
        elif not task.measured:
            task.due_now = True
        elif not task.producing:
            task.producing = True
            self._start(self._produce_all(task), task)

    def _disarm(self, task: Task) -> None:
        if task.alarm is not None:
            self._clock.cancel(task.alarm)
            task.alarm = None

    async def _produce_all(self, task: Task) -> None:
        """Every result, then every outcome at the same instant, once the store has them:
        a result anyone is told of survives a crash."""
        pending = [g for g in task.generations if g.status == PROCESSING]
        produced = await asyncio.gather(*(self._produce(task, g) for g in pending),
                                        return_exceptions=True)
        outcomes: dict[int, str] = {}
        for generation, outcome in zip(pending, produced, strict=True):
            if generation.status != PROCESSING:
                continue  # failed meanwhile (fail_now)
            if isinstance(outcome, Produced):
                generation.result = dict(outcome.fields)
                generation.cost = outcome.cost
                if outcome.cost is not None and task.request.get("includeCost"):
                    generation.result["cost"] = outcome.cost
                generation.file = outcome.file
                outcomes[generation.index] = SUCCESS
            else:
                generation.error = (outcome.problem if isinstance(outcome, WorkFailed)
                                    else outcome if isinstance(outcome, ApiError)
                                    else _internal(task, outcome))
                outcomes[generation.index] = ERROR
        await self._settle_kept(task, outcomes, self._clock.now())

    async def _produce(self, task: Task, generation: Generation) -> Produced | ApiError:
        injected = task.faults.error_for(generation.index)
        if injected is not None:
            return injected
        # Bounded here too, whatever the schema let through: now + 10**309 has no float.
        ttl = min(task.request.get("ttl", self._settings.default_ttl), LONGEST_TTL)
        return await task.work.produce(generation, lambda: self._clock.now() + ttl)

    def _fail_all(self, task: Task, problem: ApiError) -> None:
        """Fail every generation still processing now (its store write commits after)."""
        now = self._clock.now()
        outcomes = self._failing(task, problem)
        self._save(task, now, outcomes)
        self._settle(task, outcomes, now)

    async def _fail_kept(self, task: Task, problem: ApiError) -> None:
        await self._settle_kept(task, self._failing(task, problem), self._clock.now())

    def _failing(self, task: Task, problem: ApiError) -> dict[int, str]:
        self._disarm(task)
        outcomes = {}
        for generation in task.generations:
            if generation.status == PROCESSING:
                generation.error = problem
                outcomes[generation.index] = ERROR
        return outcomes

    async def _settle_kept(self, task: Task, outcomes: dict[int, str], now: float) -> None:
        """The outcomes, once the store has them."""
        self._save(task, now, outcomes)
        try:
            await self._table.committed()
        finally:
            # Told even if the store failed: the client must not wait forever (the log says
            # the store failed).
            self._settle(task, outcomes, now)

    def _settle(self, task: Task, outcomes: dict[int, str], now: float) -> None:
        if task.withdrawn:
            return
        for generation in task.generations:
            if generation.status == PROCESSING and generation.index in outcomes:
                self._finish(task, generation, outcomes[generation.index], now)

    def _finish(self, task: Task, generation: Generation, status: str, now: float) -> None:
        generation.status = status
        generation.finished_at = now
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


def _internal(task: Task, exc: BaseException) -> ApiError:
    log.error("task %s failed inside the emulator", task.task_uuid, exc_info=exc)
    return error("internalServerError", f"The emulator failed to run this task: {exc}")


def task_state(task: Task, outcomes: dict[int, str] | None = None,
               finished_at: float | None = None) -> dict[str, Any]:
    """What the store keeps of a task; ``outcomes``: statuses about to be reported, at
    ``finished_at``. A generation is a list (seed, status, result, file, error, finished at):
    a store of many tasks is read back at start, and lists decode faster than objects."""
    outcomes = outcomes or {}
    return {
        "request": task.request, "submittedAt": task.submitted_at,
        "outputSeconds": task.output_seconds, "readyAt": task.ready_at,
        "faults": task.faults.to_state(), "standIns": task.stand_ins,
        "generations": [
            [g.seed, outcomes.get(g.index, g.status), g.result, g.file,
             dataclasses.asdict(g.error) if g.error is not None else None,
             finished_at if g.index in outcomes else g.finished_at]
            for g in task.generations],
    }


def _generation(index: int, saved: list[Any]) -> Generation:
    seed, status, result, file, error_fields, finished_at = saved
    return Generation(index, seed, status, 0 if status == PROCESSING else 100, result,
                      (file[0], file[1]) if file else None,
                      ApiError(**error_fields) if error_fields else None, finished_at)
