"""Tasks that run: acknowledgements, the poll sequence to success, uploads, media checks and
webhooks. At a real URL they cost money, so they need ``--runware-allow-spend``."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from hypothesis import given

from runware_mock.contract import conformance, model_catalog
from runware_mock.contract import strategies as rs
from runware_mock.contract.harness import Emulator
from runware_mock.contract.receivers import Receiver
from runware_mock.contract.samples import SEED_PORTRAIT, SEED_VOICES
from runware_mock.contract.suite.checks import assert_conforms
from runware_mock.contract.suite.conftest import Target
from runware_mock.fixtures import media_path

pytestmark = pytest.mark.usefixtures("spend")
SEED = rs.seed_examples()[0]["request"]
SEED_SECONDS = SEED_VOICES[SEED["inputs"]["audio"].rsplit("/", 1)[-1]]
RENDER_TIMEOUT = 1200.0  # real renders take minutes


def submit(target: Target, task: dict[str, Any]) -> None:
    response = target.post([task])
    assert_conforms(conformance.check_ack(response.json(), response.status_code, task))


def poll_until_finished(target: Target, task_uuid: str, count: int,
                        timeout: float = RENDER_TIMEOUT) -> list[dict[str, Any]]:
    """Every reply of the polls, the last one with no generation processing."""
    replies, deadline = [], time.monotonic() + timeout
    while True:
        body = target.post([rs.poll_task(task_uuid)]).json()
        replies.append(body)
        assert_conforms(conformance.check_poll(body, task_uuid, count))
        if not any(item.get("status") == "processing" for item in body.get("data", [])):
            return replies
        assert time.monotonic() < deadline, f"task {task_uuid} still processing: {body}"
        time.sleep(0.05 if target.emulator else 5.0)


def finish(target: Target, task_uuid: str) -> None:
    """Skip the emulator's latency; the real service takes its time."""
    if target.emulator is not None:
        target.emulator.admin.complete(task_uuid)


def test_valid_tasks_are_acknowledged(target: Target) -> None:
    @target.properties(3 if target.remote else None)
    @given(rs.avatar_tasks())
    def acknowledged(task: dict[str, Any]) -> None:
        submit(target, task)

    acknowledged()


def test_a_task_runs_to_success_with_its_cost(target: Target) -> None:
    task = {**SEED, "taskUUID": rs.new_task_uuid(), "includeCost": True, "numberResults": 2}
    submit(target, task)
    finish(target, task["taskUUID"])
    replies = poll_until_finished(target, task["taskUUID"], 2)
    assert_conforms(conformance.check_result_sequence(replies, task["taskUUID"], 2))
    final = replies[-1]
    assert "errors" not in final, final
    expected = round(model_catalog.model(SEED["model"]).price.usd * SEED_SECONDS, 5)
    assert [item["cost"] for item in final["data"]] == [expected, expected]


def data_uri(name: str, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(media_path(name).read_bytes()).decode()}"


def test_upload_and_delete_replies(target: Target) -> None:
    upload = rs.upload_task(data_uri(SEED_PORTRAIT, "image/jpeg"))
    response = target.post([upload])
    body = response.json()
    assert_conforms(conformance.check_envelope(body, response.status_code))
    media_uuid = body["data"][0]["mediaUUID"]
    legacy = {"taskType": "imageUpload", "taskUUID": rs.new_task_uuid(),
              "image": data_uri(SEED_PORTRAIT, "image/jpeg")}
    response = target.post([legacy, rs.upload_task(media_uuid, "delete")])
    body = response.json()
    assert_conforms(conformance.check_envelope(body, response.status_code))
    assert [item["taskType"] for item in body["data"]] == ["imageUpload", "mediaStorage"]


def test_invalid_media_fails_with_the_catalog_code(target: Target) -> None:
    @target.properties(3 if target.remote else 20)
    @given(rs.invalid_media_inputs("audio"))
    def rejected(case: rs.MediaCase) -> None:
        task = {**SEED, "taskUUID": rs.new_task_uuid(),
                "inputs": {**SEED["inputs"], "audio": case.value}}
        submit(target, task)
        final = poll_until_finished(target, task["taskUUID"], 1)[-1]
        errors = final.get("errors", [])
        assert [(e["code"], e.get("parameter")) for e in errors] == [(case.code, case.parameter)]

    rejected()


def test_the_webhook_body(target: Target, emulator: Emulator) -> None:
    with Receiver() as hook:
        task = {**SEED, "taskUUID": rs.new_task_uuid(), "webhookURL": hook.url}
        submit(target, task)
        finish(target, task["taskUUID"])
        received = hook.wait_for(1)[0]
    assert received.method == "POST"
    assert_conforms(conformance.check_webhook(received.json()))
