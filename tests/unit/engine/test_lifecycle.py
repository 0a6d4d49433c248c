"""The task lifecycle in process (engine/lifecycle.py), on its simulated clock, with a store that
records what it is told: every change is written before anyone is told of it (the ack waits for
the commit, results are reported once committed), all results of a task finish at one instant,
progress climbs 0-99 then 100 (docs/api.md), a failure reaches every generation still
processing, and finished tasks are forgotten after --task-retention."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from runware_mock.contract.errors import ApiError, error
from runware_mock.engine import lifecycle
from runware_mock.engine.clock import Clock
from runware_mock.engine.lifecycle import (
    ERROR,
    PROCESSING,
    SUCCESS,
    Produced,
    TaskConflict,
    TaskEngine,
    TaskFinished,
    TaskNotFound,
    WorkFailed,
    task_state,
)
from runware_mock.engine.randomness import Randomness
from runware_mock.settings import Settings

OWNER = "key-1"
LATENCY = 10.0


class Store:
    """Stands for the tasks and files tables: records each write and each commit wait, in
    order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.commit = asyncio.Event()
        self.commit.set()

    def save(self, task_uuid: str, owner: str, state: dict[str, Any],
              finished_at: float | None) -> None:
        self.events.append(("saved", (task_uuid, owner, state, finished_at)))

    def summarise(self, task_uuid: str, sent: dict[str, Any]) -> None:
        self.events.append(("summarised", sent))

    def forget(self, task_uuids: Any) -> None:
        self.events.append(("forgotten", sorted(task_uuids)))

    def clear(self) -> None:
        self.events.append(("cleared", None))

    def forget_outputs(self, task_uuid: str) -> None:
        self.events.append(("outputs forgotten", task_uuid))

    async def committed(self) -> None:
        self.events.append(("commit wait", None))
        await self.commit.wait()
        self.events.append(("committed", None))

    def states(self) -> list[dict[str, Any]]:
        return [args[2] for kind, args in self.events if kind == "saved"]


class Work:
    def __init__(self, seconds: float | None = 0.0, fail: ApiError | None = None,
                 measure_fails: Exception | None = None, cost: float | None = 0.5) -> None:
        self.seconds, self.fail, self.measure_fails, self.cost = seconds, fail, measure_fails, cost
        self.expiries: list[float] = []
        self.forgot = 0

    def measured_now(self) -> float | None:
        return self.seconds

    async def measure(self) -> float:
        if self.measure_fails is not None:
            raise self.measure_fails
        return 3.0

    async def produce(self, generation: lifecycle.Generation,
                      expiry: Callable[[], float]) -> Produced:
        self.expiries.append(expiry())
        if self.fail is not None:
            raise WorkFailed(self.fail)
        return Produced({"seed": generation.seed}, cost=self.cost, file=("video", "f"))

    def forget_inline_data(self) -> None:
        self.forgot += 1


def engine_with(store: Store, **settings: Any) -> tuple[TaskEngine, Clock, list[Any]]:
    clock = Clock()
    engine = TaskEngine(dataclasses.replace(
        Settings(latency=f"fixed:{LATENCY:g}"), **settings), clock, Randomness(7), store, store)
    finished: list[Any] = []
    engine.subscribe(lambda task, generation: finished.append(
        (task.task_uuid, generation.index, generation.status, generation.finished_at)))
    return engine, clock, finished


def request(uuid: str = "A-1", **fields: Any) -> dict[str, Any]:
    return {"taskType": "videoInference", "taskUUID": uuid, "model": "klingai:1@1", **fields}


async def settle() -> None:
    """Let what is due run: the clock's timer, then the work it starts."""
    for _ in range(20):
        await asyncio.sleep(0.001)


def run(test: Callable[[], Any]) -> None:
    asyncio.run(test())


