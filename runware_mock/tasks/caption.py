"""``caption``: a text description of an input image (LLaVA, CLIP and Qwen2.5-VL captioners)
or video (``memories:1@1``), or the age group of the person in it (age models; ``memories:2@1``
for a video).

Also sent as ``imageCaption``, and answered under the name received.

The model is one the catalog lists for caption (``contract/models/caption.toml``), else
``invalidModel``; absent, it is ``runware:150@1``, the default runware 0.5 and ComfyUI rely on.
An image model's input is ``inputImage``, ``inputImages`` (one result per image, as ComfyUI
reads them) or ``inputs.image``, one of them: a URL, an upload's UUID, a data URI or base64;
sync by default. A video model's (``input = "video"`` in the catalog) is ``inputs.video``;
async by default (runware 0.5's IVideoCaption); an image given to a video model, or a video to
an image model, is ``unsupportedModel``. ``deliveryMethod`` sync answers the result, async
acknowledges and the result is polled (getResponse), pushed or sent to ``webhookURL``.

A result is ``text`` that says what the image is made of (its orientation, size, main colours
and brightness, measured from its pixels), phrased by the model and ``--seed``; a ``prompt``
is answered by that description. A video's text says the same of its middle frame, and its
length, frame rate and whether it has sound. An age model's result is ``structuredData``
``{ageGroup, confidence}`` and no text (runware-surface.md §2.1), the same for the same image
(or middle frame) and seed.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageStat

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import CaptionRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.engine.randomness import Randomness
from runware_mock.handling.image_results import image_input
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import (
    Context,
    TaskServices,
    TaskType,
    check_served_model,
    without_inline_data,
)
from runware_mock.handling.video_inputs import video_input
from runware_mock.media.facade import Media
from runware_mock.media.video_probe import VideoInfo, still_frame
from runware_mock.protocol.envelope import Reply

# Named colours a caption picks from: the nearest to each of the image's main colours.
_COLOURS = {"black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128),
            "red": (200, 30, 30), "orange": (240, 140, 30), "yellow": (240, 220, 40),
            "green": (40, 160, 60), "teal": (30, 140, 140), "blue": (40, 80, 200),
            "purple": (120, 50, 160), "pink": (240, 150, 190), "brown": (120, 75, 40),
            "beige": (220, 200, 160)}
# The groups an age model answers: unclear in the sources beyond the docs' example "13-20".
AGE_GROUPS = ("0-2", "3-12", "13-20", "21-30", "31-40", "41-50", "51-60", "61-70", "70+")
_OPENINGS = ("A {orientation} image", "A {orientation} picture", "A {orientation} photograph")


async def caption(task: CaptionRequest, context: Context, services: TaskServices) -> Reply:
    video = _reads_video(task["model"])
    _check(task, video)
    # One result per input image: the engine makes numberResults of them.
    task["numberResults"] = 1 if video else len(_inputs(task))
    task.setdefault("deliveryMethod", "async" if video else "sync")
    return await submit(task, context, services, caption_work(task, services))


def caption_work(request: CaptionRequest, services: TaskServices) -> CaptionWork:
    return CaptionWork(request, services.media, Randomness(services.settings.seed))


def _reads_video(model: str) -> bool:
    found = model_catalog.model_for(model)
    return found is not None and found.family.details.get("input") == "video"


def _check(task: CaptionRequest, video: bool) -> None:
    """What the schema cannot say: the model against the catalog, and one input of the kind
    the model reads."""
    check_served_model("caption", task["model"])
    inputs = task.get("inputs", {})
    given = [name for name, present in (("inputImage", "inputImage" in task),
                                        ("inputImages", "inputImages" in task),
                                        ("inputs.image", "image" in inputs),
                                        ("inputs.video", "video" in inputs)) if present]
    wrong = [name for name in given if (name == "inputs.video") != video]
    if wrong:
        readers = [air for air in model_catalog.airs("caption") if _reads_video(air) != video]
        raise ApiRefusal(error(
            "unsupportedModel", f"Unsupported model {task['model']!r} for {wrong[0]}: it "
            f"captions {'videos (inputs.video)' if video else 'images'}; "
            f"{'images' if video else 'videos'} are captioned by {', '.join(readers)}.",
            parameter="model", type="string", allowed_values=readers))
    if not given:
        expected = "inputs.video" if video else "inputImage (or inputImages, or inputs.image)"
        raise ApiRefusal(error("missingParameter", f"Missing required parameter: {expected}.",
                               parameter=expected.split()[0], type="string"))
    if len(given) > 1:
        raise ApiRefusal(error("invalidInputImage", f"Give one of {' and '.join(given)}: "
                               "never both.", parameter=given[1], type="string"))


def _inputs(request: CaptionRequest) -> list[tuple[str, str]]:
    """Each input image as (parameter, spec), in the order of its results."""
    if "inputImages" in request:
        return [(f"inputImages.{index}", spec)
                for index, spec in enumerate(request["inputImages"])]
    if "image" in request.get("inputs", {}):
        return [("inputs.image", request["inputs"]["image"])]
    return [("inputImage", request["inputImage"])]


@dataclass(frozen=True)
class Looks:
    """What a caption says of an image, measured from its pixels."""

    width: int
    height: int
    colours: tuple[str, ...]
    brightness: float  # 0 (black) to 1 (white)
    digest: str  # the content's hash: the file's name in the media store

    @property
    def orientation(self) -> str:
        if abs(self.width - self.height) <= min(self.width, self.height) // 20:
            return "square"
        return "landscape" if self.width > self.height else "portrait"


def looks(path: Path) -> Looks:
    """Blocking: run off the event loop."""
    with Image.open(path) as image:
        width, height = image.size
        small = image.convert("RGB").resize((48, 48))
    counts = sorted(small.quantize(colors=4).convert("RGB").getcolors(48 * 48) or [],
                    reverse=True)
    colours: list[str] = []
    for _, rgb in counts:
        name = min(_COLOURS, key=lambda known: sum((a - b) ** 2
                                                   for a, b in zip(_COLOURS[known], rgb,
                                                                   strict=True)))
        if name not in colours:
            colours.append(name)
    brightness = ImageStat.Stat(small.convert("L")).mean[0] / 255
    return Looks(width, height, tuple(colours[:3]), brightness, path.stem)


def caption_text(found: Looks, model: str, prompt: str | None, randomness: Randomness) -> str:
    choose = randomness.stream("caption", model, found.digest)
    light = ("dark" if found.brightness < 0.35 else "bright" if found.brightness > 0.65
             else "evenly lit")
    main, *others = found.colours or ("grey",)
    text = (f"{choose.choice(_OPENINGS).format(orientation=found.orientation)} "
            f"({found.width}x{found.height}), {light}, mostly {main}")
    text += f" with {' and '.join(others)} tones." if others else "."
    return f"{prompt.strip()} {text}" if prompt and prompt.strip() else text


def age_of(found: Looks, model: str, randomness: Randomness) -> dict[str, object]:
    choose = randomness.stream("age", model, found.digest)
    return {"ageGroup": choose.choice(AGE_GROUPS),
            "confidence": round(choose.uniform(55.0, 99.0), 2)}


def video_caption_text(found: Looks, video: VideoInfo, model: str, prompt: str | None,
                       randomness: Randomness) -> str:
    """The caption of a video: its length, rate and sound, and its middle frame's looks."""
    frame = caption_text(found, model, None, randomness)
    sound = "with sound" if video.audio_codec else "silent"
    text = (f"A {video.seconds:.1f}-second video at {video.fps:g} fps, {sound}; "
            f"its middle frame: {frame[0].lower()}{frame[1:]}")
    return f"{prompt.strip()} {text}" if prompt and prompt.strip() else text


