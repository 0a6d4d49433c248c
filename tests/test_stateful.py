"""Issue 7: a state machine interleaves submits, resubmits, uploads, deletes, admin failures
and moves of the simulated clock against one emulator, and polls every task after every step:
no task is lost, no result comes before its latency, every reply matches its schema, a failure
is reported as such, and costs add up.

The latency is fixed and long; time passes only when a rule advances the simulated clock, so
"before its latency" is exact and nothing renders unless the clock says so. A fault rule
(``task_error`` with ``timeoutProvider``, through the admin API) is switched on and off: the
tasks accepted meanwhile must fail at their ready time, and only those.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from runware_mock.admin.client import AdminClient, AdminError
from runware_mock.contract import conformance, model_catalog
from runware_mock.contract import strategies as rs
from runware_mock.contract.samples import SEED_PORTRAIT, SEED_VOICE, SEED_VOICES
from runware_mock.fixtures import SEED_ASSET_PREFIX, media_path
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import RestClient, data_uri

LATENCY = 600.0
PORTRAIT_URL = SEED_ASSET_PREFIX + SEED_PORTRAIT


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    data: Path = tmp_path_factory.mktemp("stateful")
    # Small frames: renders take a fraction of the time, and frames are not under test here.
    chosen = Settings(latency=f"fixed:{LATENCY:g}", data_dir=data, max_long_side=64)
    with ServerThread(chosen) as server:
        yield server


@dataclass
class Expected:
    """What the model knows of one submitted task."""

    task_uuid: str
    count: int
    cost_each: float | None
    submitted_before: float  # the simulated clock, read just before the submit
    audio_ok: bool = True
    faulted: bool = False  # accepted while the provider-timeout fault was on
    failed_by_admin: bool = False
    replies: list[dict[str, Any]] = field(default_factory=list)

    def due(self, now: float) -> bool:
        return now >= self.submitted_before + LATENCY

    @property
    def failure_code(self) -> str | None:
        if not self.audio_ok:
            return "invalidValueUploadFailed"
        return "timeoutProvider" if self.failed_by_admin else None


class EmulatorMachine(RuleBasedStateMachine):
    tasks = Bundle("tasks")
    uploads = Bundle("uploads")
    url = ""  # set by machine_at

    def __init__(self) -> None:
        super().__init__()
        self.rest = RestClient(self.url)
        self.admin = AdminClient(self.url)
        self.expected: dict[str, Expected] = {}
        self.deleted: set[str] = set()
        self.fault_on = False

    @initialize()
    def start_clean(self) -> None:
        self.admin.reset()
        self.admin.clear_faults()

    def teardown(self) -> None:
        self.rest.http.close()
        self.admin.close()

    # --- rules ------------------------------------------------------------------------------

    @rule(target=tasks, count=st.integers(1, 2), include_cost=st.booleans(),
          model=st.sampled_from(rs.MODELS), voice=st.sampled_from(sorted(SEED_VOICES)))
    def submit(self, count: int, include_cost: bool, model: str, voice: str) -> str:
        return self._submit(SEED_ASSET_PREFIX + voice, count, include_cost, model,
                            SEED_VOICES[voice], audio_ok=True)

    @rule(target=tasks, media=uploads, include_cost=st.booleans())
    def submit_with_upload(self, media: str, include_cost: bool) -> str:
        task_uuid = self._submit(media, 1, include_cost, rs.MODELS[0], SEED_VOICES[SEED_VOICE],
                                 audio_ok=media not in self.deleted)
        # A delete in a later step must not race the check of this input.
        self._wait(task_uuid, lambda t: t["audioSeconds"] is not None
                   or t["state"] != "processing")
        return task_uuid

    @rule(task_uuid=tasks)
    def resubmit(self, task_uuid: str) -> None:
        task = {"taskType": "videoInference", "taskUUID": task_uuid, "model": rs.MODELS[0],
                "inputs": {"image": PORTRAIT_URL, "audio": PORTRAIT_URL}}
        reply = self.rest.post([task])
        assert_conforms(conformance.check_rejection(reply.json(), reply.status_code, task,
                                                    "conflictTaskUUID", "taskUUID"))

    @rule(target=uploads)
    def upload(self) -> str:
        reply = self.rest.post([rs.upload_task(data_uri(media_path(SEED_VOICE), "audio/mpeg"))])
        assert_conforms(conformance.check_envelope(reply.json(), reply.status_code))
        return str(reply.json()["data"][0]["mediaUUID"])

    @rule(media=uploads)
    def delete(self, media: str) -> None:
        reply = self.rest.post([rs.upload_task(media, "delete")])
        body = reply.json()
        assert_conforms(conformance.check_envelope(body, reply.status_code))
        if media in self.deleted:
            assert body["errors"][0]["code"] == "mediaNotFound", body
        else:
            assert body["data"][0]["mediaUUID"] == media, body
        self.deleted.add(media)

    @rule(fraction=st.sampled_from([0.25, 0.5, 1.0, 2.0]))
    def advance_clock(self, fraction: float) -> None:
        """Renders of the tasks now due run in real time: wait for them to end."""
        now = self.admin.advance(LATENCY * fraction)
        for task in self.admin.tasks(state="processing"):
            if self.expected[task["taskUUID"]].due(now):
                self._wait(task["taskUUID"], lambda t: t["state"] != "processing")

    @rule()
    def toggle_provider_timeouts(self) -> None:
        if self.fault_on:
            self.admin.clear_faults()
        else:
            self.admin.add_fault("task_error", code="timeoutProvider", taskType="videoInference")
        self.fault_on = not self.fault_on

    @rule(task_uuid=tasks)
    def fail_by_admin(self, task_uuid: str) -> None:
        """Only tasks not yet due: a due one may be finishing its render right now."""
        expected = self.expected[task_uuid]
        if expected.due(self.admin.clock()):
            return
        finished = expected.failure_code is not None
        try:
            failed = self.admin.fail(task_uuid)
        except AdminError as exc:
            assert finished and exc.code == "taskAlreadyFinished", exc
            return
        assert not finished, f"failed a task that had already finished: {failed}"
        expected.failed_by_admin = True

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def every_task_answers_as_expected(self) -> None:
        now = self.admin.clock()
        for expected in self.expected.values():
            self._check_poll(expected, self.rest.poll(expected.task_uuid), now)

    @invariant()
    def no_task_is_lost(self) -> None:
        known = {task["taskUUID"]: task for task in self.admin.tasks()}
        for task_uuid, expected in self.expected.items():
            assert task_uuid in known, f"task {task_uuid} was lost"
            assert known[task_uuid]["numberResults"] == expected.count

    @invariant()
    def costs_add_up(self) -> None:
        reported, owed = 0.0, 0.0
        for task in self.admin.tasks():
            expected = self.expected[task["taskUUID"]]
            for generation in task["generations"]:
                if generation["status"] == "success":
                    reported += generation["cost"] or 0.0
                    owed += expected.cost_each or 0.0
        assert reported == pytest.approx(owed, abs=1e-9)

    # --- helpers ----------------------------------------------------------------------------

    def _submit(self, audio: str, count: int, include_cost: bool, model: str, seconds: float,
                audio_ok: bool) -> str:
        task = {"taskType": "videoInference", "taskUUID": rs.new_task_uuid(), "model": model,
                "numberResults": count, "includeCost": include_cost,
                "inputs": {"image": PORTRAIT_URL, "audio": audio}}
        before = self.admin.clock()
        reply = self.rest.post([task])
        assert_conforms(conformance.check_ack(reply.json(), reply.status_code, task))
        cost = round(model_catalog.model(model).price.usd * seconds, 5) if include_cost else None
        self.expected[task["taskUUID"]] = Expected(task["taskUUID"], count, cost, before,
                                                   audio_ok, faulted=self.fault_on)
        return str(task["taskUUID"])

    def _check_poll(self, expected: Expected, reply: httpx.Response, now: float) -> None:
        body = reply.json()
        assert_conforms(conformance.check_envelope(body, reply.status_code))
        assert_conforms(conformance.check_poll(body, expected.task_uuid, expected.count))
        expected.replies.append(body)
        assert_conforms(conformance.check_result_sequence(expected.replies, expected.task_uuid,
                                                          expected.count))
        successes = [item for item in body.get("data", []) if item["status"] == "success"]
        failures = [error["code"] for error in body.get("errors", [])]
        if expected.failure_code is not None:
            assert failures == [expected.failure_code] * expected.count, body
        elif not expected.due(now):
            assert not successes and not failures, f"a result before its latency: {body}"
        elif expected.faulted:
            assert failures == ["timeoutProvider"] * expected.count, body
        else:
            assert len(successes) == expected.count, f"due, rendered, yet: {body}"
        for item in successes:
            assert item.get("cost") == expected.cost_each, (item, expected)

    def _wait(self, task_uuid: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline, pause = time.monotonic() + 60, 0.001
        while not done(task := self.admin.task(task_uuid)):
            assert time.monotonic() < deadline, f"task {task_uuid} stuck: {task}"
            time.sleep(pause)
            pause = min(2 * pause, 0.05)
        return task


def assert_conforms(problems: list[conformance.Problem]) -> None:
    assert not problems, conformance.describe(problems)


def machine_at(url: str) -> type[EmulatorMachine]:
    return type("EmulatorMachineAt", (EmulatorMachine,), {"url": url})


def test_the_emulator_as_a_state_machine(emulator: ServerThread) -> None:
    machine = settings(max_examples=20, stateful_step_count=20, deadline=None,
                       suppress_health_check=[HealthCheck.too_slow])(machine_at(emulator.url))
    machine.TestCase().runTest()
