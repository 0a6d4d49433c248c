"""``imageMasking`` over REST as clients send it (runware-surface.md §2.5): sync and async,
``inputImage`` (sdk-js, ComfyUI) or ``inputs.image`` with ``settings`` (runware-sdk 1.8), the
mask decoded and held against the detections, and the documented refusals. One emulator serves
the whole file."""

from __future__ import annotations

from typing import Any

import pytest

from tests.image_tools import DISC, ToolClient, disc_uri, fetched, image_task, opened

PERSON, FACE = "runware:35@4", "runware:35@1"


def task(**overrides: Any) -> dict[str, Any]:
    return image_task("imageMasking", **{"model": PERSON, **overrides})


def test_a_person_mask_covers_the_foreground_and_its_detection(tool_client: ToolClient) -> None:
    item = tool_client.only_result(task(maskBlur=0, maskPadding=0))
    assert item["imageUUID"] == item["maskImageUUID"]  # both keys: the sources disagree
    assert item["maskImageURL"].endswith(".jpg")
    (box,) = item["detections"]
    assert set(box) == {"x_min", "y_min", "x_max", "y_max"}
    left, top, right, bottom = DISC.box
    assert abs(box["x_min"] - left) <= 3 and abs(box["x_max"] - right) <= 3
    assert abs(box["y_min"] - top) <= 3 and abs(box["y_max"] - bottom) <= 3
    mask = opened(fetched(item["maskImageURL"])).convert("L")
    assert mask.size == DISC.size
    assert mask.getpixel(DISC.inside) > 200 and mask.getpixel(DISC.backdrop) < 50


def test_the_modern_form_with_settings_polled_async(tool_client: ToolClient) -> None:
    sent = task(model=FACE, inputs={"image": disc_uri()}, deliveryMethod="async",
                settings={"maskBlur": 0, "confidence": 0.1}, outputFormat="png")
    del sent["inputImage"]
    item = tool_client.polled(sent)
    (box,) = item["detections"]
    mask = opened(fetched(item["maskImageURL"]))
    assert mask.format == "PNG"
    # Unblurred, the face is white inside its box and black far from it.
    middle = ((box["x_min"] + box["x_max"]) // 2, (box["y_min"] + box["y_max"]) // 2)
    assert mask.convert("L").getpixel(middle) == 255
    assert mask.convert("L").getpixel((middle[0], DISC.size[1] - 2)) == 0


def test_confidence_above_every_detection_leaves_an_empty_mask(tool_client: ToolClient) -> None:
    item = tool_client.only_result(task(settings={"confidence": 1}))
    assert item["detections"] == []
    assert opened(fetched(item["maskImageURL"])).convert("L").getextrema()[1] < 16


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"model": None}, "missingParameter", "model"),
    ({"model": "runware:35@99"}, "invalidModel", "model"),
    ({"confidence": 1.5}, "invalidConfidence", "confidence"),
    ({"maxDetections": 21}, "invalidMaxDetections", "maxDetections"),
    ({"settings": {"maskBlur": -1}}, "invalidMaskBlur", "settings.maskBlur"),
    ({"outputFormat": "gif"}, "unsupportedOutputFormat", "outputFormat"),
])
def test_what_is_not_its_own_is_refused(tool_client: ToolClient, overrides: dict[str, Any],
                                         code: str, parameter: str) -> None:
    assert tool_client.refusal(task(**overrides)) == (code, parameter)