def test_a_task_is_stored_before_its_ack_and_its_results_after_the_commit() -> None:
    async def scenario() -> None:
        store = Store()
        engine, clock, finished = engine_with(store)
        task = engine.submit(OWNER, request(numberResults=2, includeCost=True), Work())
        assert task.task_uuid == "a-1" and task.sent_uuid == "A-1"
        (state,) = store.states()  # written once at submit, with its due time
        assert state["readyAt"] == pytest.approx(task.submitted_at + LATENCY)
        assert [g[1] for g in state["generations"]] == [PROCESSING, PROCESSING]
        await engine.committed()
        assert store.events[-1] == ("committed", None)
        # Due: produced, written, and told only once the store committed.
        store.commit.clear()
        clock.advance(LATENCY)
        await settle()
        assert finished == []
        assert store.states()[-1]["generations"][0][1] == SUCCESS
        store.commit.set()
        await settle()
        assert [(uuid, index, status) for uuid, index, status, _ in finished] == [
            ("a-1", 0, SUCCESS), ("a-1", 1, SUCCESS)]
        assert finished[0][3] == finished[1][3]  # one instant for every result
        assert task.finished and task.generations[0].result == {
            "seed": task.generations[0].seed, "cost": 0.5}
        assert task.generations[1].file == ("video", "f")
        assert engine.progress(task, task.generations[0]) == 100
        await engine.close()

    run(scenario)


def test_a_withdrawn_task_leaves_nothing_and_its_uuid_is_free_again() -> None:
    """docs/configuration.md, a full disk: a task whose commit fails "is not run, polls as
    taskNotFound, and its taskUUID is taken when sent again", with nothing of it stored."""
    async def scenario() -> None:
        store = Store()
        engine, clock, finished = engine_with(store)
        task = engine.submit(OWNER, request(), Work())
        engine.withdraw(task)
        assert store.events[-2:] == [("forgotten", ["a-1"]), ("outputs forgotten", "a-1")]
        with pytest.raises(TaskNotFound):
            engine.find("A-1")
        clock.advance(LATENCY)
        await settle()
        assert finished == [] and not task.finished
        again = engine.submit(OWNER, request(), Work())
        assert again is not task and engine.find("A-1") is again
        await engine.close()

    run(scenario)


def test_cost_only_when_asked_and_seeds_per_result() -> None:
    async def scenario() -> None:
        engine, _clock, _ = engine_with(Store())
        task = engine.submit(OWNER, request(numberResults=3), Work())
        seeds = [g.seed for g in task.generations]
        assert len(set(seeds)) == 3
        assert seeds == [Randomness(7).result_seed("a-1", index) for index in range(3)]
        engine.complete_now("A-1")
        await engine.wait_finished(task)
        assert "cost" not in task.generations[0].result
        await engine.close()

    run(scenario)


def test_progress_climbs_and_never_falls() -> None:
    async def scenario() -> None:
        engine, clock, _ = engine_with(Store())
        task = engine.submit(OWNER, request(), Work())
        generation = task.generations[0]
        assert engine.progress(task, generation) < 10
        clock.advance(LATENCY / 2)
        assert 49 <= engine.progress(task, generation) <= 51
        task.ready_at = task.submitted_at  # a due time already passed: at most 99
        assert engine.progress(task, generation) == 99
        task.ready_at = task.submitted_at + 1000
        assert engine.progress(task, generation) == 99  # never decreasing
        await engine.close()

    run(scenario)


def test_a_task_uuid_is_used_once_and_found_by_its_owner_only() -> None:
    async def scenario() -> None:
        engine, _, _ = engine_with(Store())
        engine.submit(OWNER, request(), Work())
        with pytest.raises(TaskConflict):
            engine.submit("other", request("a-1"), Work())
        assert engine.holds("A-1") and not engine.holds("b")
        assert engine.get(OWNER, "a-1").owner == OWNER
        with pytest.raises(TaskNotFound):
            engine.get("other", "A-1")
        with pytest.raises(TaskNotFound):
            engine.find("nope")
        assert engine.count() == 1 and engine.task_uuids() == {"a-1"}
        assert [task.task_uuid for task in engine.tasks()] == ["a-1"]
        await engine.close()

    run(scenario)


def test_fail_now_fails_every_generation_still_processing() -> None:
    async def scenario() -> None:
        store = Store()
        engine, clock, finished = engine_with(store)
        task = engine.submit(OWNER, request(numberResults=2), Work())
        engine.fail_now("a-1", "timeoutProvider", "too slow")
        assert [g.status for g in task.generations] == [ERROR, ERROR]
        assert task.generations[0].error == error("timeoutProvider", "too slow")
        assert store.states()[-1]["generations"][1][1] == ERROR
        assert len(finished) == 2
        with pytest.raises(TaskFinished):
            engine.fail_now("a-1", "x", "y")
        with pytest.raises(TaskFinished):
            engine.complete_now("a-1")
        clock.advance(LATENCY)  # its alarm was disarmed: nothing more happens
        await settle()
        assert len(finished) == 2
        await engine.close()

    run(scenario)


