"""``removeBackground``: the input image or video with its background removed.

Also sent as ``imageBackgroundRemoval`` (runware 0.5, ComfyUI), and answered under the name
received. runware-surface.md §2.2.

The model is one the catalog lists for removeBackground (``contract/models/remove_background
.toml``), else ``invalidModel``; absent, ``runware:109@1`` (RemBG). The input is ``inputImage``
or ``inputs.image`` (an image model), or ``inputs.video`` (``bria:51@1``): a URL, an upload's
UUID, a data URI or base64. The settings (``rgba``, ``postProcessMask``, ``returnOnlyMask``,
``alphaMatting`` and its thresholds and erode size) come under ``settings`` or flat at the top
level (runware 0.5 flattens them); a nested value wins; a model honours those its family lists.

An image result is the input at its own size with a real alpha channel (``media/
background_removal.py``): PNG by default, or WEBP; a JPG is flattened onto ``rgba``. It
carries ``imageUUID`` (runware 0.5 counts a result only with it), and for an ``inputs.image``
request also ``mediaUUID``/``mediaURL`` (sdk-js reads them). A video result (async only, as
every video task) is the input with alpha, WEBM (VP9) or MOV (ProRes 4444), or MP4 flattened
onto ``rgba`` (``media/video_background_removal.py``): ``videoUUID``, ``videoURL``,
``mediaUUID``, ``mediaURL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import RemoveBackgroundRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.handling.image_tools import (
    Output,
    ToolWork,
    forget_inline_inputs,
    input_source,
    one_input,
)
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import (
    Context,
    TaskServices,
    TaskType,
    bytes_needed_now,
    check_served_model,
)
from runware_mock.handling.video_inputs import video_input
from runware_mock.media.background_removal import Removal, remove_background
from runware_mock.media.facade import Media
from runware_mock.media.placeholder import FORMATS
from runware_mock.media.video_background_removal import CONTAINERS, remove_video_background
from runware_mock.protocol.envelope import Reply

_IMAGE_FORMATS = tuple(FORMATS)
_VIDEO_FORMATS = (*CONTAINERS, "MP4")
# The documented defaults of the settings (runware-surface.md §2.2).
_DEFAULTS: dict[str, Any] = {"rgba": [0, 0, 0, 0], "postProcessMask": False,
                             "returnOnlyMask": False, "alphaMatting": False,
                             "alphaMattingForegroundThreshold": 240,
                             "alphaMattingBackgroundThreshold": 10, "alphaMattingErodeSize": 10}


async def remove_background_task(task: RemoveBackgroundRequest, context: Context,
                                 services: TaskServices) -> Reply:
    work = remove_background_work(task, services)
    return await submit(task, context, services, work)


def remove_background_work(request: RemoveBackgroundRequest,
                           services: TaskServices) -> ToolWork | VideoRemovalWork:
    check_served_model("removeBackground", request["model"])
    family = model_catalog.model(request["model"]).family
    parameter, spec = one_input(request, ("image", "video"))
    takes = family.details["takes"]
    if (parameter == "inputs.video") != (takes == "video"):
        what = ("videos (inputs.video)" if takes == "video"
                else "images (inputImage or inputs.image)")
        raise ApiRefusal(error(
            "unsupportedModel" if takes == "video" else "unsupportedParameter",
            f"{request['model']} removes the background of {what}, not of {parameter}.",
            parameter="model" if takes == "video" else parameter, type="string"))
    settings = _settings(request, family.details["settings"])
    if takes == "video":
        return _video_work(request, services, spec, settings)
    request.setdefault("deliveryMethod", "sync")
    output_format = request.get("outputFormat", "PNG")
    if output_format not in _IMAGE_FORMATS:
        raise _unsupported_format(output_format, _IMAGE_FORMATS, "an image")
    request["outputFormat"] = output_format
    red, green, blue, *opacity = settings["rgba"]
    behind = (round(red), round(green), round(blue), float(opacity[0]) if opacity else 1.0)
    removal = Removal(output_format, request["outputQuality"], behind,
                      settings["returnOnlyMask"], settings["postProcessMask"],
                      settings["alphaMatting"], settings["alphaMattingForegroundThreshold"],
                      settings["alphaMattingBackgroundThreshold"],
                      settings["alphaMattingErodeSize"])
    media = services.media

    def made(path: Path) -> Output:
        return Output(lambda: remove_background(path.read_bytes(), removal))

    price = model_catalog.model(request["model"]).price
    return _MediaKeys(parameter, request, media, input_source(media, parameter, spec), made,
                      prefix="image",
                      extension=FORMATS[output_format][1], describe=repr(removal),
                      cost=price.of())


def _settings(request: RemoveBackgroundRequest, honoured: list[str]) -> dict[str, Any]:
    """The documented defaults, then the top-level values, then the nested ones; only the
    settings the model's family honours."""
    given: dict[str, Any] = {**{name: request[name] for name in _DEFAULTS  # type: ignore[literal-required]
                                if name in request},
                             **request.get("settings", {})}
    return {name: given.get(name, default) if name in honoured else default
            for name, default in _DEFAULTS.items()}


