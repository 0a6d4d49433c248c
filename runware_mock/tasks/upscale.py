"""``upscale``: an input image, or an input video (``inputs.video``), made ``upscaleFactor``
times larger.

An image (``inputImage``, legacy, or ``inputs.image``): each side ``upscaleFactor`` times
longer (rounded to whole pixels), labelled with the model and both sizes; JPG, PNG or WEBP
(JPG by default); sync by default. The model is optional (sdk-js and runware 0.5 send none):
absent, it is the schema's default. runware 0.5 sends the task as ``imageUpscale`` (an alias),
and is answered under that name: 0.5 picks its result class from the reply's taskType, and
would read an ``upscale`` item as a video.

A video (``inputs.video``, runware-surface.md §2.8): the same video ``upscaleFactor`` (2 or 4)
times its size, or ``width`` x ``height`` when given (one of them: the other keeps the aspect
ratio), each side even; the same length, its frame rate resampled to ``fps`` when given; MP4,
WEBM or MOV (MP4 by default); async by default (runware 0.5's IVideoUpscale). The result is
``videoUUID`` and ``videoURL``, the file made at its first download (``media.video_upscale``).

A model the catalog does not list for upscale is ``invalidModel``; an image model given a
video, or a video model given an image, is ``unsupportedModel``. Inputs are a URL (fetched, or
served from a ``--url-map`` folder), an upload's or an earlier output's UUID, a data URI or
base64. Enums match in any case (``mp4``, ``jpg``).
"""

from __future__ import annotations

import hashlib
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
    bytes_needed_now,
    without_inline_data,
)
from runware_mock.handling.video_inputs import video_input
from runware_mock.media.facade import Media
from runware_mock.media.placeholder import FORMATS, upscaled_size
from runware_mock.media.probe import ImageInfo
from runware_mock.media.video_probe import VideoInfo
from runware_mock.media.video_upscale import CONTAINERS, upscale_video
from runware_mock.protocol.envelope import Reply

# The model an upscale task that names none runs: the schema's default.
DEFAULT_MODEL = schemas.load("request.upscale")["properties"]["model"]["default"]
_UUID_LENGTH = 36
VIDEO_FORMATS = tuple(CONTAINERS)
VIDEO_FACTORS = (2, 4)


async def upscale(task: UpscaleRequest, context: Context, services: TaskServices) -> Reply:
    video = "video" in task.get("inputs", {})
    _check(task, video)
    task.setdefault("outputFormat", "MP4" if video else "JPG")
    task.setdefault("deliveryMethod", "async" if video else "sync")
    return await submit(task, context, services, upscale_work(task, services))


def upscale_work(request: UpscaleRequest, services: TaskServices) -> UpscaleWork | VideoUpscale:
    if "video" in request.get("inputs", {}):
        return VideoUpscale(request, services.media, services.settings.max_upscale_pixels)
    return UpscaleWork(request, services.media, services.settings.max_upscale_pixels)


def upscalers(output: str) -> list[str]:
    """The catalog's upscalers of images (``output`` "image") or of videos ("video")."""
    return [air for air in model_catalog.airs("upscale")
            if model_catalog.model(air).family.output == output]


