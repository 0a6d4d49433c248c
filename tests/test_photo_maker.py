"""``photoMaker`` over REST as runware 0.5 and sdk-js send it (runware-surface.md §2.6): sync by
default, async when asked and polled; every result an image (decoded by Pillow) of the asked
size made from the input images, with ``imageUUID`` (runware 0.5.24 counts only such items);
the style and output format matched in any case; SDXL models only; the documented bounds
refused with the documented codes. One server for the file."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageStat

from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import RestClient

MODEL = "civitai:139562@344487"  # RealVisXL V4, the docs' example (surface §2.6)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestClient]:
    folder = tmp_path_factory.mktemp("photo-maker")
    server = ServerThread(Settings(latency="instant", data_dir=folder / "data")).start()
    yield RestClient(server.url)
    server.stop()


def plain(colour: tuple[int, int, int], size: tuple[int, int] = (64, 64)) -> str:
    """A one-colour PNG as base64, as runware 0.5 sends a file it read from disk."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


RED, GREEN = plain((220, 20, 20)), plain((20, 200, 40))


def task(**overrides: Any) -> dict[str, Any]:
    """runware 0.5's photoMaker request (no deliveryMethod: it waits for the items)."""
    return {"taskType": "photoMaker", "taskUUID": str(uuid.uuid4()), "model": MODEL,
            "inputImages": [RED], "positivePrompt": "a portrait of a person", "width": 256,
            "height": 192, "style": "No style", "strength": 15, "numberResults": 1,
            **overrides}


def image_of(item: dict[str, Any]) -> Image.Image:
    reply = httpx.get(item["imageURL"], timeout=30)
    assert reply.status_code == 200
    image = Image.open(io.BytesIO(reply.content))
    image.load()
    return image


def top_colour(image: Image.Image) -> tuple[float, ...]:
    """The mean colour of the top half (the caption band is at the bottom)."""
    width, height = image.size
    return tuple(ImageStat.Stat(image.convert("RGB").crop((0, 0, width, height // 2))).mean)


def test_results_are_images_of_the_asked_size_made_from_each_input_in_turn(client):
    sent = task(inputImages=[RED, GREEN], numberResults=3, includeCost=True, seed=11)
    items = client.post([sent]).json()["data"]
    assert len(items) == 3
    for index, item in enumerate(items):
        assert (item["taskType"], item["taskUUID"]) == ("photoMaker", sent["taskUUID"])
        assert item["imageUUID"] in item["imageURL"] and item["seed"] == 11 + index
        assert item["cost"] > 0
    images = [image_of(item) for item in items]
    assert all((image.format, image.size) == ("JPEG", (256, 192)) for image in images)
    red, green, red_again = (top_colour(image) for image in images)
    assert red[0] > red[1] + 60 and green[1] > green[0] + 60 and red_again[0] > red_again[1]


def test_strength_lays_more_of_the_seed_over_the_input(client):
    """strength 15 (the default) keeps most of the person, 50 half of it."""
    faint, strong = (top_colour(image_of(client.post([task(strength=strength, seed=5)]).json()[
        "data"][0])) for strength in (15, 50))
    assert faint[0] - faint[1] > strong[0] - strong[1] + 30


def test_async_is_acknowledged_and_polled(client):
    sent = task(deliveryMethod="async")
    (ack,) = client.post([sent]).json()["data"]
    assert ack == {"taskType": "photoMaker", "taskUUID": sent["taskUUID"]}
    (item,) = client.wait(sent["taskUUID"])["data"]
    assert item["status"] == "success" and "imageUUID" in item


def test_style_and_format_match_in_any_case_and_answer_as_documented(client):
    (item,) = client.post([task(style="no STYLE", outputFormat="png",
                                outputType=["base64Data"], checkNSFW=True)]).json()["data"]
    image = Image.open(io.BytesIO(base64.b64decode(item["imageBase64Data"])))
    assert image.format == "PNG" and item["NSFWContent"] is False and "imageUUID" in item


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"model": "runware:100@1"}, "unsupportedModel", "model"),  # FLUX.1: not SDXL
    ({"model": "runware:0@0"}, "invalidModel", "model"),
    ({"strength": 51}, "invalidStrength", "strength"),
    ({"strength": 14}, "invalidStrength", "strength"),
    ({"style": "Watercolour"}, "unsupportedStyle", "style"),
    ({"inputImages": [RED] * 5}, "invalidInputImages", "inputImages"),
    ({"inputImages": []}, "invalidInputImages", "inputImages"),
    ({"width": 100}, "invalidWidth", "width"),
    ({"positivePrompt": None}, "missingParameter", "positivePrompt"),
])
def test_refused_values(client, overrides, code, parameter):
    sent = {key: value for key, value in task(**overrides).items() if value is not None}
    (problem,) = client.post([sent]).json()["errors"]
    assert (problem["code"], problem["parameter"], problem["taskType"]) == (
        code, parameter, "photoMaker")
    if code == "unsupportedStyle":
        assert "Cinematic" in problem["allowedValues"]
