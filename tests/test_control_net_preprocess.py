"""``controlNetPreprocess`` and ``imageControlNetPreProcess`` over REST as clients send them
(runware-surface.md §2.4): the legacy form (``preProcessorType`` in any case, as ComfyUI
sends ``Canny``) and the modern one (a preprocessor model and ``inputs.image``), sync and
async (sdk-js's default), the guide decoded, and the documented refusals. One emulator serves
the whole file."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import ImageStat

from tests.image_tools import DISC, ToolClient, disc_uri, fetched, image_task, opened


def task(task_type: str = "imageControlNetPreProcess", **overrides: Any) -> dict[str, Any]:
    return image_task(task_type, **{"preProcessorType": "canny", **overrides})


def guide_of(item: dict[str, Any]):
    assert "imageUUID" not in item and item["guideImageUUID"]
    return opened(fetched(item["guideImageURL"]))


@pytest.mark.parametrize("name", ["controlNetPreprocess", "imageControlNetPreProcess"])
def test_canny_in_any_case_draws_the_edges_of_the_input(tool_client: ToolClient,
                                                        name: str) -> None:
    item = tool_client.only_result(task(name, preProcessorType="Canny"))
    assert item["guideImageURL"].endswith(".jpg")  # JPG by default
    guide = guide_of(item).convert("L")
    assert guide.size == DISC.size
    left, top, _, _ = DISC.box
    edge = max(guide.getpixel((left + dx, (top + DISC.box[3]) // 2)) for dx in range(-2, 3))
    assert edge > 128 and guide.getpixel(DISC.inside) < 64 and guide.getpixel(DISC.backdrop) < 64


def test_async_as_sdk_js_sends_it_is_polled(tool_client: ToolClient) -> None:
    item = tool_client.polled(task(deliveryMethod="async"))
    assert guide_of(item).size == DISC.size


def test_the_modern_form_names_the_preprocessor_by_model(tool_client: ToolClient) -> None:
    sent = task("controlNetPreprocess", model="runware:controlnet-preprocess@depth",
                inputs={"image": disc_uri()}, outputFormat="png", includeCost=True)
    del sent["inputImage"], sent["preProcessorType"]
    item = tool_client.only_result(sent)
    assert item["guideImageURL"].endswith(".png") and item["cost"] == 0.0006
    depth = guide_of(item).convert("L")
    # Depth: the subject stands nearer (brighter) than the backdrop beside it.
    assert depth.getpixel(DISC.inside) > depth.getpixel((DISC.backdrop[0], DISC.inside[1]))


def test_each_preprocessor_gives_its_own_guide(tool_client: ToolClient) -> None:
    guides = {}
    for name in ("depth", "openpose", "seg", "LineArtAnime", "NormalBAE", "tile"):
        item = tool_client.only_result(task(preProcessorType=name, outputFormat="PNG"))
        guides[name] = guide_of(item).convert("RGB").tobytes()
    assert len(set(guides.values())) == len(guides)


def test_width_and_height_shrink_only_a_larger_input(tool_client: ToolClient) -> None:
    assert guide_of(tool_client.only_result(task(width=128))).size == (96, 64)
    sent = task(inputImage=disc_uri((384, 256)), width=192)
    assert guide_of(tool_client.only_result(sent)).size == (192, 128)


def test_the_canny_thresholds_decide_which_edges_are_kept(tool_client: ToolClient) -> None:
    faint = disc_uri(colour=(214, 214, 214))  # an edge of 14 grey levels: below 100 and 200

    def brightness(**settings: Any) -> float:
        item = tool_client.only_result(task(inputImage=faint, **settings))
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
def test_what_is_not_its_own_is_refused(tool_client: ToolClient, overrides: dict[str, Any],
                                         code: str, parameter: str) -> None:
    assert tool_client.refusal(task(**overrides)) == (code, parameter)
