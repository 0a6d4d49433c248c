"""``videoInference`` for the models that generate a video from a prompt (and optional frame or
reference images, or an input video): every video model but the talking heads.

The schema bounds each field; the model's family (``contract/models/video.toml``) then says
which durations, frame rates, resolutions and sizes it allows. The placeholder is a still
picture of the asked size showing the prompt, the model and the seed (``media.placeholder``)
over a quiet tone, for the asked duration, rendered as the avatar videos are (``media.render``,
25 frames a second). Image-to-video: the first input image (a first frame, else an image or
reference image) is fetched, checked and shown as the picture, under the caption. Other
inputs (videos, audio, further images) are taken as given and not fetched: the placeholder
does not depend on them.

With a ``seed`` in the request, result ``i`` uses seed ``seed + i``: the same request and seed
give the same video.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.model_catalog import Family
from runware_mock.contract.request_types import (
    AudioInferenceRequest,
    TaskRequest,
    VideoInferenceRequest,
)
from runware_mock.contract.video_sizes import sized
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.handling.image_results import image_input
from runware_mock.handling.task_type import bytes_needed_now, without_inline_data
from runware_mock.media.facade import Media
from runware_mock.media.placeholder import Picture
from runware_mock.media.sound import Sound

SEEDS = 2**32
# When the family allows a range of durations and names no default.
DEFAULT_SECONDS = 5.0
DEFAULT_FPS = 24
DEFAULT_ASPECT = "16:9"
_TONE_RATE = 48000


def result_seed(request: VideoInferenceRequest | AudioInferenceRequest,
                generation: Generation) -> int:
    """The seed of one result: the request's (plus the result's index), else the drawn one."""
    if "seed" in request:
        return (int(request["seed"]) + generation.index) % SEEDS
    return generation.seed


@dataclass(frozen=True)
class Plan:
    """What the video will be, once the family's rules are checked."""

    width: int
    height: int
    seconds: float


def plan(task: VideoInferenceRequest, family: Family) -> Plan:
    """The size and length the family gives this task; a rule it breaks raises ApiRefusal."""
    rules: dict[str, Any] = family.details["video"]
    seconds = _duration(task, rules)
    _check_fps(task, rules)
    width, height = _size(task, rules)
    return Plan(width, height, seconds)


def _duration(task: VideoInferenceRequest, rules: dict[str, Any]) -> float:
    allowed, span = rules.get("durations"), rules.get("duration_range")
    if "duration" not in task:
        if "default_duration" in rules:
            return float(rules["default_duration"])
        return float(allowed[0]) if allowed else min(max(DEFAULT_SECONDS, span[0]), span[1])
    duration = task["duration"]
    if allowed and duration not in allowed:
        raise ApiRefusal(error(
            "unsupportedDuration", f"Unsupported value {duration} for duration. Allowed values: "
            f"{', '.join(map(str, allowed))}.", parameter="duration", type="number",
            allowed_values=allowed))
    if span and not span[0] <= duration <= span[1]:
        raise ApiRefusal(error(
            "invalidDuration", f"Invalid value for duration: {duration}. duration must be a "
            f"number from {span[0]} to {span[1]}.", parameter="duration", type="number"))
    return float(duration)


def _check_fps(task: VideoInferenceRequest, rules: dict[str, Any]) -> None:
    allowed = rules.get("fps")
    if "fps" in task and allowed and task["fps"] not in allowed:
        raise ApiRefusal(error(
            "unsupportedFps", f"Unsupported value {task['fps']} for fps. Allowed values: "
            f"{', '.join(map(str, allowed))}.", parameter="fps", type="integer",
            allowed_values=allowed))


def _size(task: VideoInferenceRequest, rules: dict[str, Any]) -> tuple[int, int]:
    given = [name for name in ("width", "height") if name in task]
    if len(given) == 1:
        other = "height" if given == ["width"] else "width"
        raise ApiRefusal(error(
            "missingParameter", f"Missing required parameter: {other}. width and height must "
            "be used together.", parameter=other, type="integer"))
    resolutions = rules.get("resolutions", [])
    ratios = rules.get("aspect_ratios", [DEFAULT_ASPECT])
    if given and "resolution" in task:
        raise ApiRefusal(error(
            "conflictingParameters", "width and height cannot be combined with resolution: "
            "give one or the other.", parameter=["width", "height", "resolution"]))
    if given:
        # JSON's 720.0 is an integer to the schema; Pillow and ffmpeg want 720.
        size = (int(task["width"]), int(task["height"]))
        if "aspect_ratios" in rules:
            allowed = [sized(name, ratio) for name in resolutions for ratio in ratios]
            if size not in allowed:
                raise ApiRefusal(error(
                    "unsupportedDimensions", f"Unsupported size {size[0]}x{size[1]}. Allowed "
                    "sizes: " + ", ".join(f"{w}x{h}" for w, h in allowed) + ".",
                    parameter=["width", "height"], type="integer",
                    allowed_values=[f"{w}x{h}" for w, h in allowed]))
        return size
    resolution = task.get("resolution", rules["default_resolution"])
    if resolution not in resolutions:
        raise ApiRefusal(error(
            "unsupportedResolution", f"Unsupported value {resolution!r} for resolution. "
            f"Allowed values: {', '.join(resolutions)}.", parameter="resolution",
            type="string", allowed_values=resolutions))
    return sized(resolution, ratios[0])


