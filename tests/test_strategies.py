"""Issue 7: every strategy of ``runware_mock.contract.strategies`` against a real emulator,
500 examples each.

Valid tasks must be acknowledged, invalid ones answered with exactly the promised error; valid
media must pass the input checks and invalid media fail them with the promised code. The
latency is an hour, so nothing renders: validation answers on submit, media checks run before
the latency.
"""

# The emulator fixtures are tests/strategy_server.py's, imported by name: their parameters
# "redefine" them (F811), as pytest intends.
# ruff: noqa: F811

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from runware_mock.admin.client import AdminClient
from runware_mock.contract import conformance
from runware_mock.contract import strategies as rs
from runware_mock.contract.receivers import MediaHost
from runware_mock.contract.samples import Sample, catalog
from tests.helpers import RestClient
from tests.strategy_server import admin, emulator, rest  # noqa: F401 (fixtures)

EXAMPLES = settings(max_examples=500, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def host() -> Iterator[MediaHost]:
    with MediaHost() as media:
        yield media


def test_valid_avatar_tasks_are_acknowledged(rest: RestClient) -> None:
    @EXAMPLES
    @given(rs.avatar_tasks())
    def acknowledged(task: dict[str, Any]) -> None:
        reply = rest.post([task])
        problems = conformance.check_ack(reply.json(), reply.status_code, task)
        assert not problems, conformance.describe(problems)

    acknowledged()


def test_invalid_avatar_tasks_get_exactly_the_promised_error(rest: RestClient) -> None:
    @EXAMPLES
    @given(rs.invalid_avatar_tasks())
    def rejected(case: rs.InvalidCase) -> None:
        reply = rest.post([case.task])
        problems = conformance.check_rejection(reply.json(), reply.status_code, case.task,
                                               case.code, case.parameter, case.allowed_values)
        assert not problems, conformance.describe(problems)

    rejected()


def wait_for_inputs(admin: AdminClient, task_uuid: str) -> dict[str, Any]:
    """The task once its inputs are checked: measured (audioSeconds set) or failed."""
    deadline, pause = time.monotonic() + 30, 0.001
    while True:
        task = admin.task(task_uuid)
        if task["audioSeconds"] is not None or task["state"] != "processing":
            return task
        if time.monotonic() > deadline:
            raise AssertionError(f"inputs of {task_uuid} still unchecked: {task}")
        time.sleep(pause)
        pause = min(2 * pause, 0.02)  # most answer at once; a long track takes ~0.1 s


def test_valid_media_inputs_pass_the_input_checks(rest: RestClient, admin: AdminClient,
                                                  host: MediaHost) -> None:
    @EXAMPLES
    @given(rs.media_pairs(host), rs.task_uuids())
    def accepted(pair: tuple[rs.MediaCase, rs.MediaCase], task_uuid: str) -> None:
        image, audio = pair
        task = _task(task_uuid, image.value, audio.value)
        reply = rest.post([task])
        assert not conformance.check_ack(reply.json(), reply.status_code, task)
        checked = wait_for_inputs(admin, task_uuid)
        assert checked["state"] == "processing", checked["results"]
        assert audio.sample is not None and audio.sample.seconds is not None
        assert checked["audioSeconds"] == pytest.approx(audio.sample.seconds, abs=1e-3)

    accepted()


def _task(task_uuid: str, image: str, audio: str) -> dict[str, Any]:
    return {"taskType": "videoInference", "taskUUID": task_uuid,
            "model": rs.MODELS[0], "inputs": {"image": image, "audio": audio}}


SEED_INPUTS = rs.seed_examples()[0]["request"]["inputs"]


@pytest.mark.parametrize("kind", ["image", "audio"])
def test_invalid_media_inputs_fail_with_the_promised_code(rest: RestClient, admin: AdminClient,
                                                          host: MediaHost,
                                                          kind: str) -> None:
    @EXAMPLES
    @given(rs.invalid_media_inputs(kind, host), rs.task_uuids())
    def rejected(case: rs.MediaCase, task_uuid: str) -> None:
        inputs = {**SEED_INPUTS, kind: case.value}
        reply = rest.post([_task(task_uuid, inputs["image"], inputs["audio"])])
        assert reply.status_code == 200, reply.text
        wait_for_inputs(admin, task_uuid)
        body = rest.poll(task_uuid).json()
        problems = conformance.check_poll(body, task_uuid, 1)
        assert not problems, conformance.describe(problems)
        assert "data" not in body, body
        error = body["errors"][0]
        assert (error["code"], error["parameter"]) == (case.code, case.parameter), error

    rejected()


def test_result_sequences_conform_to_the_response_schemas() -> None:
    @EXAMPLES
    @given(rs.result_sequences())
    def conforming(sequence: rs.ResultSequence) -> None:
        problems = conformance.check_result_sequence(sequence.replies, sequence.task_uuid,
                                                     sequence.number_results)
        assert not problems, conformance.describe(problems)
        final = sequence.replies[-1]
        assert not any(item["status"] == "processing" for item in final.get("data", []))

    conforming()


@pytest.mark.parametrize("form", rs.FORMS)
@pytest.mark.parametrize("sample", [*catalog("image"), *catalog("audio")],
                         ids=lambda sample: sample.name)
def test_every_sample_in_every_form(rest: RestClient, admin: AdminClient, host: MediaHost,
                                    sample: Sample, form: str) -> None:
    """The property tests draw samples at random; this pins each one, in each form."""
    task_uuid = str(uuid.uuid4())
    inputs = {**SEED_INPUTS, sample.kind: rs.encoded(sample, form, host)}
    assert rest.post([_task(task_uuid, inputs["image"], inputs["audio"])]).status_code == 200
    checked = wait_for_inputs(admin, task_uuid)
    if sample.valid:
        assert checked["state"] == "processing", checked["results"]
    else:
        error = checked["results"][0]
        assert (error["code"], error["parameter"]) == (sample.code, f"inputs.{sample.kind}")
