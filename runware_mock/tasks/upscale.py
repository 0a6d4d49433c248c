"""``upscale``: an input image made ``upscaleFactor`` times larger (each side, rounded to whole
pixels), labelled with the model and both sizes.

The model is optional (sdk-js and runware 0.5 send none): absent, it is the schema's default. A
model the catalog does not list for upscale is ``invalidModel``; the video upscalers are listed
but not emulated (``unsupportedModel``). The input is ``inputImage`` (legacy) or
``inputs.image``: a URL (fetched, or served from a ``--url-map`` folder), an upload's UUID, a
data URI or base64. runware 0.5 sends the same task as ``imageUpscale`` (an alias), and is
answered under that name: 0.5 picks its result class from the reply's taskType, and would read
an ``upscale`` item as a video.
"""

from __future__ import annotations

from pathlib import Path

from runware_mock.contract import model_catalog, schemas
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import UpscaleRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced, WorkFailed
from runware_mock.handling.image_results import image_fields, image_input
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import (
    Context,
    TaskServices,
    TaskType,
    without_inline_data,
)
from runware_mock.media.facade import Media
from runware_mock.media.placeholder import FORMATS, upscaled_size
from runware_mock.media.probe import ImageInfo
from runware_mock.protocol.envelope import Reply

# The model an upscale task that names none runs: the schema's default.
DEFAULT_MODEL = schemas.load("request.upscale")["properties"]["model"]["default"]
_UUID_LENGTH = 36


async def upscale(task: UpscaleRequest, context: Context, services: TaskServices) -> Reply:
    _check(task)
    return await submit(task, context, services, upscale_work(task, services))


def upscale_work(request: UpscaleRequest, services: TaskServices) -> UpscaleWork:
    return UpscaleWork(request, services.media, services.settings.max_upscale_pixels)


def image_upscalers() -> list[str]:
    return [air for air in model_catalog.airs("upscale")
            if model_catalog.model(air).family.output == "image"]


def _check(task: UpscaleRequest) -> None:
    """What the schema cannot say: the model against the catalog, and one input image."""
    model = task["model"]
    served = image_upscalers()
    if model not in served:
        listed = model in model_catalog.airs("upscale")
        raise ApiRefusal(error(
            "unsupportedModel" if listed else "invalidModel",
            f"{'Video upscaler' if listed else 'Invalid model'} {model[:100]!r}: this emulator "
            f"upscales images, with {', '.join(served)} (default {DEFAULT_MODEL}).",
            parameter="model", type="string", allowed_values=served))
    inputs = task.get("inputs", {})
    if "video" in inputs:
        raise ApiRefusal(error("unsupportedParameter", "Unsupported parameter: inputs.video. "
                               "This emulator upscales images only (inputImage or "
                               "inputs.image).", parameter="inputs.video"))
    given = [name for name, present in (("inputImage", "inputImage" in task),
                                        ("inputs.image", "image" in inputs)) if present]
    if not given:
        raise ApiRefusal(error("missingParameter", "Missing required parameter: inputImage "
                               "(or inputs.image).", parameter="inputImage", type="string"))
    if len(given) == 2:
        raise ApiRefusal(error("invalidInputImage", "Give inputImage or inputs.image, not both.",
                               parameter="inputImage", type="string"))


class UpscaleWork:
    """The engine's ``Work`` for one upscale task."""

    def __init__(self, request: UpscaleRequest, media: Media, max_pixels: int) -> None:
        self._request = request
        self._media = media
        self._max_pixels = max_pixels
        self._source: tuple[Path, ImageInfo] | None = None

    def measured_now(self) -> float | None:
        return None

    async def measure(self) -> float:
        parameter, spec = self._input()
        path, info = await image_input(self._media, parameter, spec)
        width, height = upscaled_size(info.width, info.height, self._request["upscaleFactor"])
        if width * height > self._max_pixels:
            raise WorkFailed(error(
                "invalidUpscaleFactor", f"{parameter} is {info.width}x{info.height} px: "
                f"upscaled {self._request['upscaleFactor']:g}x it would be {width}x{height}, "
                f"over the {self._max_pixels} pixels this emulator makes "
                "(--max-upscale-pixels).", parameter="upscaleFactor", type="number"))
        self._source = (path, info)
        return 0.0

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        assert self._source is not None, "produced before measured"
        request = self._request
        path, info = self._source
        factor = request["upscaleFactor"]
        size = upscaled_size(info.width, info.height, factor)
        caption = (f"upscaled {factor:g}x", f"model {request['model']}",
                   f"{info.width}x{info.height} -> {size[0]}x{size[1]}   "
                   f"{request['outputFormat']}")
        fields, image_uuid = await image_fields(
            self._media, request, generation.index, FORMATS[request["outputFormat"]][1], expiry,
            lambda: self._media.images.upscale(path, size, caption, request["outputFormat"],
                                               request["outputQuality"]))
        _, spec = self._input()
        if len(spec) == _UUID_LENGTH and spec.count("-") == 4:
            fields["inputImageUUID"] = spec
        price = model_catalog.model(request["model"]).price
        return Produced(fields, cost=price.of(megapixels=size[0] * size[1] / 1e6),
                        file=("image", image_uuid))

    def forget_inline_data(self) -> None:
        if "inputImage" in self._request:
            self._request["inputImage"] = without_inline_data(
                {"inputImage": self._request["inputImage"]})["inputImage"]
        if "inputs" in self._request:
            self._request["inputs"] = without_inline_data(self._request["inputs"])

    def _input(self) -> tuple[str, str]:
        inputs = self._request.get("inputs", {})
        if "image" in inputs:
            return "inputs.image", inputs["image"]
        return "inputImage", self._request["inputImage"]


TASK_TYPE = TaskType.later("upscale", upscale, upscale_work, schema="request.upscale",
                           aliases=("imageUpscale",))