def test_a_failing_production_fails_its_results() -> None:
    async def scenario() -> None:
        engine, clock, _finished = engine_with(Store())
        problem = error("invalidValueUploadFailed", "bad input")
        task = engine.submit(OWNER, request(), Work(fail=problem))
        clock.advance(LATENCY)
        await engine.wait_finished(task)
        assert task.generations[0].status == ERROR and task.generations[0].error == problem
        await engine.close()

    run(scenario)


def test_a_task_measured_later_is_scheduled_from_its_measure() -> None:
    async def scenario() -> None:
        store = Store()
        engine, clock, _ = engine_with(store)
        work = Work(seconds=None)
        task = engine.submit(OWNER, request(), work)
        assert not task.measured
        await settle()
        assert task.output_seconds == 3.0 and task.ready_at is not None and work.forgot == 1
        clock.advance(LATENCY)
        await engine.wait_finished(task)
        assert task.generations[0].status == SUCCESS
        await engine.close()

    run(scenario)


def test_a_measure_that_fails_fails_the_task() -> None:
    async def scenario() -> None:
        engine, _, _finished = engine_with(Store())
        problem = error("invalidValueUploadFailed", "unreadable")
        task = engine.submit(OWNER, request(numberResults=2), Work(seconds=None,
                                                                   measure_fails=WorkFailed(problem)))
        await engine.wait_finished(task)
        assert [g.error for g in task.generations] == [problem, problem]
        broken = engine.submit(OWNER, request("b"), Work(seconds=None,
                                                         measure_fails=RuntimeError("boom")))
        await engine.wait_finished(broken)
        assert broken.generations[0].error.code == "internalServerError"
        assert "boom" in broken.generations[0].error.message
        await engine.close()

    run(scenario)


def test_complete_now_while_measuring_produces_once_measured() -> None:
    async def scenario() -> None:
        engine, _, _ = engine_with(Store())
        task = engine.submit(OWNER, request(), Work(seconds=None))
        engine.complete_now("a-1")
        assert task.due_now
        await engine.wait_finished(task)
        assert task.generations[0].status == SUCCESS
        await engine.close()

    run(scenario)


def test_the_ttl_bounds_how_long_a_result_is_served() -> None:
    async def scenario() -> None:
        engine, clock, _ = engine_with(Store(), default_ttl=3600)
        work = Work()
        task = engine.submit(OWNER, request(ttl=120), work)
        engine.complete_now("a-1")
        await engine.wait_finished(task)
        other = Work()
        task = engine.submit(OWNER, request("b", ttl=10**309), other)
        engine.complete_now("b")
        await engine.wait_finished(task)
        third = Work()
        task = engine.submit(OWNER, request("c"), third)
        engine.complete_now("c")
        await engine.wait_finished(task)
        now = clock.now()
        assert work.expiries[0] == pytest.approx(now + 120, abs=1)
        assert other.expiries[0] == pytest.approx(now + lifecycle.LONGEST_TTL, abs=1)
        assert third.expiries[0] == pytest.approx(now + 3600, abs=1)
        assert lifecycle.LONGEST_TTL == 31536000  # docs/images.md: ttl up to 31536000
        await engine.close()

    run(scenario)


def test_finished_tasks_are_forgotten_after_the_retention() -> None:
    async def scenario() -> None:
        store = Store()
        engine, clock, _ = engine_with(store, task_retention=100)
        for uuid in ("a", "b", "c"):
            engine.submit(OWNER, request(uuid), Work())
        engine.fail_now("a", "x", "y")
        engine.fail_now("b", "x", "y")
        assert engine.sweep() == 0
        clock.advance(101)
        await settle()
        assert engine.sweep(keep={"b"}) == 1  # c finished just now; b is still delivering
        assert store.events[-1] == ("forgotten", ["a"])
        assert engine.task_uuids() == {"b", "c"}
        await engine.reset()
        assert engine.count() == 0 and store.events[-1] == ("cleared", None)

    run(scenario)


