"""``videoInference`` for the models that generate a video from a prompt (and optional frame or
reference images, or an input video): every video model but the talking heads.

The schema bounds each field; the model's family (``contract/models/video.toml``) then says
which durations, frame rates, resolutions and sizes it allows. The placeholder is a still
picture of the asked size showing the prompt, the model and the seed (``media.placeholder``)
over a quiet tone, for the asked duration, rendered as the avatar videos are (``media.render``,
25 frames a second). Input images and videos are taken as given and not fetched: the
placeholder does not depend on them.

With a ``seed`` in the request, result ``i`` uses seed ``seed + i``: the same request and seed
give the same video.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runware_mock.contract import catalog
from runware_mock.contract.catalog import Family
from runware_mock.contract.errors import ApiError, error
from runware_mock.contract.video_sizes import sized
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.media.placeholder import Picture
from runware_mock.media.service import Media
from runware_mock.media.sound import Sound
from runware_mock.tasks.base import without_inline_data

SEEDS = 2**32
# When the family allows a range of durations and names no default.
DEFAULT_SECONDS = 5.0
DEFAULT_FPS = 24
DEFAULT_ASPECT = "16:9"
_TONE_RATE = 48000


def result_seed(request: dict[str, Any], generation: Generation) -> int:
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


def plan(task: dict[str, Any], family: Family) -> Plan | ApiError:
    """The size and length the family gives this task, or the rule it breaks."""
    rules: dict[str, Any] = family.details["video"]
    seconds = _duration(task, rules)
    if isinstance(seconds, ApiError):
        return seconds
    problem = _fps_problem(task, rules)
    if problem is not None:
        return problem
    size = _size(task, rules)
    if isinstance(size, ApiError):
        return size
    return Plan(size[0], size[1], seconds)


def _duration(task: dict[str, Any], rules: dict[str, Any]) -> float | ApiError:
    allowed, span = rules.get("durations"), rules.get("duration_range")
    if "duration" not in task:
        if "default_duration" in rules:
            return float(rules["default_duration"])
        return float(allowed[0]) if allowed else min(max(DEFAULT_SECONDS, span[0]), span[1])
    duration = task["duration"]
    if allowed and duration not in allowed:
        return error("unsupportedDuration", f"Unsupported value {duration} for duration. "
                     f"Allowed values: {', '.join(map(str, allowed))}.", parameter="duration",
                     type="number", allowed_values=allowed)
    if span and not span[0] <= duration <= span[1]:
        return error("invalidDuration", f"Invalid value for duration: {duration}. duration "
                     f"must be a number from {span[0]} to {span[1]}.", parameter="duration",
                     type="number")
    return float(duration)


def _fps_problem(task: dict[str, Any], rules: dict[str, Any]) -> ApiError | None:
    allowed = rules.get("fps")
    if "fps" in task and allowed and task["fps"] not in allowed:
        return error("unsupportedFps", f"Unsupported value {task['fps']} for fps. Allowed "
                     f"values: {', '.join(map(str, allowed))}.", parameter="fps",
                     type="integer", allowed_values=allowed)
    return None


def _size(task: dict[str, Any], rules: dict[str, Any]) -> tuple[int, int] | ApiError:
    given = [name for name in ("width", "height") if name in task]
    if len(given) == 1:
        other = "height" if given == ["width"] else "width"
        return error("missingParameter", f"Missing required parameter: {other}. width and "
                     "height must be used together.", parameter=other, type="integer")
    resolutions = rules.get("resolutions", [])
    ratios = rules.get("aspect_ratios", [DEFAULT_ASPECT])
    if given and "resolution" in task:
        return error("conflictingParameters", "width and height cannot be combined with "
                     "resolution: give one or the other.",
                     parameter=["width", "height", "resolution"])
    if given:
        size = (task["width"], task["height"])
        if "aspect_ratios" in rules:
            allowed = [sized(name, ratio) for name in resolutions for ratio in ratios]
            if size not in allowed:
                return error("unsupportedDimensions", f"Unsupported size {size[0]}x{size[1]}. "
                             "Allowed sizes: " + ", ".join(f"{w}x{h}" for w, h in allowed)
                             + ".", parameter=["width", "height"], type="integer",
                             allowed_values=[f"{w}x{h}" for w, h in allowed])
        return size
    resolution = task.get("resolution", rules["default_resolution"])
    if resolution not in resolutions:
        return error("unsupportedResolution", f"Unsupported value {resolution!r} for "
                     f"resolution. Allowed values: {', '.join(resolutions)}.",
                     parameter="resolution", type="string", allowed_values=resolutions)
    return sized(resolution, ratios[0])


class GeneratedVideo:
    """The engine's ``Work`` for a generated video: its length is known at once."""

    def __init__(self, request: dict[str, Any], media: Media, planned: Plan) -> None:
        self._request = request
        self._media = media
        self._plan = planned

    def measured_now(self) -> float:
        return self._plan.seconds

    async def measure(self) -> float:
        return self._plan.seconds

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        request, planned = self._request, self._plan
        seed = result_seed(request, generation)
        caption = (request.get("positivePrompt", "(no prompt)"),
                   f"{request['model']}   seed {seed}   {planned.width}x{planned.height}   "
                   f"{planned.seconds:g} s",
                   f"result {generation.index + 1}/{request.get('numberResults', 1)}")
        picture = await self._media.images.picture(
            Picture(planned.width, planned.height, "PNG", 95, seed, caption))
        tone = await self._media.sounds.make(
            Sound("tone", planned.seconds, seed, "WAV", _TONE_RATE, 128, 1))
        # No label drawn over the frame: the caption already says it all.
        path = await self._media.render_clip(picture, tone, planned.seconds,
                                             request["outputFormat"], request["outputQuality"],
                                             "", max(planned.width, planned.height))
        video_uuid, video_url = self._media.publish_video(path, request["outputFormat"],
                                                          expiry())
        return Produced({"videoUUID": video_uuid, "videoURL": video_url, "seed": seed},
                        cost=catalog.model(request["model"]).price.of(seconds=planned.seconds),
                        file=("video", video_uuid))

    def forget_inline_data(self) -> None:
        if isinstance(self._request.get("inputs"), dict):
            self._request["inputs"] = without_inline_data(self._request["inputs"])
