"""``vectorize`` over REST as clients send it (runware-surface.md §2.3): sync and async, both
input styles, the V4 vector models from text, the SVG parsed as XML, and the documented
refusals. One emulator serves the whole file."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest

from tests.image_tools import DISC, ToolClient, disc_uri, fetched, new_uuid

SVG = "{http://www.w3.org/2000/svg}"


def task(**overrides: Any) -> dict[str, Any]:
    return {"taskType": "vectorize", "taskUUID": new_uuid(), "inputs": {"image": disc_uri()},
            **overrides}


def svg_of(item: dict[str, Any]) -> ElementTree.Element:
    assert item["imageURL"].endswith(f"/image/{item['imageUUID']}.svg")
    return ElementTree.fromstring(fetched(item["imageURL"]))


def fills(root: ElementTree.Element) -> set[str]:
    return {node.get("fill", "") for node in root.iter() if node.tag in (f"{SVG}rect",
                                                                           f"{SVG}path")}


def test_a_sync_task_answers_a_well_formed_svg_at_the_inputs_size(tool_client: ToolClient) -> None:
    root = svg_of(tool_client.only_result(task(outputFormat="svg")))  # ComfyUI's spelling
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == tuple(str(side) for side in DISC.size)
    assert root.findall(f"{SVG}path")  # the disc is traced, not only the backdrop


def test_async_and_the_legacy_input_are_answered_alike(tool_client: ToolClient) -> None:
    sent = task(deliveryMethod="async", inputImage=disc_uri())
    del sent["inputs"]
    assert svg_of(tool_client.polled(sent)).tag == f"{SVG}svg"


def test_recraft_colours_and_size_are_used(tool_client: ToolClient) -> None:
    root = svg_of(tool_client.only_result(task(width=256, height=256, providerSettings={
        "recraft": {"colors": [{"rgb": [0, 0, 0]}, {"rgb": [255, 255, 0]}],
                    "backgroundColor": {"rgb": [255, 255, 255]}}})))
    assert (root.get("width"), root.get("height")) == ("256", "256")
    assert fills(root) <= {"#000000", "#ffff00", "#ffffff"}


def test_a_v4_vector_model_draws_from_text_and_is_priced(tool_client: ToolClient) -> None:
    item = tool_client.only_result({"taskType": "vectorize", "taskUUID": new_uuid(),
                                   "model": "recraft:v4@vector", "positivePrompt": "a fox",
                                   "width": 1024, "height": 1024, "includeCost": True})
    assert svg_of(item).get("width") == "1024"
    assert item["cost"] == 0.08


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"model": "runware:0@0"}, "invalidModel", "model"),
    ({"outputFormat": "PNG"}, "unsupportedOutputFormat", "outputFormat"),
    ({"model": "recraft:v4@vector", "width": 1000, "height": 1000}, "invalidDimensions",
     "width"),
    ({"width": 127}, "invalidWidth", "width"),
    ({"providerSettings": {"recraft": {"colors": [{"rgb": [0, 0, 256]}]}}}, "invalidRgb",
     "providerSettings.recraft.colors.0.rgb.2"),
    ({"inputs": {}}, "missingParameter", "inputImage"),
])
def test_what_is_not_its_own_is_refused(tool_client: ToolClient, overrides: dict[str, Any],
                                         code: str, parameter: str) -> None:
    assert tool_client.refusal(task(**overrides)) == (code, parameter)
