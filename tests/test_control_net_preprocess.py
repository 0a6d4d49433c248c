"""``controlNetPreprocess`` and ``imageControlNetPreProcess`` over REST as clients send them
(runware-surface.md §2.4): the legacy form (``preProcessorType`` in any case, as ComfyUI
sends ``Canny``) and the modern one (a preprocessor model and ``inputs.image``), sync and
async (sdk-js's default), the guide decoded, and the documented refusals. One emulator serves
the whole file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PIL import ImageStat

from tests.helpers import RestClient
from tests.image_tools import (
    BACKDROP,
    DISC,
    INSIDE,
    SIZE,
    disc_uri,
    fetched,
    new_uuid,
    only_error,
    only_result,
    opened,
    polled,
    serve_tools,
)


@pytest.fixture(scope="module")
def tool_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestClient]:
    yield from serve_tools(tmp_path_factory)


def task(task_type: str = "imageControlNetPreProcess", **overrides: Any) -> dict[str, Any]:
    return {"taskType": task_type, "taskUUID": new_uuid(), "inputImage": disc_uri(),
            "preProcessorType": "canny", **overrides}


def guide_of(item: dict[str, Any]):
    assert "imageUUID" not in item and item["guideImageUUID"]
    return opened(fetched(item["guideImageURL"]))


@pytest.mark.parametrize("name", ["controlNetPreprocess", "imageControlNetPreProcess"])
def test_canny_in_any_case_draws_the_edges_of_the_input(tool_client: RestClient,
                                                        name: str) -> None:
    item = only_result(tool_client, task(name, preProcessorType="Canny"))
    assert item["guideImageURL"].endswith(".jpg")  # JPG by default
    guide = guide_of(item).convert("L")
    assert guide.size == SIZE
    left, top, _, _ = DISC
    edge = max(guide.getpixel((left + dx, (top + DISC[3]) // 2)) for dx in range(-2, 3))
    assert edge > 128 and guide.getpixel(INSIDE) < 64 and guide.getpixel(BACKDROP) < 64


def test_async_as_sdk_js_sends_it_is_polled(tool_client: RestClient) -> None:
    item = polled(tool_client, task(deliveryMethod="async"))
    assert guide_of(item).size == SIZE


def test_the_modern_form_names_the_preprocessor_by_model(tool_client: RestClient) -> None:
    sent = task("controlNetPreprocess", model="runware:controlnet-preprocess@depth",
                inputs={"image": disc_uri()}, outputFormat="png", includeCost=True)
    del sent["inputImage"], sent["preProcessorType"]
    item = only_result(tool_client, sent)
    assert item["guideImageURL"].endswith(".png") and item["cost"] == 0.0006
    depth = guide_of(item).convert("L")
    # Depth: the subject stands nearer (brighter) than the backdrop beside it.
    assert depth.getpixel(INSIDE) > depth.getpixel((BACKDROP[0], INSIDE[1]))


def test_each_preprocessor_gives_its_own_guide(tool_client: RestClient) -> None:
    guides = {}
    for name in ("depth", "openpose", "seg", "LineArtAnime", "NormalBAE", "tile"):
        item = only_result(tool_client, task(preProcessorType=name, outputFormat="PNG"))
        guides[name] = guide_of(item).convert("RGB").tobytes()
    assert len(set(guides.values())) == len(guides)


def test_width_and_height_shrink_only_a_larger_input(tool_client: RestClient) -> None:
    assert guide_of(only_result(tool_client, task(width=128))).size == (96, 64)
    sent = task(inputImage=disc_uri((384, 256)), width=192)
    assert guide_of(only_result(tool_client, sent)).size == (192, 128)


def test_the_canny_thresholds_decide_which_edges_are_kept(tool_client: RestClient) -> None:
    faint = disc_uri(colour=(214, 214, 214))  # an edge of 14 grey levels: below 100 and 200

    def brightness(**settings: Any) -> float:
        item = only_result(tool_client, task(inputImage=faint, **settings))
        return ImageStat.Stat(guide_of(item).convert("L")).mean[0]

    assert brightness() < 1
    assert brightness(lowThresholdCanny=10, highThresholdCanny=20) > 1
    assert brightness(settings={"lowThresholdCanny": 10, "highThresholdCanny": 20}) > 1


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"preProcessorType": "sobel"}, "unsupportedPreProcessorType", "preProcessorType"),
    ({"preProcessorType": None}, "missingParameter", "preProcessorType"),
    ({"model": "runware:controlnet-preprocess@depth"}, "incompatibleParameters",
     "preProcessorType"),
    ({"model": "runware:0@0"}, "invalidModel", "model"),
    ({"highThresholdCanny": 256}, "invalidHighThresholdCanny", "highThresholdCanny"),
    ({"outputFormat": "SVG"}, "unsupportedOutputFormat", "outputFormat"),
])
def test_what_is_not_its_own_is_refused(tool_client: RestClient, overrides: dict[str, Any],
                                         code: str, parameter: str) -> None:
    sent = task(**overrides)
    if sent["preProcessorType"] is None:
        del sent["preProcessorType"]
    problem = only_error(tool_client, sent)
    assert (problem["code"], problem["parameter"]) == (code, parameter)
