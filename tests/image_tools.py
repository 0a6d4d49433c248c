"""What the image tools' real-server tests share (test_remove_background.py, test_vectorize.py,
test_control_net_preprocess.py, test_image_masking.py): one emulator per test file (the
``tool_client`` fixture of conftest.py, a ``ToolClient``), small inputs whose foreground is
known (a red disc on a light grey backdrop), and the result's file fetched and decoded."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any, NamedTuple

import httpx
from PIL import Image, ImageDraw

from tests.helpers import RestClient


class Disc(NamedTuple):
    """Where the foreground of the test picture is."""

    size: tuple[int, int]  # the picture's
    box: tuple[int, int, int, int]  # the disc's
    inside: tuple[int, int]  # a point inside the disc
    backdrop: tuple[int, int]  # a point on the backdrop


DISC = Disc(size=(96, 64), box=(30, 10, 66, 58), inside=(48, 34), backdrop=(3, 3))
RED = (200, 40, 40)  # the disc's colour


def disc_png(size: tuple[int, int] = DISC.size, colour: tuple[int, int, int] = RED) -> bytes:
    """The disc (scaled with ``size``) in ``colour`` on the backdrop."""
    picture = Image.new("RGB", size, (228, 228, 228))
    scale = size[0] / DISC.size[0]
    ImageDraw.Draw(picture).ellipse([round(side * scale) for side in DISC.box], fill=colour)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def disc_uri(size: tuple[int, int] = DISC.size, colour: tuple[int, int, int] = RED) -> str:
    return "data:image/png;base64," + base64.b64encode(disc_png(size, colour)).decode()


def new_uuid() -> str:
    return str(uuid.uuid4())


def image_task(task_type: str, **fields: Any) -> dict[str, Any]:
    """A ``task_type`` task on the disc, sent as the legacy ``inputImage``."""
    return {"taskType": task_type, "taskUUID": new_uuid(), "inputImage": disc_uri(), **fields}


class ToolClient(RestClient):
    """A client that checks each answer is the sent task's own."""

    def only_result(self, sent: dict[str, Any]) -> dict[str, Any]:
        body = self.post([sent]).json()
        assert "errors" not in body, body
        (item,) = body["data"]
        assert (item["taskType"], item["taskUUID"]) == (sent["taskType"], sent["taskUUID"])
        return dict(item)

    def only_error(self, sent: dict[str, Any]) -> dict[str, Any]:
        (problem,) = self.post([sent]).json()["errors"]
        assert (problem["taskType"], problem["taskUUID"]) == (sent["taskType"],
                                                              sent["taskUUID"])
        return dict(problem)

    def refusal(self, sent: dict[str, Any]) -> tuple[str, str]:
        """The code and parameter of the one error ``sent`` gets, its fields set to ``None``
        left out (how a parametrized case leaves a required field out)."""
        problem = self.only_error({key: value for key, value in sent.items()
                                   if value is not None})
        return problem["code"], problem["parameter"]

    def polled(self, sent: dict[str, Any]) -> dict[str, Any]:
        """An async task: acknowledged with no result keys, then its one result polled."""
        (ack,) = self.post([sent]).json()["data"]
        assert ack == {"taskType": sent["taskType"], "taskUUID": sent["taskUUID"]}
        (item,) = self.wait(sent["taskUUID"])["data"]
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
