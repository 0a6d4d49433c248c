"""What the image tools' real-server tests share (test_remove_background.py, test_vectorize.py,
test_control_net_preprocess.py, test_image_masking.py): one emulator per test file, small
inputs whose foreground is known (a red disc on a light grey backdrop), and the result's
file fetched and decoded."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import RestClient

SIZE = (96, 64)
# The disc: its box, and a point inside it and one on the backdrop.
DISC = (30, 10, 66, 58)
INSIDE, BACKDROP = (48, 34), (3, 3)


def serve_tools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestClient]:
    """What each file's module-scoped ``tool_client`` fixture yields: a client of its own
    emulator."""
    settings = Settings(latency="instant", data_dir=tmp_path_factory.mktemp("image-tools"))
    with ServerThread(settings) as server:
        yield RestClient(server.url)


def disc_png(size: tuple[int, int] = SIZE, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """The disc (scaled with ``size``) in ``colour`` on the backdrop."""
    picture = Image.new("RGB", size, (228, 228, 228))
    scale = size[0] / SIZE[0]
    ImageDraw.Draw(picture).ellipse([round(side * scale) for side in DISC], fill=colour)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def disc_uri(size: tuple[int, int] = SIZE, colour: tuple[int, int, int] = (200, 40, 40)) -> str:
    return "data:image/png;base64," + base64.b64encode(disc_png(size, colour)).decode()


def new_uuid() -> str:
    return str(uuid.uuid4())


def only_result(client: RestClient, sent: dict[str, Any]) -> dict[str, Any]:
    body = client.post([sent]).json()
    assert "errors" not in body, body
    (item,) = body["data"]
    assert (item["taskType"], item["taskUUID"]) == (sent["taskType"], sent["taskUUID"])
    return dict(item)


def only_error(client: RestClient, sent: dict[str, Any]) -> dict[str, Any]:
    (problem,) = client.post([sent]).json()["errors"]
    assert (problem["taskType"], problem["taskUUID"]) == (sent["taskType"], sent["taskUUID"])
    return dict(problem)


def polled(client: RestClient, sent: dict[str, Any]) -> dict[str, Any]:
    """An async task: acknowledged with no result keys, then its one result polled."""
    (ack,) = client.post([sent]).json()["data"]
    assert ack == {"taskType": sent["taskType"], "taskUUID": sent["taskUUID"]}
    (item,) = client.wait(sent["taskUUID"])["data"]
    assert item["status"] == "success", item
    return dict(item)


def fetched(url: str) -> bytes:
    reply = httpx.get(url, timeout=30)
    assert reply.status_code == 200, url
    return reply.content


def opened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image
