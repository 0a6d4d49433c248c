"""Per-model image sizes in process (contract/image_sizes.py and its use by validation): the
catalog's lists against Runware's model pages, and what a size a model does not make gets.
(Expected values come from the pages, quoted in runware-surface.md 3.5 or read on
runware.ai/docs/models/<slug>, never from the code under test.)"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runware_mock.contract import image_sizes
from runware_mock.contract import strategies_images as si
from runware_mock.contract.validation import check_task

# runware-surface.md 3.5 and the model pages' "Compatibility & Validation" sections.
DALL_E_3 = ["1024x1024", "1792x1024", "1024x1792"]
GPT_IMAGE_1 = ["1024x1024", "1536x1024", "1024x1536"]
IMAGEN_3 = ["1024x1024", "768x1408", "1408x768", "896x1280", "1280x896"]
KONTEXT = ["1568x672", "1392x752", "1184x880", "1248x832", "1024x1024", "832x1248", "880x1184",
           "752x1392", "672x1568"]
BRIA_3_2 = ["1024x1024", "832x1216", "1216x832", "896x1152", "1152x896", "896x1088",
            "1088x896", "768x1344", "1344x768"]


def task(model: str, **fields: Any) -> dict[str, Any]:
    return {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": model,
            "positivePrompt": "a lighthouse at dusk", **fields}


def errors_of(sent: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(problem.code, problem.parameter, problem.allowed_values)
            for problem in check_task(sent).errors]


@pytest.mark.parametrize(("air", "sizes"), [
    ("openai:2@3", DALL_E_3), ("openai:1@1", GPT_IMAGE_1), ("google:1@1", IMAGEN_3),
    ("google:2@2", IMAGEN_3), ("bfl:3@1", KONTEXT), ("bfl:4@1", KONTEXT),
    ("bria:10@1", BRIA_3_2), ("openai:2@2", ["256x256", "512x512", "1024x1024"])])
def test_the_catalog_lists_the_sizes_the_pages_publish(air: str, sizes: list[str]) -> None:
    rule = image_sizes.sizes_of(air)
    assert rule is not None and rule.listed == sizes
    assert rule.source


def test_seedream_4_makes_its_1k_2k_and_4k_sizes() -> None:
    rule = image_sizes.sizes_of("bytedance:5@0")
    assert rule is not None and len(rule.sizes) == 17
    assert {"1024x1024", "2048x2048", "2560x1440", "4096x4096", "6048x2592"} <= set(rule.listed)


def test_flux_pro_makes_256_to_1440_per_side() -> None:
    for air in ("bfl:1@1", "bfl:2@1"):
        rule = image_sizes.sizes_of(air)
        assert rule is not None
        assert rule.makes(256, 1440) and rule.makes(1440, 256) and rule.makes(1000, 700)
        assert not rule.makes(255, 1024) and not rule.makes(1024, 1441)


def test_gpt_image_2_makes_480_to_3840_in_steps_of_16() -> None:
    rule = image_sizes.sizes_of("openai:gpt-image@2")
    assert rule is not None and rule.makes(480, 3840) and rule.makes(1536, 1024)
    assert not rule.makes(464, 1024) and not rule.makes(1030, 1024)


def test_models_without_a_page_list_keep_the_generic_rule() -> None:
    for air in ("runware:101@1", "bfl:5@1", "ideogram:3@1", "civitai:133005@782002"):
        assert image_sizes.sizes_of(air) is None


def test_a_size_the_model_makes_is_accepted() -> None:
    assert errors_of(task("openai:2@3", width=1792, height=1024)) == []
    # 1392 is no multiple of 64: the model's list, not the generic rule, judges it.
    assert errors_of(task("bfl:3@1", width=1392, height=752)) == []


def test_a_size_the_model_does_not_make_is_unsupported_dimensions() -> None:
    assert errors_of(task("openai:2@3", width=512, height=512)) == [
        ("unsupportedDimensions", "width", DALL_E_3)]
    assert errors_of(task("openai:2@3", width=1536, height=1024)) == [
        ("unsupportedDimensions", "width", DALL_E_3)]
    assert errors_of(task("bfl:2@1", width=2048, height=1024)) == [
        ("unsupportedDimensions", "width", None)]


def test_the_refusal_names_the_task() -> None:
    sent = task("openai:1@1", width=1792, height=1024)
    (problem,) = check_task(sent).errors
    assert (problem.task_type, problem.task_uuid) == ("imageInference", sent["taskUUID"])
    assert problem.to_json()["allowedValues"] == GPT_IMAGE_1


def test_a_width_of_the_wrong_type_is_still_the_schemas_error() -> None:
    assert errors_of(task("openai:2@3", width="wide", height=1024))[0][:2] == (
        "invalidWidth", "width")


def test_the_generic_rule_still_holds_without_a_list() -> None:
    assert errors_of(task("runware:101@1", width=1000, height=1024))[0][:2] == (
        "invalidWidth", "width")
    assert errors_of(task("runware:101@1", width=1024, height=1024)) == []


def test_without_a_size_a_model_makes_its_default() -> None:
    assert image_sizes.output_size(task("openai:2@3")) == (1024, 1024)
    # Runway Gen-4 Image's list starts with 1920x1080.
    assert image_sizes.output_size(task("runway:4@1")) == (1920, 1080)
    assert image_sizes.output_size(task("runware:101@1")) == (1024, 1024)
    assert image_sizes.output_size(task("openai:2@3", width=1024, height=1792)) == (1024, 1792)


def test_midjourney_takes_its_settings_and_others_refuse_them() -> None:
    settings = {"midjourney": {"quality": 2, "stylize": 500, "chaos": 25}}
    # runware.ai/docs/providers/midjourney's example request.
    assert errors_of(task("midjourney:3@1", width=1456, height=816,
                          providerSettings=settings)) == []
    assert errors_of(task("openai:2@3", providerSettings=settings))[0][:2] == (
        "mismatchProviderSettingsProvider", "providerSettings.midjourney")


# The fixed set of the Midjourney provider page, as deankerr/ig notes/providers/midjourney.md
# copies it: 1:1, 4:3 and 3:4, 3:2 and 2:3, 16:9 and 9:16, 21:9.
MIDJOURNEY = ["1024x1024", "1232x928", "928x1232", "1344x896", "896x1344", "1456x816",
              "816x1456", "1680x720"]


def test_the_three_midjourney_models_make_the_pages_sizes_only() -> None:
    for air in ("midjourney:1@1", "midjourney:2@1", "midjourney:3@1"):
        for size in MIDJOURNEY:
            width, height = map(int, size.split("x"))
            assert errors_of(task(air, width=width, height=height)) == [], (air, size)
        (problem,) = errors_of(task(air, width=720, height=1680))
        assert problem[:2] == ("unsupportedDimensions", "width")


@settings(max_examples=40, suppress_health_check=list(HealthCheck), deadline=None)
@given(task=si.image_tasks(st.sampled_from(["openai:2@3", "bfl:3@1", "openai:gpt-image@2"])))
def test_the_valid_strategies_draw_only_sizes_the_model_makes(task: dict[str, Any]) -> None:
    if task["model"] == "openai:2@3" and "width" in task:
        assert f"{task['width']}x{task['height']}" in DALL_E_3
    assert errors_of(task) == []


@settings(max_examples=30, suppress_health_check=list(HealthCheck), deadline=None)
@given(air=st.sampled_from(["openai:2@3", "bfl:2@1", "openai:gpt-image@2"]), data=st.data())
def test_the_invalid_strategies_break_a_made_size_into_an_unmade_one(air: str,
                                                                      data: st.DataObject) -> None:
    """What invalid_image_tasks sets one side of a made size to (si.unmade_sides)."""
    rule = image_sizes.sizes_of(air)
    assert rule is not None
    _, height = data.draw(si.published_sizes(rule))
    side = data.draw(si.unmade_sides(rule, 0))
    (code, parameter, allowed), = errors_of(task(air, width=side, height=height))
    assert (code, parameter) == ("unsupportedDimensions", "width")
    assert allowed == (rule.listed or None)
