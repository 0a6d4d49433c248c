"""Issue 24, item 4, over a real socket: a refused task's error links to its own task type's
reference page, at the refused parameter (`#request-<path>`), and a value outside a documented
number bound carries `min`, `max` and the `default`. Pages: runware-surface.md section 7
(tests/error_pages.py); bounds and defaults: runware-surface.md summary rules 7 and 12."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from runware_mock.contract import model_catalog, schemas
from tests.error_pages import link
from tests.helpers import RestClient

UUID = "00000000-0000-4000-8000-0000000000aa"


def _refused(client: RestClient, task: dict[str, Any]) -> list[dict[str, Any]]:
    reply = client.post([task])
    assert reply.status_code == 400, reply.text
    return reply.json()["errors"]


def test_every_task_types_error_links_to_its_own_page(client: RestClient) -> None:
    links = {}
    for task_type in schemas.TASK_TYPES:
        task: dict[str, Any] = {"taskType": task_type, "taskUUID": str(uuid.uuid4()),
                                "notAField": 1}
        served = model_catalog.airs(task_type)
        if task_type in schemas.MODEL_TASK_TYPES and served:
            task["model"] = served[0]
        problems = _refused(client, task)
        unknown = [problem for problem in problems if problem.get("parameter") == "notAField"]
        assert unknown, (task_type, problems)
        links[task_type] = unknown[0]["documentation"]
    assert links == {task_type: link(task_type, "notAField") for task_type in schemas.TASK_TYPES}
    assert links["videoInference"] == ("https://runware.ai/docs/en/video-inference/api-reference"
                                       "#request-notafield")


def test_a_nested_parameter_links_to_its_entry(client: RestClient) -> None:
    (problem,) = _refused(client, {
        "taskType": "imageInference", "taskUUID": UUID, "model": "runware:100@1",
        "positivePrompt": "a cat", "width": 512, "height": 512,
        "safety": {"checkContent": "yes"}})
    assert problem["documentation"] == ("https://runware.ai/docs/en/image-inference/"
                                        "api-reference#request-safety-checkcontent")


@pytest.mark.parametrize(("task", "parameter", "documented"), [
    ({"taskType": "imageInference", "model": "runware:100@1", "positivePrompt": "a cat",
      "width": 512, "height": 512, "outputQuality": 100},
     "outputQuality", {"min": 20, "max": 99, "default": 95}),
    ({"taskType": "imageInference", "model": "civitai:133005@782002", "positivePrompt": "a cat",
      "width": 512, "height": 512, "strength": 1.5},
     "strength", {"min": 0, "max": 1, "default": 0.8}),
    ({"taskType": "modelSearch", "limit": 0}, "limit", {"min": 1, "max": 100, "default": 20}),
])
def test_a_bound_violation_carries_the_bounds_and_default(
        client: RestClient, task: dict[str, Any], parameter: str,
        documented: dict[str, Any]) -> None:
    (problem,) = _refused(client, {**task, "taskUUID": UUID})
    assert problem["parameter"] == parameter
    assert {key: problem.get(key) for key in documented} == documented
    assert problem["documentation"] == link(task["taskType"], parameter)


def test_an_enum_miss_carries_the_allowed_values_and_default(client: RestClient) -> None:
    (problem,) = _refused(client, {
        "taskType": "imageInference", "taskUUID": UUID, "model": "runware:100@1",
        "positivePrompt": "a cat", "width": 512, "height": 512, "outputType": "PDF"})
    assert problem["allowedValues"] == ["URL", "base64Data", "dataURI"]