def first_image(task: VideoInferenceRequest) -> tuple[str, str] | None:
    """(field path, input) of the image a video starts from, if the task gives one."""
    inputs = task.get("inputs", {})
    candidates = [
        ("inputs.frameImages.0.image", inputs.get("frameImages", [{}])[0].get("image")),
        ("frameImages.0.inputImage", task.get("frameImages", [{}])[0].get("inputImage")),
        ("inputs.image", inputs.get("image")),
        ("inputs.images.0", (inputs.get("images") or [None])[0]),
        ("inputs.referenceImages.0", (inputs.get("referenceImages") or [None])[0]),
        ("referenceImages.0", (task.get("referenceImages") or [None])[0]),
    ]
    return next(((path, spec) for path, spec in candidates if spec is not None), None)


class GeneratedVideo:
    """The engine's ``Work`` for a generated video: its length is known at once; an input
    image to start from is fetched and checked first."""

    def __init__(self, request: VideoInferenceRequest, media: Media, planned: Plan) -> None:
        self._request = request
        self._media = media
        self._plan = planned
        self._start = first_image(request)
        self._picture_source: Path | None = None

    def measured_now(self) -> float | None:
        return self._plan.seconds if self._start is None else None

    async def measure(self) -> float:
        if self._start is not None:
            parameter, spec = self._start
            self._picture_source, _ = await image_input(self._media, parameter, spec)
        return self._plan.seconds

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        """The result at once; the video is rendered when first needed (``Media``)."""
        request, planned = self._request, self._plan
        seed = result_seed(request, generation)
        video = await self._media.publish_result(
            "video", request["taskUUID"], generation.index,
            self._media.video_extension(request["outputFormat"]), expiry,
            lambda: self._render(generation, seed), needed_now=bytes_needed_now(request))
        return Produced({"videoUUID": video.uuid, "videoURL": video.url, "seed": seed},
                        cost=model_catalog.model(request["model"]).price.of(seconds=planned.seconds),
                        file=("video", video.uuid))

    async def _render(self, generation: Generation, seed: int) -> Path:
        request, planned = self._request, self._plan
        caption = (request.get("positivePrompt", "(no prompt)"),
                   f"{request['model']}   seed {seed}   {planned.width}x{planned.height}   "
                   f"{planned.seconds:g} s",
                   f"result {generation.index + 1}/{request.get('numberResults', 1)}")
        picture = await self._media.images.picture(
            Picture(planned.width, planned.height, "PNG", 95, seed, caption,
                    self._picture_source))
        tone = await self._media.sounds.make(
            Sound("tone", planned.seconds, seed, "WAV", _TONE_RATE, 128, 1))
        # No label drawn over the frame: the caption already says it all.
        return await self._media.render_clip(picture, tone, planned.seconds,
                                             request["outputFormat"], request["outputQuality"],
                                             "", max(planned.width, planned.height))

    def forget_inline_data(self) -> None:
        self._request.update(summarised(self._request, INPUT_FIELDS))


# The fields of a request that may hold inline media, at any depth.
INPUT_FIELDS = ("inputs", "frameImages", "referenceImages")


def summarised(request: TaskRequest, fields: tuple[str, ...]) -> dict[str, Any]:
    """``fields`` of ``request`` with their inline media summarised, however deep (a list of
    frame images of base64 data): a kept task must not hold megabytes."""
    return {name: _summarised(request[name]) for name in fields if name in request}


def _summarised(value: Any) -> Any:
    if isinstance(value, list):
        return [_summarised(item) for item in value]
    if isinstance(value, dict):
        return without_inline_data({name: _summarised(item) for name, item in value.items()})
    return without_inline_data({"value": value})["value"]
