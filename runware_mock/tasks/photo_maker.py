"""``photoMaker``: images of the person in 1 to 4 input images, in a style, from a prompt
(runware-surface.md §2.6).

The model must be an SDXL model: one of a catalog family marked ``photo_maker`` (the sdxl
family, and any CivitAI checkpoint the catalog does not list, whose architecture an offline
emulator cannot read), else ``unsupportedModel``; an AIR that names no model is
``invalidModel``. Every input image is fetched and must decode. ``deliveryMethod`` sync (the
default: runware 0.5 and sdk-js wait for the items) answers the results, async acknowledges.

Result ``i`` (of ``numberResults``) is made from input image ``i`` modulo their number: the
image fitted to ``width`` x ``height``, with the seed's colours laid over it by ``strength``
percent (15, the default, lets the person show through most; 50 half), labelled with the
prompt (the trigger word ``rwre`` prepended when missing, as the service does), the model,
the style, the strength and the seed. With a ``seed``, result ``i`` uses ``seed + i``. Each
item carries ``imageUUID`` (runware 0.5.24 counts only those), the keys of ``outputType``,
``seed``, ``inputImagesUUID`` (the inputs given as upload UUIDs), ``NSFWContent`` when
``checkNSFW`` or ``safety.checkContent`` asks, and ``cost`` when asked.
"""

from __future__ import annotations

import re
from pathlib import Path

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import PhotoMakerRequest
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

TRIGGER_WORD = "rwre"
SEEDS = 2**63  # the schema's largest seed is 2**63 - 1: a seed sent comes back as sent
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


async def photo_maker(task: PhotoMakerRequest, context: Context,
                      services: TaskServices) -> Reply:
    _check(task, context.owner)
    return await submit(task, context, services, photo_maker_work(task, services))


def photo_maker_work(request: PhotoMakerRequest, services: TaskServices) -> PhotoMakerWork:
    return PhotoMakerWork(request, services.media)


def photo_maker_models() -> list[str]:
    """The listed models photoMaker takes (besides unlisted CivitAI checkpoints)."""
    return [air for air, found in model_catalog.models().items()
            if found.family.details.get("photo_maker")]


def _check(task: PhotoMakerRequest, owner: str) -> None:
    found = model_catalog.model_for(task["model"], owner)
    if found is not None and found.family.details.get("photo_maker"):
        return
    served = photo_maker_models()
    known = found is not None
    raise ApiRefusal(error(
        "unsupportedModel" if known else "invalidModel",
        f"{'Unsupported' if known else 'Invalid'} model {str(task['model'])[:100]!r}: "
        "photoMaker runs SDXL models only, such as " + ", ".join(served) +
        ", or any civitai:<id>@<version> SDXL checkpoint.",
        parameter="model", type="string", allowed_values=served))


def prompt_with_trigger(prompt: str) -> str:
    """The prompt as the service runs it: ``rwre`` prepended unless the prompt has it."""
    if re.search(rf"\b{TRIGGER_WORD}\b", prompt, re.IGNORECASE):
        return prompt
    return f"{TRIGGER_WORD} {prompt}"


class PhotoMakerWork:
    """The engine's ``Work`` for one photoMaker task: the input images fetched and checked,
    then result ``i`` made from image ``i`` modulo their number."""

    def __init__(self, request: PhotoMakerRequest, media: Media) -> None:
        self._request = request
        self._media = media
        self._images: list[Path] = []

    def measured_now(self) -> float | None:
        return None

    async def measure(self) -> float:
        self._images = [(await image_input(self._media, f"inputImages.{index}", spec))[0]
                        for index, spec in enumerate(self._request["inputImages"])]
        return 0.0

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        assert self._images, "produced before measured"
        request = self._request
        width, height = request["width"], request["height"]
        seed = ((request["seed"] + generation.index) % SEEDS if "seed" in request
                else generation.seed)
        strength = request["strength"]
        source = self._images[generation.index % len(self._images)]
        picture = Picture(width, height, request["outputFormat"], request["outputQuality"],
                          seed, (prompt_with_trigger(request["positivePrompt"]),
                                 f"model {request['model']}   style {request['style']}",
                                 f"strength {strength}   seed {seed}   {width}x{height}"),
                          source, strength / 100)
        fields, image_uuid = await image_fields(
            self._media, request, generation.index, picture.extension, expiry,
            lambda: self._media.images.picture(picture))
        fields["seed"] = seed
        uploads = [spec for spec in request["inputImages"] if _UUID.fullmatch(spec)]
        if uploads:
            fields["inputImagesUUID"] = uploads
        if request.get("checkNSFW") or request.get("safety", {}).get("checkContent"):
            fields["NSFWContent"] = False
        # A key's own SDXL upload is not found without its key: priced as the listed ones.
        found = model_catalog.model_for(request["model"]) or model_catalog.model(
            photo_maker_models()[0])
        return Produced(fields, cost=found.price.of(megapixels=width * height / 1e6),
                        file=("image", image_uuid))

    def forget_inline_data(self) -> None:
        specs = self._request["inputImages"]
        self._request["inputImages"] = list(without_inline_data(
            {str(index): spec for index, spec in enumerate(specs)}).values())


TASK_TYPE = TaskType.later("photoMaker", photo_maker, photo_maker_work,
                           schema="request.photoMaker")