def test_a_listener_that_fails_does_not_stop_the_others() -> None:
    async def scenario() -> None:
        engine, _, finished = engine_with(Store())

        def broken(task: Any, generation: Any) -> None:
            raise RuntimeError("listener")

        engine.subscribe(broken)
        seen: list[int] = []
        engine.subscribe(lambda task, generation: seen.append(generation.index))
        engine.submit(OWNER, request(), Work())
        engine.fail_now("a-1", "x", "y")
        assert seen == [0] and len(finished) == 1
        await engine.close()

    run(scenario)


def test_a_stored_task_comes_back_as_it_was() -> None:
    async def scenario() -> None:
        store = Store()
        engine, _clock, _ = engine_with(store)
        task = engine.submit(OWNER, request(numberResults=2), Work())
        engine.fail_now("a-1", "timeoutProvider", "slow")
        state = task_state(task)
        assert state["request"] == task.request and state["submittedAt"] == task.submitted_at
        assert state["outputSeconds"] == 0.0 and state["readyAt"] == task.ready_at
        again, _, _ = engine_with(Store())
        restored = again.restore("a-1", OWNER, state, task.faults, reviver=None)  # type: ignore[arg-type]
        assert restored.finished and restored.stored
        assert [g.status for g in restored.generations] == [ERROR, ERROR]
        assert restored.generations[1].error == task.generations[1].error
        assert restored.generations[0].seed == task.generations[0].seed
        assert restored.generations[0].progress == 100
        assert restored.generations[0].finished_at == task.generations[0].finished_at
        await engine.close()

    run(scenario)


def test_a_restored_pending_task_is_due_when_it_was_due() -> None:
    async def scenario() -> None:
        engine, _, _ = engine_with(Store())
        first = engine.submit(OWNER, request(), Work())
        state = task_state(first)
        await engine.close()
        again, clock, _finished = engine_with(Store())
        revived: list[str] = []

        async def reviver(task: Any) -> None:
            revived.append(task.task_uuid)
            again.resume(task, Work(), task.request)

        state["readyAt"] = clock.now() + 5
        restored = again.restore("a-1", OWNER, state, first.faults, reviver)
        assert not restored.finished and restored.generations[0].progress == 0
        assert revived == []
        clock.advance(5)
        await settle()
        assert revived == ["a-1"]
        await again.wait_finished(restored)
        assert restored.generations[0].status == SUCCESS
        await again.close()

    run(scenario)


def test_a_restored_task_keeps_everything_it_had() -> None:
    async def scenario() -> None:
        engine, _, _ = engine_with(Store())
        task = engine.submit(OWNER, request(numberResults=2), Work())
        engine.complete_now("a-1")
        await engine.wait_finished(task)
        again, _, _ = engine_with(Store())
        restored = again.restore("a-1", OWNER, task_state(task), task.faults,
                                 reviver=None)  # type: ignore[arg-type]
        assert (restored.owner, restored.submitted_at) == (OWNER, task.submitted_at)
        assert (restored.output_seconds, restored.ready_at) == (0.0, task.ready_at)
        assert restored.faults is task.faults
        assert [g.index for g in restored.generations] == [0, 1]
        assert restored.generations[1].result == task.generations[1].result
        assert restored.generations[1].file == ("video", "f")
        assert again.get(OWNER, "A-1") is restored
        await engine.close()

    run(scenario)


def test_a_restored_task_never_measured_is_revived_at_once() -> None:
    async def scenario() -> None:
        engine, _, _ = engine_with(Store())
        task = engine.submit(OWNER, request(), Work(seconds=None))
        state = task_state(task)  # written before its measure: no due time
        assert state["readyAt"] is None
        await engine.close()
        again, _, _ = engine_with(Store())
        revived: list[Any] = []

        async def reviver(task: Any) -> None:
            revived.append(task)

        restored = again.restore("a-1", OWNER, state, task.faults, reviver)
        await settle()
        assert revived == [restored] and restored.reviver is None
        await again.close()

    run(scenario)


