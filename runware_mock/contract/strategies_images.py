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

from runware_mock.contract import model_catalog, schemas
from runware_mock.contract.schema_strategies import Violation
from runware_mock.contract.strategies import InvalidCase, invalid_tasks, task_uuids

IMAGE_MODELS = model_catalog.airs("imageInference")
UPSCALE_MODELS = tuple(air for air in model_catalog.airs("upscale")
                       if model_catalog.model(air).family.output == "image")
SIDES = tuple(range(512, 2049, 64))
OUTPUT_TYPES = ("URL", "base64Data", "dataURI")
FORMATS = ("JPG", "PNG", "WEBP")


def _schema(model: str) -> dict[str, Any]:
    return schemas.inlined(schemas.MODEL_SCHEMAS[model])


def prompts() -> st.SearchStrategy[str]:
    """4 to 2000 characters, the edges drawn often; long ones repeat a short unit."""
    return st.one_of(st.text(min_size=4, max_size=40),
                     st.sampled_from([4, 2000]).flatmap(
                         lambda length: st.text(min_size=1, max_size=6).map(
                             lambda unit: (unit * length)[:length]).filter(
                             lambda text: len(text) == length)))


def output_types() -> st.SearchStrategy[str | list[str]]:
    return st.one_of(st.sampled_from(OUTPUT_TYPES),
                     st.lists(st.sampled_from(OUTPUT_TYPES), min_size=1, max_size=3,
                              unique=True))


@st.composite
def image_tasks(draw: st.DrawFn, models: st.SearchStrategy[str] | None = None,
                most_results: int = 2) -> dict[str, Any]:
    """Valid sync imageInference tasks (``deliveryMethod`` absent or sync): any catalog model,
    the fields its schema takes, each present or not within its bounds. ``most_results``
    bounds numberResults (the schema allows 20) to keep a test's work small."""
    model = draw(models or st.sampled_from(IMAGE_MODELS))
    properties = _schema(model)["properties"]
    size_required = "width" in _schema(model).get("required", ())
    task: dict[str, Any] = {"taskType": "imageInference", "taskUUID": draw(task_uuids()),
                            "model": model, "positivePrompt": draw(prompts())}
    if size_required or draw(st.booleans()):
        task["width"], task["height"] = draw(st.sampled_from(SIDES)), draw(st.sampled_from(SIDES))
    optional: dict[str, st.SearchStrategy[Any]] = {
        "numberResults": st.integers(1, most_results),
        "seed": st.one_of(st.sampled_from([0, 2**32 - 1]), st.integers(0, 2**32 - 1)),
        "outputType": output_types(),
        "outputFormat": st.sampled_from(FORMATS),
        "outputQuality": st.integers(20, 99),
        "includeCost": st.booleans(),
        "deliveryMethod": st.just("sync"),
        "negativePrompt": st.text(max_size=30),
        "checkNSFW": st.booleans(),
        "steps": st.integers(1, 100),
        "CFGScale": st.one_of(st.integers(0, 30), st.floats(0, 30, allow_nan=False)),
        "scheduler": st.sampled_from(properties.get("scheduler", {}).get("enum", ["Default"])),
        "strength": st.floats(0, 1, allow_nan=False),
        "clipSkip": st.integers(0, 2),
    }
    for name, values in optional.items():
        if name in properties and draw(st.booleans()):
            task[name] = draw(values)
    return task


def expected_size(task: dict[str, Any]) -> tuple[int, int]:
    """The size every result of a valid image task has."""
    return task.get("width", 1024), task.get("height", 1024)


def invalid_image_tasks() -> st.SearchStrategy[InvalidCase]:
    """A valid image task with exactly one field broken, and the error it must get."""
    return image_tasks().flatmap(lambda task: invalid_tasks(
        schemas.MODEL_SCHEMAS[task["model"]], st.just(task)))


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


@st.composite
def upscale_tasks(draw: st.DrawFn, schema_name: str | None = None,
                  ) -> tuple[dict[str, Any], tuple[int, int]]:
    """(a valid sync upscale or imageUpscale task, the size its result must have);
    ``schema_name`` picks one of the two."""
    image, (width, height) = draw(small_images())
    factor = draw(st.one_of(st.sampled_from([2, 3, 4]), st.floats(2, 4, allow_nan=False)))
    task_type = (schemas.inlined(schema_name)["properties"]["taskType"]["const"] if schema_name
                 else draw(st.sampled_from(["upscale", "imageUpscale"])))
    task: dict[str, Any] = {"taskType": task_type,
                            "taskUUID": draw(task_uuids()), "upscaleFactor": factor}
    if draw(st.booleans()):
        task["inputImage"] = image
    else:
        task["inputs"] = {"image": image}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "model": st.sampled_from(UPSCALE_MODELS), "outputType": output_types(),
        "outputFormat": st.sampled_from(FORMATS), "outputQuality": st.integers(20, 99),
        "includeCost": st.booleans()}
    for name, values in optional.items():
        if draw(st.booleans()):
            task[name] = draw(values)
    return task, (max(1, round(width * factor)), max(1, round(height * factor)))


def invalid_upscale_tasks() -> st.SearchStrategy[InvalidCase]:
    """A valid upscale task with exactly one field broken (from its schema), or a model the
    catalog does not list for upscale."""
    catalog_model = st.sampled_from(["nonexistent:999@999", "runware:400@2"]).map(
        lambda model: Violation(("model",), model, "invalidModel"))
    return st.sampled_from(["request.upscale", "request.imageUpscale"]).flatmap(
        lambda name: invalid_tasks(name, upscale_tasks(name).map(lambda pair: pair[0]),
                                   {("model",): [catalog_model]}))