class CaptionWork:
    """The engine's ``Work`` for one caption task: each input fetched and measured once, then
    result N made from input N."""

    def __init__(self, request: CaptionRequest, media: Media, randomness: Randomness) -> None:
        self._request = request
        self._media = media
        self._randomness = randomness
        self._looks: list[Looks] = []
        self._video: VideoInfo | None = None

    def measured_now(self) -> float | None:
        return None  # the inputs are fetched first (measure)

    async def measure(self) -> float:
        if "video" in self._request.get("inputs", {}):
            return await self._measure_video()
        for parameter, spec in _inputs(self._request):
            path, _ = await image_input(self._media, parameter, spec)
            self._looks.append(await asyncio.to_thread(looks, path))
        return 0.0

    async def _measure_video(self) -> float:
        media = self._media
        path, info = await video_input(media, self._request["inputs"]["video"])
        middle = info.seconds / 2
        key = hashlib.sha256(f"{path.name}|{middle:.3f}".encode()).hexdigest()[:32]
        frame = await media.made.file(f"frame-{key}.png", lambda target: still_frame(
            media.render_pool, path, target, middle))
        self._looks.append(await asyncio.to_thread(looks, frame))
        self._video = info
        return 0.0

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        assert self._looks, "produced before measured"
        request = self._request
        model = model_catalog.model(request["model"])
        found = self._looks[generation.index]
        if model.family.details.get("answers") == "age":
            return Produced({"structuredData": age_of(found, model.air, self._randomness)},
                            cost=model.price.of())
        prompt = request.get("prompt")
        asked = " ".join(prompt) if isinstance(prompt, list) else prompt
        text = (caption_text(found, model.air, asked, self._randomness) if self._video is None
                else video_caption_text(found, self._video, model.air, asked, self._randomness))
        return Produced({"text": text}, cost=model.price.of())

    def forget_inline_data(self) -> None:
        request = self._request
        if "inputImage" in request:
            request["inputImage"] = _summary(request["inputImage"])
        if "inputImages" in request:
            request["inputImages"] = [_summary(spec) for spec in request["inputImages"]]
        if "inputs" in request:
            request["inputs"] = without_inline_data(request["inputs"])


def _summary(spec: str) -> str:
    """An input as a kept task holds it: inline media summarised."""
    return without_inline_data({"input": spec})["input"]

TASK_TYPE = TaskType.later("caption", caption, caption_work,
                           schema="request.caption",
                           aliases=("imageCaption",))
