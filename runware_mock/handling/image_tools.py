"""What the image tools share (removeBackground, vectorize, controlNetPreprocess, imageMasking):
their one input (the legacy top-level ``inputImage`` or ``inputs.image``, never both), and
their ``Work``: the input fetched once, then the result image made from it by the task type's
maker (``media/``) in a worker thread, published under the task type's keys (``imageUUID``,
``guideImageUUID``, ``maskImageUUID``...) like every image result.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.handling.image_results import ImageRequest, image_fields, image_input
from runware_mock.handling.task_type import without_inline_data
from runware_mock.media.facade import Media
from runware_mock.media.render import file_identity

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def one_input(task: ImageRequest, kinds: tuple[str, ...] = ("image",)) -> tuple[str, str]:
    """The task's one input as (parameter, spec): ``inputImage`` or ``inputs.<kind>``; none,
    or two, is refused."""
    inputs: dict[str, Any] = dict(task.get("inputs") or {})
    given = [("inputImage", task["inputImage"])] if "inputImage" in task else []
    given += [(f"inputs.{kind}", inputs[kind]) for kind in kinds if kind in inputs]
    if not given:
        names = " or ".join(f"inputs.{kind}" for kind in kinds)
        raise ApiRefusal(error("missingParameter", f"Missing required parameter: inputImage "
                               f"(or {names}).", parameter="inputImage", type="string"))
    if len(given) > 1:
        both = " and ".join(name for name, _ in given)
        raise ApiRefusal(error("invalidInputImage", f"Give one of {both}: never both.",
                               parameter=given[1][0], type="string"))
    return given[0]


def input_image_uuid(spec: str) -> dict[str, str]:
    """``inputImageUUID`` when the input names an uploaded or generated image by its UUID."""
    return {"inputImageUUID": spec.lower()} if _UUID.fullmatch(spec) else {}


@dataclass(frozen=True)
class Output:
    """A result image: how its bytes are made (in a worker thread, when first needed), and the
    result's other fields (the detections of a mask)."""

    make: Callable[[], bytes]
    fields: dict[str, Any] = field(default_factory=dict)


# From the input's file: the output (work done here runs in a worker thread).
Maker = Callable[[Path], Output]
Source = Callable[[], Awaitable[Path]]


def input_source(media: Media, parameter: str, spec: str) -> Source:
    """The task's input image, fetched (or decoded) and checked when the task is measured."""
    async def fetched() -> Path:
        return (await image_input(media, parameter, spec))[0]

    return fetched


class ToolWork:
    """The engine's ``Work`` for one image-tool task."""

    def __init__(self, request: ImageRequest, media: Media, source: Source, maker: Maker, *,
                 prefix: str, extension: str, describe: str, cost: float) -> None:
        self._request = request
        self._media = media
        self._source = source
        self._maker = maker
        self._prefix = prefix
        self._extension = extension
        self._describe = describe  # everything the output depends on but the input
        self._cost = cost
        self._path: Path | None = None

    def measured_now(self) -> float | None:
        return None  # the input is fetched first (measure)

    async def measure(self) -> float:
        self._path = await self._source()
        return 0.0

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        path = self._path
        assert path is not None, "produced before measured"
        output = await asyncio.to_thread(self._maker, path)
        key = hashlib.sha256(repr((self._prefix, self._describe, file_identity(path)))
                             .encode()).hexdigest()[:40]
        fields, image_uuid = await image_fields(
            self._media, self._request, generation.index, self._extension, expiry,
            lambda: self._media.images.derived(key, self._extension, output.make),
            prefix=self._prefix)
        spec = self._request.get("inputImage") or (self._request.get("inputs") or {}).get("image")
        fields.update(input_image_uuid(spec) if isinstance(spec, str) else {})
        fields.update(output.fields)
        return Produced(fields, cost=self._cost, file=("image", image_uuid))

    def forget_inline_data(self) -> None:
        forget_inline_inputs(self._request)


def forget_inline_inputs(request: ImageRequest) -> None:
    """Inline media summarised once the inputs are on disk."""
    if "inputImage" in request:
        request["inputImage"] = without_inline_data(
            {"inputImage": request["inputImage"]})["inputImage"]
    if "inputs" in request:
        request["inputs"] = without_inline_data(dict(request["inputs"]))  # type: ignore[typeddict-item]
