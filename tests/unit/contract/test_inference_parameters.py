"""Issue 24: every documented imageInference parameter is accepted on a model whose architecture
takes it and refused where it does not (runware-surface.md 3.1-3.4), with its documented
bounds; ``null`` means absent; enums the real service matches case-insensitively are answered
in their canonical spelling. In-process: the validation both transports run."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from runware_mock.contract.validation import check_task

SDXL = "civitai:133005@782002"  # Juggernaut XL: runware-sdk 1.8's README (SdxlArchParams)
FLUX_DEV = "runware:101@1"
FLUX_SCHNELL = "runware:100@1"
FLUX_FILL = "runware:102@1"  # ACE++ "requires model runware:102@1"
KONTEXT = "runware:106@1"
KLEIN = "runware:400@2"  # "also takes acceleration, acceleratorOptions, lora ..."
Z_IMAGE = "runware:z-image@0"
Z_IMAGE_TURBO = "runware:z-image@turbo"
QWEN_EDIT = "runware:108@20"
OPENAI = "openai:1@1"
LUMA = "luma:uni@1"
EXACTLY = "exactly:photo@journey"
KREA = "krea:krea@2-large"  # Krea 2: acceleration, no accelerator options
IMAGE = "https://example.com/guide.png"
LORA = [{"model": "civitai:58390@62833", "weight": 0.8}]


def image(model: str, **fields: Any) -> dict[str, Any]:
    return {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": model,
            "positivePrompt": "a lighthouse at dusk", "width": 1024, "height": 1024, **fields}


def problems(task: dict[str, Any]) -> list[tuple[str, str]]:
    return [(found.code, str(found.parameter)) for found in check_task(task).errors]


# (field, value, a model that takes it, a model whose architecture does not)
FAMILIES = [
    ("lora", LORA, FLUX_SCHNELL, OPENAI),
    ("controlNet", [{"model": "runware:25@1", "guideImage": IMAGE, "weight": 0.5,
                     "startStepPercentage": 0, "endStepPercentage": 80}], FLUX_DEV, FLUX_SCHNELL),
    ("controlNet", [{"model": "runware:25@1", "guideImage": IMAGE}], Z_IMAGE_TURBO, Z_IMAGE),
    ("ipAdapters", [{"model": "runware:55@1", "guideImage": IMAGE, "weight": 1}], SDXL,
     Z_IMAGE_TURBO),
    ("embeddings", [{"model": "civitai:7808@9208", "weight": -1}], SDXL, FLUX_DEV),
    ("refiner", {"model": "civitai:101055@128080", "startStepPercentage": 80}, SDXL, FLUX_DEV),
    ("outpaint", {"top": 128, "left": 64, "blur": 16}, FLUX_DEV, KONTEXT),
    ("acceleratorOptions", {"teaCache": True, "teaCacheDistance": 0.6}, FLUX_DEV, KREA),
    ("acceleratorOptions", {"deepCache": True, "deepCacheInterval": 3}, SDXL, FLUX_DEV),
    ("acceleration", "high", KLEIN, SDXL),
    ("acceleration", "low", KREA, FLUX_DEV),
    ("promptWeighting", "compel", SDXL, KONTEXT),
    ("vae", "civitai:1@2", SDXL, FLUX_DEV),
    ("maskMargin", 64, SDXL, KONTEXT),
    ("puLID", {"inputImages": [IMAGE], "idWeight": 2}, FLUX_DEV, FLUX_SCHNELL),
    ("acePlusPlus", {"type": "subject", "repaintingScale": 0.5}, FLUX_FILL, FLUX_DEV),
    ("strength", 0.4, QWEN_EDIT, KONTEXT),
    ("clipSkip", 2, SDXL, FLUX_DEV),
    ("hiresFix", True, SDXL, KLEIN),
    ("trueCFGScale", 4, FLUX_DEV, SDXL),
    ("settings", {"quality": "high"}, EXACTLY, SDXL),
    ("advancedFeatures", {"layerDiffuse": True, "watermark": {"text": "x", "opacity": 0.5}},
     FLUX_DEV, None),
    ("providerSettings", {"openai": {"quality": "high", "background": "transparent"}}, OPENAI,
     EXACTLY),
    ("providerSettings", {"lumaai": {"loop": True}}, LUMA, SDXL),
]


@pytest.mark.parametrize(("field", "value", "takes", "refuses"), FAMILIES)
def test_a_parameter_is_accepted_where_the_architecture_takes_it(
        field: str, value: Any, takes: str, refuses: str | None) -> None:
    assert problems(image(takes, **{field: value})) == []
    if refuses is not None:
        refused = problems(image(refuses, **{field: value}))
        # Not taken at all, or (providerSettings) another provider's key.
        codes = ("unsupportedParameter", "mismatchProviderSettingsProvider")
        assert refused and all(code in codes for code, _ in refused), refused
        assert refused[0][1].split(".")[0] == field


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("lora", [{"model": "civitai:58390@62833", "weight": 4.5}], ("invalidWeight", "lora.0.weight")),
    ("lora", [{"weight": 1}], ("missingParameter", "lora.0.model")),
    ("controlNet", [{"model": "runware:20@1", "guideImage": IMAGE, "weight": 1.5}],
     ("invalidWeight", "controlNet.0.weight")),
    ("controlNet", [{"model": "runware:20@1"}], ("missingParameter", "controlNet.0.guideImage")),
    ("embeddings", [{"model": "civitai:7808@9208", "weight": -5}],
     ("invalidWeight", "embeddings.0.weight")),
    ("refiner", {"startStep": 10}, ("missingParameter", "refiner.model")),
    ("outpaint", {"top": 100}, ("invalidTop", "outpaint.top")),
    ("outpaint", {"blur": 33}, ("invalidBlur", "outpaint.blur")),
    ("acceleratorOptions", {"cacheMaxConsecutiveSteps": 6},
     ("invalidCacheMaxConsecutiveSteps", "acceleratorOptions.cacheMaxConsecutiveSteps")),
    ("maskMargin", 16, ("invalidMaskMargin", "maskMargin")),
    ("maskMargin", 129, ("invalidMaskMargin", "maskMargin")),
    ("clipSkip", 3, ("invalidClipSkip", "clipSkip")),
    ("CFGScale", 50.5, ("invalidCFGScale", "CFGScale")),
    ("steps", 101, ("invalidSteps", "steps")),
    ("strength", 1.1, ("invalidStrength", "strength")),
    ("numberResults", 21, ("invalidNumberResults", "numberResults")),
    ("advancedFeatures", {"watermark": {"opacity": 0.05}},
     ("invalidOpacity", "advancedFeatures.watermark.opacity")),
    ("advancedFeatures", {"regionalPrompting": {"baseRatio": 0.5}},
     ("missingParameter", "advancedFeatures.regionalPrompting.injectSteps")),
    ("providerSettings", {"runware": {"anything": 1}},
     ("unsupportedParameter", "providerSettings.runware.anything")),
])
def test_every_documented_bound_is_refused(field: str, value: Any,
                                           expected: tuple[str, str]) -> None:
    assert problems(image(SDXL, **{field: value})) == [expected]


def test_pulid_takes_exactly_one_image() -> None:
    assert problems(image(FLUX_DEV, puLID={"inputImages": [IMAGE, IMAGE]})) == [
        ("invalidInputImages", "puLID.inputImages")]
    assert problems(image(FLUX_DEV, puLID={"idWeight": 1})) == [
        ("missingParameter", "puLID.inputImages")]


def test_a_flux_model_weights_prompts_with_sdembeds_only() -> None:
    (refused,) = check_task(image(FLUX_DEV, promptWeighting="compel")).errors
    assert (refused.code, refused.allowed_values) == ("unsupportedPromptWeighting", ["sdEmbeds"])


def test_teacache_is_for_transformers_and_deepcache_for_unets() -> None:
    assert problems(image(SDXL, acceleratorOptions={"teaCache": True})) == [
        ("unsupportedParameter", "acceleratorOptions.teaCache")]
    assert problems(image(FLUX_DEV, acceleratorOptions={"deepCache": True})) == [
        ("unsupportedParameter", "acceleratorOptions.deepCache")]


@pytest.mark.parametrize(("settings", "expected"), [
    ({"bfl": {"raw": True}}, ("mismatchProviderSettingsProvider", "providerSettings.bfl")),
    ({"acme": {}}, ("unknownProviderSettingsProvider", "providerSettings.acme")),
    ({"openai": {"quality": "ultra"}}, ("unsupportedQuality", "providerSettings.openai.quality")),
    ({"openai": {"seed": 1}}, ("unsupportedParameter", "providerSettings.openai.seed")),
])
def test_provider_settings_are_the_models_own_providers(settings: dict[str, Any],
                                                        expected: tuple[str, str]) -> None:
    assert problems(image(OPENAI, providerSettings=settings)) == [expected]


def test_provider_settings_keep_their_own_bounds() -> None:
    assert problems(image("bfl:2@1", providerSettings={"bfl": {"safetyTolerance": 6}})) == []
    assert problems(image("bfl:2@1", providerSettings={"bfl": {"safetyTolerance": 7}})) == [
        ("invalidSafetyTolerance", "providerSettings.bfl.safetyTolerance")]
    assert problems(image("ideogram:4@1", providerSettings={
        "ideogram": {"renderingSpeed": "turbo", "remixStrength": 100}})) == []


@pytest.mark.parametrize("side", [128, 192, 2048])
def test_sides_from_128_to_2048_in_steps_of_64_are_accepted(side: int) -> None:
    assert problems(image(SDXL, width=side, height=side)) == []
    assert problems(image(FLUX_DEV, width=side, height=1024)) == []


@pytest.mark.parametrize("side", [64, 127, 130, 2112])
def test_sides_off_the_range_or_the_step_are_refused(side: int) -> None:
    assert problems(image(SDXL, width=side)) == [("invalidWidth", "width")]


def test_null_members_are_absent() -> None:
    """runware 0.5.24 sends every unset controlNet[] and puLID member as null."""
    task = image(FLUX_DEV, seed=None, negativePrompt=None, controlNet=[
        {"model": "runware:25@1", "guideImage": IMAGE, "weight": None, "startStep": None,
         "endStep": None, "controlMode": None, "preprocessor": None}],
        puLID={"inputImages": [IMAGE], "idWeight": None, "trueCFGScale": None})
    checked = check_task(task)
    assert checked.errors == []
    assert "seed" not in checked.task
    assert checked.task["controlNet"] == [{"model": "runware:25@1", "guideImage": IMAGE}]
    assert checked.task["puLID"]["inputImages"] == [IMAGE]
    assert "idWeight" not in task["puLID"] or task["puLID"]["idWeight"] is None  # not mutated


def test_a_null_required_field_is_missing() -> None:
    assert problems(image(SDXL, width=None)) == [("missingParameter", "width")]


@pytest.mark.parametrize(("sent", "answered"), [
    ({"outputFormat": "jpg"}, {"outputFormat": "JPG"}),
    ({"outputFormat": "JPEG"}, {"outputFormat": "JPG"}),
    ({"outputFormat": "webp"}, {"outputFormat": "WEBP"}),
    ({"promptWeighting": "sdembeds"}, {"promptWeighting": "sdEmbeds"}),
    ({"acceleration": "HIGH"}, {"acceleration": "high"}),
])
def test_enums_match_whatever_their_case_and_answer_the_canonical_value(
        sent: dict[str, Any], answered: dict[str, Any]) -> None:
    model = KLEIN if "acceleration" in sent else SDXL
    checked = check_task(image(model, **sent))
    assert checked.errors == []
    assert {name: checked.task[name] for name in answered} == answered


def test_nested_enums_match_whatever_their_case() -> None:
    checked = check_task(image(SDXL, controlNet=[
        {"model": "runware:20@1", "guideImage": IMAGE, "controlMode": "Balanced"}]))
    assert checked.errors == []
    assert checked.task["controlNet"][0]["controlMode"] == "balanced"
    checked = check_task(image(OPENAI, providerSettings={"openai": {"quality": "HIGH"}}))
    assert checked.task["providerSettings"]["openai"]["quality"] == "high"


def test_a_value_that_spells_no_member_is_still_refused_with_the_allowed_values() -> None:
    (refused,) = check_task(image(SDXL, outputFormat="gif")).errors
    assert (refused.code, refused.allowed_values) == ("unsupportedOutputFormat",
                                                      ["JPG", "PNG", "WEBP"])


def test_an_unknown_top_level_field_is_still_refused() -> None:
    assert problems(image(FLUX_DEV, colour="red")) == [("unsupportedParameter", "colour")]