def _check(task: UpscaleRequest, video: bool) -> None:
    """What the schema cannot say: the model against the catalog and the input's kind, one
    input, and the formats and factors of that kind."""
    model = task["model"]
    kind, other = ("video", "image") if video else ("image", "video")
    served = upscalers(kind)
    if model not in served:
        listed = model in model_catalog.airs("upscale")
        raise ApiRefusal(error(
            "unsupportedModel" if listed else "invalidModel",
            f"{f'{other.capitalize()} upscaler' if listed else 'Invalid model'} {model[:100]!r}"
            f": {kind}s are upscaled with {', '.join(served)}"
            + ("." if video else f" (default {DEFAULT_MODEL})."),
            parameter="model", type="string", allowed_values=served))
    formats = VIDEO_FORMATS if video else tuple(FORMATS)
    if task.get("outputFormat", formats[0]) not in formats:
        raise ApiRefusal(error(
            "unsupportedOutputFormat", f"Unsupported value {task['outputFormat']!r} for "
            f"outputFormat: a {kind} is upscaled to {', '.join(formats)}.",
            parameter="outputFormat", type="string", allowed_values=list(formats)))
    if video:
        if task["upscaleFactor"] not in VIDEO_FACTORS:
            raise ApiRefusal(error(
                "invalidUpscaleFactor", f"Invalid value for upscaleFactor: "
                f"{task['upscaleFactor']:g}. A video is upscaled 2 or 4 times.",
                parameter="upscaleFactor", type="number", allowed_values=list(VIDEO_FACTORS)))
        if "inputImage" in task or "image" in task["inputs"]:
            raise ApiRefusal(error(
                "invalidInputImage", "Give inputs.video or an image (inputImage, inputs.image),"
                " not both.", parameter="inputs.video", type="string"))
        return
    for name in ("width", "height", "fps"):
        if name in task:
            raise ApiRefusal(error("unsupportedParameter", f"Unsupported parameter: {name}. "
                                   "It sets a video's output (inputs.video).", parameter=name))
    inputs = task.get("inputs", {})
    given = [name for name, present in (("inputImage", "inputImage" in task),
                                        ("inputs.image", "image" in inputs)) if present]
    if not given:
        raise ApiRefusal(error("missingParameter", "Missing required parameter: inputImage "
                               "(or inputs.image, or inputs.video).", parameter="inputImage",
                               type="string"))
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


class VideoUpscale:
    """The engine's ``Work`` for a video upscale: the input fetched and measured, then the
    result published, its file made when first needed."""

    def __init__(self, request: UpscaleRequest, media: Media, max_pixels: int) -> None:
        self._request = request
        self._media = media
        self._max_pixels = max_pixels
        self._source: tuple[Path, VideoInfo] | None = None

    def measured_now(self) -> float | None:
        return None

    async def measure(self) -> float:
        path, info = await video_input(self._media, self._request["inputs"]["video"])
        width, height = self.size(info)
        if width * height > self._max_pixels:
            raise WorkFailed(error(
                "invalidUpscaleFactor", f"inputs.video is {info.width}x{info.height} px: "
                f"upscaled it would be {width}x{height}, over the {self._max_pixels} pixels a "
                "frame this emulator makes (--max-upscale-pixels).", parameter="upscaleFactor",
                type="number"))
        self._source = (path, info)
        return info.seconds

    def size(self, info: VideoInfo) -> tuple[int, int]:
        """The output's size: width x height when both are given, one of them with the input's
        aspect ratio, else the input upscaleFactor times; sides even (yuv420p)."""
        request = self._request
        width, height = request.get("width"), request.get("height")
        if width is None and height is None:
            factor = request["upscaleFactor"]
            width, height = info.width * factor, info.height * factor
        elif width is None:
            width = round(height * info.width / info.height)
        elif height is None:
            height = round(width * info.height / info.width)
        return max(2, int(width) // 2 * 2), max(2, int(height) // 2 * 2)

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        assert self._source is not None, "produced before measured"
        request = self._request
        path, info = self._source
        output_format = request["outputFormat"]
        video = await self._media.publish_result(
            "video", request["taskUUID"], generation.index, output_format.lower(), expiry,
            lambda: self._upscaled(path, info, output_format),
            needed_now=bytes_needed_now(request))
        width, height = self.size(info)
        price = model_catalog.model(request["model"]).price
        return Produced({"videoUUID": video.uuid, "videoURL": video.url},
                        cost=price.of(megapixels=width * height / 1e6),
                        file=("video", video.uuid))

    async def _upscaled(self, path: Path, info: VideoInfo, output_format: str) -> Path:
        size, fps = self.size(info), self._request.get("fps")
        key = hashlib.sha256(repr((path.name, size, fps, output_format)).encode())
        return await self._media.made.file(
            f"video-upscale-{key.hexdigest()[:32]}.{output_format.lower()}",
            lambda target: upscale_video(self._media.render_pool, path, target,
                                         self._request["upscaleFactor"], output_format,
                                         fps, info.audio_codec, size))

    def forget_inline_data(self) -> None:
        self._request["inputs"] = without_inline_data(self._request["inputs"])


TASK_TYPE = TaskType.later("upscale", upscale, upscale_work, schema="request.upscale",
                           aliases=("imageUpscale",))
