"""Hypothesis strategies for audioInference and the generated videoInference models: valid tasks
(with what their result must be), and tasks with exactly one field broken together with the one
error the emulator must answer.

The broken tasks are derived from the request schemas (``strategies.invalid_tasks``: every
bound, enum, number and required field of the model's family schema), applied to a valid task
of this module. Hand-written here, because no schema can say them:

- the valid tasks: they carry what their result must be (length, size), and a video family's
  durations, rates and sizes (``contract/models/video.toml``) narrow what its schema allows;
- a duration the family does not make (``unsupportedDuration``: the catalog's list).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from runware_mock.contract import model_catalog, schemas
from runware_mock.contract.strategies import InvalidCase, invalid_tasks, valid_tasks
from runware_mock.contract.video_sizes import sized

AUDIO_MODELS = model_catalog.airs("audioInference")
# The generated video models: every video family but the portrait-and-voice ones.
VIDEO_MODELS = tuple(air for air in model_catalog.airs("videoInference")
                     if model_catalog.model(air).family.image is None)
# Fields a valid task here leaves out, so that it runs from nothing but itself: media inputs
# the emulator would fetch and callbacks it would call.
_LEFT_OUT = ("inputs", "webhookURL", "uploadEndpoint")
# Characters a second of the placeholder voice, and its shortest length (tasks.audio_inference).
_SPOKEN_RATE, _SHORTEST = 15.0, 2.0


@dataclass(frozen=True)
class Expected:
    """A valid task and what its one result must be: its length, and for a video its size."""

    task: dict[str, Any]
    seconds: float
    size: tuple[int, int] | None = None


def _properties(model: str) -> dict[str, Any]:
    return dict(schemas.inlined(schemas.MODEL_SCHEMAS[model])["properties"])


def _required(model: str) -> tuple[str, ...]:
    return tuple(schemas.inlined(schemas.MODEL_SCHEMAS[model]).get("required", ()))


def _texts(low: int, high: int) -> st.SearchStrategy[str]:
    """``low`` to ``high`` characters, both edges drawn often."""
    return st.one_of(st.text(min_size=low, max_size=min(high, 40)),
                     st.sampled_from([low, high]).map(lambda length: "a" * length))


# --- audioInference -------------------------------------------------------------------------

@st.composite
def audio_tasks(draw: st.DrawFn, models: st.SearchStrategy[str] | None = None,
                longest: float = 12.0) -> Expected:
    """Valid sync audio tasks of any catalog model, with the length their sound must have.
    ``longest`` bounds the durations and texts drawn, to keep a test's work small."""
    model = draw(models or st.sampled_from(AUDIO_MODELS))
    properties = _properties(model)
    # The fields that set the sound's length are drawn below, with the length they give.
    task: dict[str, Any] = draw(valid_tasks(
        schemas.MODEL_SCHEMAS[model], {("model",): st.just(model),
                                       ("deliveryMethod",): st.just("sync")},
        ("speech", "duration", "positivePrompt", "numberResults", *_LEFT_OUT)))
    seconds = 0.0
    if "speech" in properties:
        speech_schema = properties["speech"]["properties"]
        low = speech_schema["text"]["minLength"]
        speed = draw(st.one_of(st.just(1.0), st.floats(0.5, 2.0, allow_nan=False)))
        high = min(speech_schema["text"]["maxLength"],
                   max(low, int(longest * _SPOKEN_RATE * speed)))
        speech: dict[str, Any] = {"text": draw(_texts(low, high))}
        if "voice" in properties["speech"].get("required", ()) or draw(st.booleans()):
            speech["voice"] = draw(_texts(1, 100))
        if speed != 1.0 or draw(st.booleans()):
            speech["speed"] = speed
        task["speech"] = speech
        seconds = round(max(_SHORTEST, len(speech["text"]) / _SPOKEN_RATE / speed), 3)
    else:
        duration = properties["duration"]
        if "positivePrompt" in _required(model) or draw(st.booleans()):
            task["positivePrompt"] = draw(_texts(1, 100))
        seconds = float(duration["default"])
        if draw(st.booleans()) or seconds > longest:
            high = max(duration["minimum"], min(longest, duration["maximum"]))
            seconds = draw(st.floats(duration["minimum"], high, allow_nan=False).map(
                lambda value: round(value, 3)))
            task["duration"] = seconds
    return Expected(task, seconds)


