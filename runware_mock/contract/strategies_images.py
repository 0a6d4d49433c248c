"""Hypothesis strategies for the image task types: valid imageInference and upscale tasks, and
tasks with exactly one field broken together with the one error the emulator must answer.

The broken tasks are derived from the request schemas (``strategies.invalid_tasks``: every
bound, enum, multiple, array and required field of the model's family schema), applied to a
valid task of this module. Hand-written here, because no schema can say them:

- the valid tasks: they carry what their result must be (``expected_size``), real images to
  upscale (``small_images``), and keep a test's work small (numberResults, sizes);
- upscale's model: the schema takes any AIR, the catalog (``upscale.toml``) says which.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from hypothesis import strategies as st
from PIL import Image

from runware_mock.contract import image_sizes, model_catalog, schemas
from runware_mock.contract.schema_strategies import Violation, code_for, wrong_types
from runware_mock.contract.strategies import (
    InvalidCase,
    invalid_tasks,
    published_sizes,
    valid_tasks,
)

IMAGE_MODELS = model_catalog.airs("imageInference")
UPSCALE_MODELS = tuple(air for air in model_catalog.airs("upscale")
                       if model_catalog.model(air).family.output == "image")


# Fields a valid task here leaves out, so that it renders from nothing but itself: media
# inputs the emulator would fetch and callbacks it would call.
LEFT_OUT = ("seedImage", "maskImage", "referenceImages", "inputs", "webhookURL",
            "uploadEndpoint")


def image_tasks(models: st.SearchStrategy[str] | None = None,
                most_results: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Valid sync imageInference tasks (``deliveryMethod`` absent or sync): any catalog model,
    the fields its schema takes (but ``LEFT_OUT``), each present or not within its bounds.
    ``most_results`` bounds numberResults (the schema allows 20) to keep a test's work small."""
    def of_model(model: str) -> st.SearchStrategy[dict[str, Any]]:
        overrides = {("model",): st.just(model), ("deliveryMethod",): st.just("sync"),
                     ("numberResults",): st.integers(1, most_results)}
        return valid_tasks(schemas.MODEL_SCHEMAS[model], overrides, LEFT_OUT).map(_sized)

    return (models if models is not None else st.sampled_from(IMAGE_MODELS)).flatmap(of_model)


def _sized(task: dict[str, Any]) -> dict[str, Any]:
    """Width and height come together or not at all (a rule across fields)."""
    if "width" in task and "height" in task:
        return task
    return {name: value for name, value in task.items() if name not in ("width", "height")}


def unmade_sides(rule: image_sizes.ImageSizes, index: int) -> st.SearchStrategy[int]:
    """A width (``index`` 0) or height (1) no size of the model has, whatever the other side."""
    if rule.sizes:
        made = {size[index] for size in rule.sizes}
        return st.integers(1, 16384).filter(lambda side: side not in made)
    return st.integers(1, 16384).filter(lambda side: not rule.makes(side, rule.least))


def expected_size(task: dict[str, Any]) -> tuple[int, int]:
    """The size every result of a valid image task has: the asked one, else the model's
    default (the first size it publishes, or 1024x1024)."""
    return image_sizes.output_size(task)


def invalid_image_tasks(models: st.SearchStrategy[str] | None = None,
                        ) -> st.SearchStrategy[InvalidCase]:
    """A valid image task (of ``models``, else any) with exactly one field broken, and the
    error it must get. A model with published sizes is asked one it does not make
    (unsupportedDimensions)."""
    def broken(task: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
        rule = image_sizes.sizes_of(task["model"])
        if rule is None:
            return invalid_tasks(schemas.MODEL_SCHEMAS[task["model"]], st.just(task))
        asking = published_sizes(rule).map(
            lambda size: {**task, "width": size[0], "height": size[1]})
        return invalid_tasks(schemas.MODEL_SCHEMAS[task["model"]], asking,
                             {("width",): _size_violations("width", rule),
                              ("height",): _size_violations("height", rule)})

    return image_tasks(models).flatmap(broken)


def _size_violations(name: str, rule: image_sizes.ImageSizes,
                     ) -> list[st.SearchStrategy[Violation]]:
    """A width (or height) of the wrong type, and one making a size the model does not make:
    the task asks a size it makes, so breaking one side alone gives a size it does not."""
    allowed = rule.listed or None
    wrong = wrong_types("integer").map(
        lambda value: Violation((name,), value, code_for((name,), "invalid")))
    unmade = unmade_sides(rule, 0 if name == "width" else 1).map(lambda side: Violation(
        (name,), side, "unsupportedDimensions", allowed, reported="width"))
    return [wrong, unmade]


# --- upscale --------------------------------------------------------------------------------

@st.composite
def small_images(draw: st.DrawFn) -> tuple[str, tuple[int, int]]:
    """(a data URI or raw base64 of a small PNG or JPEG, its size)."""
    size = (draw(st.integers(8, 96)), draw(st.integers(8, 96)))
    colour = tuple(draw(st.integers(0, 255)) for _ in range(3))
    pillow_format = draw(st.sampled_from(["PNG", "JPEG"]))
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, pillow_format)
    data = base64.b64encode(buffer.getvalue()).decode()
    mime = "image/png" if pillow_format == "PNG" else "image/jpeg"
    return draw(st.sampled_from([f"data:{mime};base64,{data}", data])), size


UPSCALE_SCHEMA = "request.upscale"


@st.composite
def upscale_tasks(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, int]]:
    """(a valid sync task, the size its result must have), sent as upscale or imageUpscale
    (the schema's taskType enum). The image comes as inputImage or inputs.image (a choice
    across fields), and the model from the catalog."""
    image, (width, height) = draw(small_images())
    factor = draw(st.one_of(st.sampled_from([2, 3, 4]), st.floats(2, 4, allow_nan=False)))
    # An image's formats (the schema lists a video's too), and none of a video's fields.
    overrides = {("model",): st.sampled_from(UPSCALE_MODELS), ("upscaleFactor",): st.just(factor),
                 ("deliveryMethod",): st.just("sync"),
                 ("outputFormat",): st.sampled_from(["JPG", "PNG", "WEBP"])}
    task = draw(valid_tasks(UPSCALE_SCHEMA, overrides,
                            ("inputImage", "width", "height", "fps", *LEFT_OUT)))
    # Absent, upscaleFactor is its documented default.
    factor = task.get("upscaleFactor", schemas.inlined(UPSCALE_SCHEMA)["properties"]
                      ["upscaleFactor"]["default"])
    if draw(st.booleans(), label="top-level inputImage"):
        task["inputImage"] = image
    else:
        task["inputs"] = {"image": image}
    return task, (max(1, round(width * factor)), max(1, round(height * factor)))


def invalid_upscale_tasks() -> st.SearchStrategy[InvalidCase]:
    """A valid upscale task with exactly one field broken (from its schema), or a model the
    catalog does not list for upscale."""
    catalog_model = st.sampled_from(["nonexistent:999@999", "runware:400@2"]).map(
        lambda model: Violation(("model",), model, "invalidModel"))
    return invalid_tasks(UPSCALE_SCHEMA, upscale_tasks().map(lambda pair: pair[0]),
                         {("model",): [catalog_model]})
