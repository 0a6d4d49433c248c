"""The schema registry (contract/schemas) names a request and a response schema for every task
type the emulator offers; the response schemas take the documented answers, refuse broken ones,
and take what the emulator answers."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import pytest
from PIL import Image

from runware_mock.contract import conformance, schemas
from runware_mock.tasks import task_types
from tests.helpers import RestClient

TASK = "b38a0d45-2cb9-45e7-8340-8ab8de6aec1d"
MEDIA = "0d6f3a1e-5c2b-4f8e-9a7d-1b2c3d4e5f60"

# Success items as the reference pages show them (runware-platform.md §1.2, §2, §3, §4.2, §5,
# §6; official-sdks.md §1-3), one per task type.
DOCUMENTED: dict[str, dict[str, Any]] = {
    "imageInference": {"taskType": "imageInference", "taskUUID": TASK, "status": "success",
                       "imageUUID": MEDIA, "imageURL": "http://127.0.0.1:8000/x.jpg",
                       "seed": 1234567, "cost": 0.0013, "NSFWContent": False},
    "upscale": {"taskType": "upscale", "taskUUID": TASK, "imageUUID": MEDIA,
                "imageURL": "https://im.runware.ai/image/x.jpg", "inputImageUUID": MEDIA},
    "imageUpscale": {"taskType": "imageUpscale", "taskUUID": TASK, "imageUUID": MEDIA,
                     "imageBase64Data": "iVBORw0KGgo="},
    "promptEnhance": {"taskType": "promptEnhance", "taskUUID": TASK, "text": "a cat, golden hour",
                      "cost": 0.0001},
    "textInference": {"taskType": "textInference", "taskUUID": TASK, "status": "success",
                      "text": "hello", "finishReason": "stop",
                      "usage": {"promptTokens": 12, "completionTokens": 1, "totalTokens": 13,
                                "thinkingTokens": 0}, "cost": 0.00001},
    "modelSearch": {"taskType": "modelSearch", "taskUUID": TASK, "totalResults": 1, "results": [
        {"air": "civitai:133005@782002", "name": "Juggernaut", "version": "XI", "category":
         "checkpoint", "architecture": "sdxl", "tags": [], "heroImage": "", "private": False,
         "comment": ""}]},
    "audioInference": {"taskType": "audioInference", "taskUUID": TASK, "status": "success",
                       "audioUUID": MEDIA, "audioURL": "https://am.runware.ai/a.mp3",
                       "cost": 0.05, "seed": 7},
    "videoInference": {"taskType": "videoInference", "taskUUID": TASK, "status": "success",
                       "videoUUID": MEDIA, "videoURL": "http://127.0.0.1:8765/media/v.mp4",
                       "cost": 0.1234, "seed": 42},
    "imageUpload": {"taskType": "imageUpload", "taskUUID": TASK, "imageUUID": MEDIA,
                    "imageURL": "https://im.runware.ai/image/x.png"},
    "mediaStorage": {"taskType": "mediaStorage", "taskUUID": TASK, "operation": "upload",
                     "mediaUUID": MEDIA},
    "authentication": {"taskType": "authentication", "connectionSessionUUID": MEDIA},
    "ping": {"taskType": "ping", "pong": True},
    "getResponse": {"data": [{"taskType": "videoInference", "taskUUID": TASK,
                              "status": "processing", "progress": 40}]},
}
# A task type the table does not name documents its answer in its response schema: its
# ``examples`` (as its page shows it) and ``x-essential``, the key the answer cannot do without
# (what dev.py new-task-type writes, from the task type's page).
IN_SCHEMAS = {name: schemas.load(response) for name in task_types()
              if name not in DOCUMENTED and (response := schemas.response_schema(name))
              and schemas.load(response).get("examples")}
DOCUMENTED.update({name: schema["examples"][0] for name, schema in IN_SCHEMAS.items()})
# The key each answer cannot do without, by the same pages.
ESSENTIAL = {"imageInference": "imageUUID", "upscale": "imageUUID", "imageUpscale": "imageUUID",
             "promptEnhance": "text", "textInference": "text", "modelSearch": "results",
             "audioInference": "audioUUID", "videoInference": "videoUUID",
             "imageUpload": "imageURL", "mediaStorage": "mediaUUID",
             "authentication": "connectionSessionUUID", "ping": "pong", "getResponse": "data",
             **{name: schema["x-essential"] for name, schema in IN_SCHEMAS.items()}}


def test_every_task_type_has_a_request_and_a_response_schema() -> None:
    for name, task_type in task_types().items():
        requests = schemas.request_schemas(name)
        assert requests, f"{name}: no request schema"
        assert all(request in schemas.names() for request in requests)
        if task_type.schema is not None:
            assert requests == (task_type.schema,), name
        assert schemas.response_schema(name) in schemas.names(), f"{name}: no response schema"
    assert set(schemas.TASK_TYPES) == set(task_types())
    assert set(DOCUMENTED) == set(task_types()), "document the answer of every task type here"


@pytest.mark.parametrize("task_type", sorted(DOCUMENTED))
def test_the_documented_answer_conforms(task_type: str) -> None:
    name = schemas.response_schema(task_type)
    assert name is not None
    answer = DOCUMENTED[task_type]
    assert schemas.validator(name).is_valid(answer)
    broken = {key: value for key, value in answer.items() if key != ESSENTIAL[task_type]}
    assert not schemas.validator(name).is_valid(broken)
    if "taskType" in answer and task_type != "ping":
        assert conformance.item_schema(answer) == name
        assert not schemas.validator(name).is_valid({**answer, "taskType": "somethingElse"})


def test_an_ack_and_a_processing_item_of_any_later_task_type() -> None:
    for task_type in ("imageInference", "textInference", "videoInference"):
        assert conformance.item_schema({"taskType": task_type, "taskUUID": TASK}) \
            == "response.ack"
        assert conformance.item_schema({"taskType": task_type, "taskUUID": TASK,
                                        "status": "processing"}) == "response.processing"
    # An ack that carries a URL is no ack: a client would take it for the result.
    problems = conformance.check_envelope({"data": [
        {"taskType": "videoInference", "taskUUID": TASK, "webhookURL": "https://x.invalid/"}]})
    assert problems
    assert conformance.check_envelope({"data": [{"taskType": "caption", "text": "x"}]})


def _image() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 40)).save(buffer, "PNG")
    return f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"


def _answers(client: RestClient) -> dict[str, list[dict[str, Any]]]:
    def task(task_type: str, **fields: Any) -> dict[str, Any]:
        return {"taskType": task_type, "taskUUID": str(uuid.uuid4()), **fields}

    image = _image()
    sent = [
        task("imageInference", model="runware:101@1", positivePrompt="a cat on a mat",
             width=512, height=512, includeCost=True),
        task("upscale", inputImage=image, upscaleFactor=2),
        task("imageUpscale", inputImage=image, upscaleFactor=2, outputType="base64Data"),
        task("promptEnhance", prompt="a cat", promptVersions=2),
        task("textInference", model="google:gemma@4-31b",
             messages=[{"role": "user", "content": "hi"}]),
        task("modelSearch", search="realistic", limit=2),
        task("audioInference", model="inworld:tts@1.5-max",
             speech={"text": "Hello, I am your guide.", "voice": "Dennis"}, includeCost=True),
        task("imageUpload", image=image),
        task("mediaStorage", operation="upload", media=image),
        {"taskType": "ping", "ping": True},
    ]
    return {each["taskType"]: client.post([each]).json() for each in sent}


def test_what_the_emulator_answers_conforms(client: RestClient) -> None:
    for task_type, body in _answers(client).items():
        assert "errors" not in body, (task_type, body)
        problems = conformance.check_envelope(body, 200)
        assert not problems, (task_type, conformance.describe(problems))
        assert [conformance.item_schema(item) for item in body["data"]] \
            == [schemas.response_schema(task_type)] * len(body["data"])
