"""Issue 23: a task type is declared once (``TaskType.immediate`` or ``TaskType.later``, the
flags that go together set together), may be sent under several names and is answered under
the name received, and a refusal raised anywhere in a handler is answered once, naming the task
(docs/images.md: runware 0.5 sends upscale as imageUpscale and reads the reply's taskType)."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any

from runware_mock.contract import schemas
from runware_mock.fixtures import media_path
from runware_mock.handling.result_items import generation_item
from runware_mock.handling.task_type import TaskType
from runware_mock.tasks import task_types
from tests.helpers import PORTRAIT, RestClient, data_uri

TASKS = Path(__file__).resolve().parent.parent / "runware_mock" / "tasks"


def _upscale(task_type: str, **overrides: Any) -> dict[str, Any]:
    return {"taskType": task_type, "taskUUID": str(uuid.uuid4()), "upscaleFactor": 2,
            "inputImage": data_uri(media_path(PORTRAIT), "image/jpeg"), **overrides}


async def _answer(task: Any, context: Any, services: Any) -> Any:
    raise AssertionError("never called")


def test_later_sets_the_flags_of_a_task_whose_results_come_later() -> None:
    later = TaskType.later("x", _answer, lambda request, services: None)  # type: ignore[arg-type,return-value]
    assert (later.watches_task, later.result_item, later.schema) == (True, generation_item, None)
    assert later.work is not None and later.needs_key
    immediate = TaskType.immediate("y", _answer, "request.y", aliases=("z",))
    assert (immediate.watches_task, immediate.result_item, immediate.work) == (False, None, None)
    assert immediate.names() == ("y", "z")


def test_every_name_and_alias_is_registered_and_validated() -> None:
    found = task_types()
    assert found["imageUpscale"] is found["upscale"]
    assert found["upscale"].names() == ("upscale", "imageUpscale")
    assert schemas.TASK_SCHEMAS["imageUpscale"] == found["upscale"].schema
    assert not found["ping"].needs_key and found["videoInference"].needs_key
    for task_type in found.values():
        assert task_type.watches_task == (task_type.work is not None) or \
            task_type.name == "getResponse"


def test_no_task_module_imports_another() -> None:
    for module in TASKS.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("runware_mock.tasks"), module.name


def test_an_alias_is_answered_under_the_name_received(client: RestClient) -> None:
    task = _upscale("imageUpscale", deliveryMethod="async")
    (ack,) = client.post([task]).json()["data"]
    assert (ack["taskType"], ack["taskUUID"]) == ("imageUpscale", task["taskUUID"])
    (item,) = client.poll(task["taskUUID"]).json()["data"]
    assert (item["taskType"], item["taskUUID"]) == ("imageUpscale", task["taskUUID"])


def test_a_refusal_names_the_task_as_sent(client: RestClient) -> None:
    task = _upscale("imageUpscale", model="nonexistent:999@999")
    (problem,) = client.post([task]).json()["errors"]
    assert (problem["code"], problem["taskType"], problem["taskUUID"]) == (
        "invalidModel", "imageUpscale", task["taskUUID"])
    conversation = {"taskType": "textInference", "taskUUID": str(uuid.uuid4()),
                    "model": "google:gemma@4-31b",
                    "messages": [{"role": "assistant", "content": "hi"}]}
    (problem,) = client.post([conversation]).json()["errors"]
    assert (problem["code"], problem["taskType"], problem["taskUUID"]) == (
        "invalidMessages", "textInference", conversation["taskUUID"])
