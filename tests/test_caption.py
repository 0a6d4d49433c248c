"""``caption`` over REST as a client sends it: answered sync, acknowledged and polled
async, under each name it is sent as, and refused with the documented codes (docs/errors.md)
for a model or a field that is not its own. What the result holds:
docs/task-types/caption.md."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import pytest
from PIL import Image

from runware_mock.fixtures import media_path
from tests.helpers import PORTRAIT, RestClient, data_uri

MODEL = "runware:150@2"
INPUT = media_path(PORTRAIT)


def task(task_type: str = "caption", **overrides: Any) -> dict[str, Any]:
    return {"taskType": task_type, "taskUUID": str(uuid.uuid4()), "model": MODEL,
            "inputImage": data_uri(INPUT, "image/jpeg"), **overrides}


def result(client: RestClient, sent: dict[str, Any]) -> dict[str, Any]:
    (item,) = client.post([sent]).json()["data"]
    assert (item["taskType"], item["taskUUID"]) == (sent["taskType"], sent["taskUUID"])
    return item


def test_a_sync_task_answers_text(client: RestClient) -> None:
    text = result(client, task())["text"]
    assert isinstance(text, str) and text.strip()


def test_the_same_input_answers_the_same_text(client: RestClient) -> None:
    assert result(client, task())["text"] == result(client, task())["text"]


def test_an_async_task_is_acknowledged_then_polled(client: RestClient) -> None:
    sent = task(deliveryMethod="async")
    (ack,) = client.post([sent]).json()["data"]
    assert ack == {"taskType": "caption", "taskUUID": sent["taskUUID"]}
    (item,) = client.wait(sent["taskUUID"])["data"]
    assert (item["status"], item["taskUUID"]) == ("success", sent["taskUUID"])


@pytest.mark.parametrize("name", ["caption", "imageCaption"])
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
    assert (problem["taskType"], problem["taskUUID"]) == ("caption", sent["taskUUID"])


# --- caption's own rules (runware-surface.md §2.1) ------------------------------------------

def test_the_model_is_optional(client: RestClient) -> None:
    sent = task()
    del sent["model"]
    assert result(client, sent)["text"].strip()


def test_a_prompt_is_answered(client: RestClient) -> None:
    plain, asked = (result(client, task(**extra))["text"]
                    for extra in ({}, {"prompt": "What is in this picture?"}))
    assert asked != plain
    assert result(client, task(prompt=["What is it?", "Be brief."]))["text"].strip()


def plain_png(size: tuple[int, int], colour: tuple[int, int, int]) -> str:
    """A one-colour PNG as base64, as runware 0.5 sends an image it read from disk."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def test_the_caption_says_what_the_image_is_made_of(client: RestClient) -> None:
    text = result(client, task(inputImage=plain_png((640, 384), (210, 20, 20))))["text"]
    assert "640x384" in text and "landscape" in text and "red" in text


@pytest.mark.parametrize("model", ["runware:152@50", "runware:153@1", "runware:154@1"])
def test_an_age_model_answers_structured_data_and_no_text(client: RestClient,
                                                          model: str) -> None:
    item = result(client, task(model=model))
    assert "text" not in item
    assert isinstance(item["structuredData"]["ageGroup"], str)
    assert 0 <= item["structuredData"]["confidence"] <= 100


def test_one_result_per_input_image_in_order(client: RestClient) -> None:
    images = [data_uri(INPUT, "image/jpeg"), plain_png((256, 256), (30, 60, 210))]
    sent = task(inputImages=images)
    del sent["inputImage"]
    first, second = client.post([sent]).json()["data"]
    assert (first["taskUUID"], second["taskUUID"]) == (sent["taskUUID"],) * 2
    assert "portrait" in first["text"] and "512x768" in first["text"]
    assert "square" in second["text"] and "blue" in second["text"]


def test_the_modern_input_form_is_accepted(client: RestClient) -> None:
    sent = task(inputs={"image": data_uri(INPUT, "image/jpeg")})
    del sent["inputImage"]
    assert result(client, sent)["text"] == result(client, task())["text"]


@pytest.mark.parametrize(("change", "code"), [
    ({"inputImages": ["00000000-0000-4000-8000-000000000001"]}, "invalidInputImage"),
    ({"inputImage": None}, "missingParameter"),
    ({"model": "memories:1@1"}, "unsupportedModel"),
])
def test_a_wrong_input_or_a_video_captioner_is_refused(client: RestClient,
                                                       change: dict[str, Any],
                                                       code: str) -> None:
    sent = task(**change)
    if sent["inputImage"] is None:
        del sent["inputImage"]
    (problem,) = client.post([sent]).json()["errors"]
    assert (problem["code"], problem["taskUUID"]) == (code, sent["taskUUID"])


def test_the_documented_cost_is_zero(client: RestClient) -> None:
    assert result(client, task(includeCost=True))["cost"] == 0
