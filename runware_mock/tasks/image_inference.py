"""``imageInference``: text-to-image and image-to-image, answered with placeholder images.

Each result is a real image of exactly the asked size that shows the prompt, the model and
the seed (``media.placeholder``). With a ``seed`` in the request, result ``i`` uses seed
``seed + i``, so the same request and seed give the same bytes; without one, each result gets
a seed from the run's seeded source. A seed image (``inputs.seedImage`` or the legacy
top-level ``seedImage``) is blended under the colours, ``strength`` deciding how much of it
shows; mask and reference images are fetched and checked, and named in the caption.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runware_mock.contract import image_sizes, model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import ImageInferenceRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.handling.image_results import image_fields, image_input
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import (
    Context,
    TaskServices,
    TaskType,
    without_inline_data,
)
from runware_mock.media.facade import Media
from runware_mock.media.placeholder import Picture
from runware_mock.protocol.envelope import Reply

# How much of the generated colours covers a seed image when the request says nothing.
DEFAULT_STRENGTH = 0.8
SEEDS = 2**32


async def image_inference(task: ImageInferenceRequest, context: Context,
                          services: TaskServices) -> Reply:
    given = [name for name in ("width", "height") if name in task]
    if len(given) == 1:
        absent = "height" if given == ["width"] else "width"
        raise ApiRefusal(error(
            "missingParameter", f"Missing required parameter: {absent}. width and height are "
            "given together, or neither (the model's default size).", parameter=absent,
            type="integer"))
    return await submit(task, context, services, image_work(task, services))


def image_work(request: ImageInferenceRequest, services: TaskServices) -> ImageWork:
    return ImageWork(request, services.media)


class ImageWork:
    """The engine's ``Work`` for one imageInference task."""

    def __init__(self, request: ImageInferenceRequest, media: Media) -> None:
        self._request = request
        self._media = media
        self._seed_image: Path | None = None
        self._others = 0

    def measured_now(self) -> float | None:
        """Without image inputs there is nothing to fetch: an image has no length."""
        return None if self._image_specs() else 0.0

    async def measure(self) -> float:
        for parameter, spec in self._image_specs():
            path, _ = await image_input(self._media, parameter, spec)
            if parameter.endswith("seedImage"):
                self._seed_image = path
            else:
                self._others += 1
        return 0.0

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        request = self._request
        # Without a size, the model's default: the first it publishes (contract/image_sizes).
        width, height = image_sizes.output_size(request)
        seed = ((request["seed"] + generation.index) % SEEDS if "seed" in request
                else generation.seed)
        picture = Picture(width, height, request["outputFormat"], request["outputQuality"],
                          seed, self._caption(width, height, seed), self._seed_image,
                          request.get("strength", DEFAULT_STRENGTH))
        fields, image_uuid = await image_fields(
            self._media, request, generation.index, picture.extension, expiry,
            lambda: self._media.images.picture(picture))
        fields["seed"] = seed
        if request.get("checkNSFW") or request.get("safety", {}).get("checkContent"):
            fields["NSFWContent"] = False
        price = model_catalog.model(request["model"]).price
        return Produced(fields, cost=price.of(megapixels=width * height / 1e6),
                        file=("image", image_uuid))

    def forget_inline_data(self) -> None:
        request = self._request
        for name in ("seedImage", "maskImage"):
            if name in request:
                request[name] = without_inline_data({name: request[name]})[name]
        if "referenceImages" in request:
            request["referenceImages"] = _summarised(request["referenceImages"])
        if "inputs" in request:
            inputs = without_inline_data(request["inputs"])
            if "referenceImages" in inputs:
                inputs["referenceImages"] = _summarised(inputs["referenceImages"])
            request["inputs"] = inputs
        for name in _PARAMETER_OBJECTS:
            if name in request:
                request[name] = _summarised_within(request[name])

    def _image_specs(self) -> list[tuple[str, str]]:
        """(parameter, input) of every image the request names; inputs.* wins over the
        legacy top-level field of the same name."""
        request, inputs = self._request, self._request.get("inputs", {})
        found: list[tuple[str, str]] = []
        for name in ("seedImage", "maskImage"):
            if name in inputs:
                found.append((f"inputs.{name}", inputs[name]))
            elif name in request:
                found.append((name, request[name]))
        references = ("inputs.referenceImages", inputs["referenceImages"]) \
            if "referenceImages" in inputs else ("referenceImages",
                                                 request.get("referenceImages", []))
        found += [(f"{references[0]}.{index}", spec)
                  for index, spec in enumerate(references[1])]
        return found

    def _caption(self, width: int, height: int, seed: int) -> tuple[str, ...]:
        request = self._request
        details = [f"model {request['model']}",
                   f"seed {seed}   {width}x{height}   {request['outputFormat']}"]
        if self._seed_image is not None:
            details.append(f"image-to-image, strength {request.get('strength', DEFAULT_STRENGTH)}")
        if self._others:
            details.append(f"{self._others} mask/reference image(s)")
        return (request["positivePrompt"], *details)


def _summarised(specs: list[str]) -> list[str]:
    return list(without_inline_data({str(i): spec for i, spec in enumerate(specs)}).values())


# The parameter objects that carry images (ControlNet and IP-Adapter guides, PuLID's and ACE++'s
# inputs, a watermark's image): the placeholder does not draw them, but a kept task holds them
# summarised like its other inline inputs.
_PARAMETER_OBJECTS = ("controlNet", "ipAdapters", "puLID", "acePlusPlus", "advancedFeatures")


def _summarised_within(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _summarised_within(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_summarised_within(item) for item in value]
    if isinstance(value, str):
        return without_inline_data({"": value})[""]
    return value


TASK_TYPE = TaskType.later("imageInference", image_inference, image_work)