def test_a_cold_task_is_thawed_when_asked_for_and_swept_when_stale() -> None:
    async def scenario() -> None:
        store = Store()
        engine, clock, _ = engine_with(store, task_retention=100)
        thawed: list[tuple[str, str, bytes]] = []

        def thaw(key: str, owner: str, state: bytes) -> Any:
            thawed.append((key, owner, state))
            return engine.submit(owner, request(key), Work())

        engine.keep_cold("c-1", OWNER, clock.now(), b"state", thaw)
        engine.keep_cold("c-2", OWNER, clock.now() - 50, b"old", thaw)
        assert engine.count() == 2 and engine.holds("C-1") and engine.loaded() == []
        assert engine.get(OWNER, "C-1").task_uuid == "c-1"
        assert thawed == [("c-1", OWNER, b"state")]
        assert engine.count() == 2 and engine.task_uuids() == {"c-1", "c-2"}
        clock.advance(60)  # c-2 finished 110 s ago: past the retention; c-1 60 s ago
        assert engine.sweep(keep={"c-1"}) == 1
        assert engine.task_uuids() == {"c-1"}
        engine.keep_cold("c-3", OWNER, clock.now() - 200, b"stale", thaw)
        assert engine.sweep(keep={"c-1", "c-3"}) == 0  # still delivering: kept
        await engine.close()

    run(scenario)


def test_inline_data_is_forgotten_and_the_request_as_sent_kept() -> None:
    class Inline(Work):
        def __init__(self, task_request: dict[str, Any]) -> None:
            super().__init__(seconds=None)
            self.request = task_request

        def forget_inline_data(self) -> None:
            self.request["inputs"] = {"image": "summary"}

    async def scenario() -> None:
        store = Store()
        engine, _, _ = engine_with(store)
        sent = request(inputs={"image": "data:image/png;base64,AAAA"})
        task = engine.submit(OWNER, sent, Inline(sent))
        await settle()
        assert ("summarised", {**sent, "inputs": {"image": "data:image/png;base64,AAAA"}}) in \
            store.events
        assert task.request["inputs"] == {"image": "summary"}
        assert store.states()[-1]["request"]["inputs"] == {"image": "summary"}
        await engine.close()

    run(scenario)


def test_a_crash_inside_production_is_an_internal_error_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    class Crashing(Work):
        async def produce(self, generation: Any, expiry: Any) -> Produced:
            raise RuntimeError("boom")

    async def scenario() -> None:
        engine, _, _ = engine_with(Store())
        task = engine.submit(OWNER, request(), Crashing())
        engine.complete_now("a-1")
        await engine.wait_finished(task)
        problem = task.generations[0].error
        assert problem.code == "internalServerError"
        assert problem.message == "The emulator failed to run this task: boom"
        await engine.close()

    with caplog.at_level("ERROR", logger="runware_mock.engine"):
        run(scenario)
    (record,) = [r for r in caplog.records if "failed inside" in r.getMessage()]
    assert record.getMessage() == "task a-1 failed inside the emulator"
    assert record.exc_info is not None and str(record.exc_info[1]) == "boom"


def test_an_injected_task_error_fails_only_its_result() -> None:
    from runware_mock.engine.task_faults import TaskFaults
    problem = error("inferenceError", "injected")

    class OneFails(TaskFaults):  # type: ignore[misc]
        def error_for(self, index: int) -> ApiError | None:
            return problem if index == 1 else None

    async def scenario() -> None:
        engine, _, _ = engine_with(Store())
        faults = OneFails.__new__(OneFails)
        for name, value in vars(lifecycle.NO_FAULTS).items():
            object.__setattr__(faults, name, value)
        task = engine.submit(OWNER, request(numberResults=2), Work(), faults=faults)
        engine.complete_now("a-1")
        await engine.wait_finished(task)
        assert [g.status for g in task.generations] == [SUCCESS, ERROR]
        assert task.generations[1].error == problem
        await engine.close()

    run(scenario)


def test_progress_is_a_share_of_the_latency() -> None:
    async def scenario() -> None:
        engine, clock, _ = engine_with(Store())
        task = engine.submit(OWNER, request(), Work())
        generation = task.generations[0]
        task.submitted_at, task.ready_at = clock.now() - 1.0, clock.now() + 1.0
        assert engine.progress(task, generation) in (49, 50)  # half of a 2 s span
        task.submitted_at, task.ready_at = clock.now() - 0.5, clock.now() + 0.5
        assert 49 <= engine.progress(task, generation) <= 51
        generation.progress = 0
        task.submitted_at, task.ready_at = clock.now() - 10, clock.now() - 1
        assert engine.progress(task, generation) == 99  # overdue: 99 until it is done
        await engine.close()

    run(scenario)