def _unsupported_format(given: str, allowed: tuple[str, ...], kind: str) -> ApiRefusal:
    return ApiRefusal(error("unsupportedOutputFormat", f"Unsupported value {given!r} for "
                            f"outputFormat: {kind} takes {', '.join(allowed)}.",
                            parameter="outputFormat", type="string",
                            allowed_values=list(allowed)))


class _MediaKeys(ToolWork):
    """An image result; for an ``inputs.image`` request also under ``mediaUUID``/``mediaURL``
    (runware-surface.md §2.2: sdk-js reads those, runware 0.5 ``imageUUID``: both are sent)."""

    def __init__(self, parameter: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._modern = parameter == "inputs.image"

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        produced = await super().produce(generation, expiry)
        if self._modern:
            produced.fields["mediaUUID"] = produced.fields["imageUUID"]
            if "imageURL" in produced.fields:
                produced.fields["mediaURL"] = produced.fields["imageURL"]
        return produced


def _video_work(request: RemoveBackgroundRequest, services: TaskServices, spec: str,
                settings: dict[str, Any]) -> VideoRemovalWork:
    if request.setdefault("deliveryMethod", "async") != "async":
        raise ApiRefusal(error("unsupportedDeliveryMethod", "Video background removal is "
                               "async only: send deliveryMethod async (the default for a "
                               "video), then poll getResponse.", parameter="deliveryMethod",
                               type="string", allowed_values=["async"]))
    output_format = request.get("outputFormat", "WEBM")
    if output_format not in _VIDEO_FORMATS:
        raise _unsupported_format(output_format, _VIDEO_FORMATS, "a video")
    request["outputFormat"] = output_format
    price = model_catalog.model(request["model"]).price
    red, green, blue, *_ = (round(value) for value in settings["rgba"])
    return VideoRemovalWork(request, services.media, spec, (red, green, blue), price.of())


class VideoRemovalWork:
    """The engine's ``Work`` for a video background removal: the input fetched and checked,
    then the video with alpha written by ffmpeg when first needed."""

    def __init__(self, request: RemoveBackgroundRequest, media: Media, spec: str,
                 backdrop: tuple[int, int, int], cost: float) -> None:
        self._request = request
        self._media = media
        self._spec = spec
        self._backdrop = backdrop
        self._cost = cost
        self._path: Path | None = None

    def measured_now(self) -> float | None:
        return None

    async def measure(self) -> float:
        self._path, _ = await video_input(self._media, self._spec)
        return 0.0

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        source = self._path
        assert source is not None, "produced before measured"
        output_format = self._request["outputFormat"]
        extension = output_format.lower()
        media = self._media

        async def make() -> Path:
            name = f"removed-{self._request['taskUUID']}-{generation.index}.{extension}"
            return await remove_video_background(media.render_pool, source,
                                                 media.store.cache_dir / name, output_format,
                                                 self._backdrop)

        video = await media.publish_result("video", self._request["taskUUID"], generation.index,
                                           extension, expiry, make,
                                           needed_now=bytes_needed_now(self._request))
        fields = {"videoUUID": video.uuid, "videoURL": video.url, "mediaUUID": video.uuid,
                  "mediaURL": video.url}
        return Produced(fields, cost=self._cost, file=("video", video.uuid))

    def forget_inline_data(self) -> None:
        forget_inline_inputs(self._request)


TASK_TYPE = TaskType.later("removeBackground", remove_background_task, remove_background_work,
                           schema="request.removeBackground",
                           aliases=("imageBackgroundRemoval",))
