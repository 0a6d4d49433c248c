"""Issue 12: the image strategies (``runware_mock.contract.strategies_images``) against a real
emulator: every valid task gets images of the promised size and format, every broken one
exactly the promised error."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from PIL import Image

from runware_mock.contract import strategies_images as si
from runware_mock.contract.strategies import InvalidCase
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import RestClient

PIL_FORMATS = {"JPG": "JPEG", "JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
# Valid tasks draw images (up to 2048x2048, up to 2 each): fewer of them than of rejections.
FEW = settings(max_examples=15, deadline=None, suppress_health_check=_CHECKS)
MANY = settings(max_examples=40, deadline=None, suppress_health_check=_CHECKS)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestClient]:
    data: Path = tmp_path_factory.mktemp("image-strategies")
    server = ServerThread(Settings(latency="instant", data_dir=data)).start()
    yield RestClient(server.url)
    server.stop()


def images_of(item: dict[str, Any]) -> list[Image.Image]:
    """Every image the item carries, decoded: one per key its outputType asked for."""
    found = []
    if "imageURL" in item:
        found.append(httpx.get(item["imageURL"], timeout=30).content)
    if "imageBase64Data" in item:
        found.append(base64.b64decode(item["imageBase64Data"]))
    if "imageDataURI" in item:
        found.append(base64.b64decode(item["imageDataURI"].partition(",")[2]))
    decoded = [Image.open(io.BytesIO(content)) for content in found]
    for image in decoded:
        image.load()
    return decoded


def asked_keys(task: dict[str, Any]) -> int:
    asked = task.get("outputType", "URL")
    return 1 if isinstance(asked, str) else len(asked)


def check_rejected(client: RestClient, case: InvalidCase) -> None:
    reply = client.post([case.task])
    assert reply.status_code == 400, reply.text
    (problem,) = reply.json()["errors"]
    assert (problem["code"], problem["parameter"]) == (case.code, case.parameter)
    if case.allowed_values is not None:
        assert problem["allowedValues"] == case.allowed_values
    if case.task_uuid is not None and case.parameter != "taskUUID":
        assert problem["taskUUID"] == case.task_uuid


@FEW
@given(task=si.image_tasks())
def test_valid_image_tasks_get_images_of_the_asked_size_and_format(
        client: RestClient, task: dict[str, Any]) -> None:
    reply = client.post([task])
    assert reply.status_code == 200, reply.text
    items = reply.json()["data"]
    assert len(items) == task.get("numberResults", 1)
    assert ("cost" in items[0]) == bool(task.get("includeCost"))
    for item in items:
        images = images_of(item)
        assert len(images) == asked_keys(task)
        for image in images:
            assert image.size == si.expected_size(task)
            assert image.format == PIL_FORMATS[task.get("outputFormat", "JPG").upper()]


@MANY
@given(case=si.invalid_image_tasks())
def test_invalid_image_tasks_get_exactly_the_promised_error(client: RestClient,
                                                            case: InvalidCase) -> None:
    check_rejected(client, case)


@FEW
@given(pair=si.upscale_tasks())
def test_valid_upscale_tasks_get_the_input_factor_times_larger(
        client: RestClient, pair: tuple[dict[str, Any], tuple[int, int]]) -> None:
    task, size = pair
    reply = client.post([task])
    assert reply.status_code == 200, reply.text
    (item,) = reply.json()["data"]
    assert item["taskType"] == task["taskType"]
    images = images_of(item)
    assert len(images) == asked_keys(task)
    assert all(image.size == size for image in images)


@MANY
@given(case=si.invalid_upscale_tasks())
def test_invalid_upscale_tasks_get_exactly_the_promised_error(client: RestClient,
                                                              case: InvalidCase) -> None:
    check_rejected(client, case)
