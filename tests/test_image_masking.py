"""``imageMasking`` over REST as a client sends it: answered sync, acknowledged and polled
async, under each name it is sent as, and refused with the documented codes (docs/errors.md)
for a model or a field that is not its own. What the result holds:
docs/task-types/image-masking.md."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pytest
from PIL import Image

from runware_mock.fixtures import media_path
from tests.helpers import PORTRAIT, RestClient, data_uri

MODEL = "runware:35@1"
INPUT = media_path(PORTRAIT)


def task(task_type: str = "imageMasking", **overrides: Any) -> dict[str, Any]:
    return {"taskType": task_type, "taskUUID": str(uuid.uuid4()), "model": MODEL,
            "inputImage": data_uri(INPUT, "image/jpeg"), **overrides}


def result(client: RestClient, sent: dict[str, Any]) -> dict[str, Any]:
    (item,) = client.post([sent]).json()["data"]
    assert (item["taskType"], item["taskUUID"]) == (sent["taskType"], sent["taskUUID"])
    return item


def image_of(item: dict[str, Any]) -> Image.Image:
    return Image.open(io.BytesIO(httpx.get(item["imageURL"]).content))


def test_a_sync_task_answers_an_image_of_the_inputs_size(client: RestClient) -> None:
    image = image_of(result(client, task()))
    assert image.format == "PNG"  # the default outputFormat
    assert image.size == Image.open(INPUT).size


def test_the_same_input_answers_the_same_image(client: RestClient) -> None:
    first, second = (httpx.get(result(client, task())["imageURL"]).content for _ in range(2))
    assert first == second


@pytest.mark.parametrize("output_format", ["JPG", "WEBP"])
def test_the_output_format_is_the_one_asked(client: RestClient, output_format: str) -> None:
    image = image_of(result(client, task(outputFormat=output_format)))
    assert image.format == {"JPG": "JPEG", "WEBP": "WEBP"}[output_format]


def test_an_async_task_is_acknowledged_then_polled(client: RestClient) -> None:
    sent = task(deliveryMethod="async")
    (ack,) = client.post([sent]).json()["data"]
    assert ack == {"taskType": "imageMasking", "taskUUID": sent["taskUUID"]}
    (item,) = client.wait(sent["taskUUID"])["data"]
    assert (item["status"], item["taskUUID"]) == ("success", sent["taskUUID"])


@pytest.mark.parametrize("name", ["imageMasking"])
def test_each_name_is_answered_as_sent(client: RestClient, name: str) -> None:
    assert result(client, task(name))["taskType"] == name


def test_the_cost_is_reported_when_asked(client: RestClient) -> None:
    assert "cost" not in result(client, task())
    assert isinstance(result(client, task(includeCost=True))["cost"], float | int)


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"model": "runware:0@0"}, "invalidModel", "model"),
    ({"unknownField": 1}, "unsupportedParameter", "unknownField"),
])
def test_what_is_not_its_own_is_refused(client: RestClient, overrides: dict[str, Any],
                                         code: str, parameter: str) -> None:
    sent = task(**overrides)
    (problem,) = client.post([sent]).json()["errors"]
    assert (problem["code"], problem["parameter"]) == (code, parameter)
    assert (problem["taskType"], problem["taskUUID"]) == ("imageMasking", sent["taskUUID"])