def invalid_audio_tasks() -> st.SearchStrategy[InvalidCase]:
    """A valid audio task with exactly one field broken, and the error it must get."""
    return audio_tasks().flatmap(lambda expected: _broken(expected.task))


def _broken(task: dict[str, Any], *catalog: st.SearchStrategy[InvalidCase],
            ) -> st.SearchStrategy[InvalidCase]:
    """``task`` broken as its family's schema says, or as ``catalog`` does."""
    return st.one_of(invalid_tasks(schemas.MODEL_SCHEMAS[task["model"]], st.just(task)),
                     *catalog)


# --- videoInference, generated ----------------------------------------------------------------

@st.composite
def video_tasks(draw: st.DrawFn, models: st.SearchStrategy[str] | None = None) -> Expected:
    """Valid generated-video tasks of any catalog model, with the size and length their video
    must have (an odd side renders one pixel smaller: yuv420p needs even ones)."""
    model = draw(models or st.sampled_from(VIDEO_MODELS))
    family = model_catalog.model(model).family
    rules, properties = family.details["video"], _properties(model)
    # The family's rules narrow the fields of the video's length, size and rate: drawn below.
    task: dict[str, Any] = draw(valid_tasks(
        schemas.MODEL_SCHEMAS[model], {("model",): st.just(model)},
        ("positivePrompt", "duration", "resolution", "width", "height", "fps", "numberResults",
         "frameImages", "referenceImages", *_LEFT_OUT)))
    if "positivePrompt" in _required(model) or draw(st.booleans()):
        task["positivePrompt"] = draw(_texts(1, 100))
    if "inputs" in _required(model):
        task["inputs"] = {"video": "https://example.invalid/input.mp4"}
    seconds = _drawn_duration(draw, rules, task)
    ratios = rules.get("aspect_ratios", ["16:9"])
    way = draw(st.sampled_from(["default", "resolution", "size"]))
    if way == "resolution":
        task["resolution"] = draw(st.sampled_from(rules["resolutions"]))
        size = sized(task["resolution"], ratios[0])
    elif way == "size" and "aspect_ratios" in rules:
        size = sized(draw(st.sampled_from(rules["resolutions"])), draw(st.sampled_from(ratios)))
        task["width"], task["height"] = size
    elif way == "size":
        size = (draw(st.integers(128, 1280)), draw(st.integers(128, 1280)))
        task["width"], task["height"] = size
    else:
        size = sized(rules["default_resolution"], ratios[0])
    if "fps" in properties and draw(st.booleans()):
        task["fps"] = draw(st.sampled_from(rules.get("fps", list(range(1, 61)))))
    return Expected(task, seconds, size)


def _drawn_duration(draw: st.DrawFn, rules: dict[str, Any], task: dict[str, Any]) -> float:
    allowed, span = rules.get("durations"), rules.get("duration_range")
    if draw(st.booleans()):
        task["duration"] = draw(st.sampled_from(allowed) if allowed
                                else st.integers(span[0], span[1]))
        return float(task["duration"])
    if "default_duration" in rules:
        return float(rules["default_duration"])
    return float(allowed[0]) if allowed else float(min(max(5, span[0]), span[1]))


def invalid_video_tasks() -> st.SearchStrategy[InvalidCase]:
    """A valid generated-video task with exactly one field broken, and the error it must get."""
    return video_tasks().flatmap(lambda expected: _broken(expected.task,
                                                          *_durations_not_made(expected.task)))


def _durations_not_made(task: dict[str, Any]) -> list[st.SearchStrategy[InvalidCase]]:
    allowed = model_catalog.model(task["model"]).family.details["video"].get("durations")
    if not allowed:
        return []
    return [st.integers(1, 10).filter(lambda d: d not in allowed).map(
        lambda duration: InvalidCase({**task, "duration": duration}, "duration",
                                     "unsupportedDuration"))]
