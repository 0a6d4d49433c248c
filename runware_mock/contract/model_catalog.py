"""The model catalog: which models exist, the task type and request schema of each, its output,
the published limits of its inputs and its price rule, read from the TOML files in ``models/``.

Both sides read it: the emulator to validate, limit and price a task, a client's contract tests
to know what to expect.

A file holds ``[families.NAME]`` tables (what models share: ``task_type``, the request
``schema`` under ``contract/schemas``, the ``output`` kind, ``typical_seconds``: the real
service's usual time for one result, which ``--latency realistic`` draws around, and optionally
the published ``inputs`` limits) and ``[models."AIR"]`` tables (``name``, ``family``,
``price``). A price is a ``rule`` and a ``usd`` rate; the rule names what the rate multiplies
(``PRICE_RULES``), and the result is rounded to 5 decimals as the service reports it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class ImageInputLimits:
    formats: tuple[str, ...]
    max_bytes: int
    min_side: int
    max_aspect: float


@dataclass(frozen=True)
class AudioInputLimits:
    formats: tuple[str, ...]
    max_bytes: int
    min_seconds: float
    max_seconds: float


@dataclass(frozen=True)
class Family:
    name: str
    task_type: str
    schema: str
    output: str
    # The real service's usual time for one result of this family, in seconds: what the
    # `realistic` latency profile draws around (longer outputs take longer).
    typical_seconds: float
    image: ImageInputLimits | None = None
    audio: AudioInputLimits | None = None
    # The family's other keys, for its task type to read (a video family's allowed durations
    # and sizes, an audio family's sound...): see the header of each file in models/.
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


# What a price rule's rate multiplies, from the measures of one result.
PRICE_RULES: dict[str, Callable[[dict[str, float]], float]] = {
    "per_result": lambda measures: 1.0,
    "per_output_second": lambda measures: measures["seconds"],
    # Megapixels of the output image (width x height / 1e6), as images are priced
    # (docs/images.md).
    "per_megapixel": lambda measures: measures["megapixels"],
    # Characters of the text spoken (speech.text), as TTS is priced (docs/audio-video.md).
    "per_1k_characters": lambda measures: measures["characters"] / 1000,
    # Prompt and completion tokens together, as the emulator counts them (docs/text.md).
    "per_1k_tokens": lambda measures: measures["tokens"] / 1000,
}


@dataclass(frozen=True)
class Price:
    rule: str
    usd: float

    def of(self, **measures: float) -> float:
        """The price of one result, as the service reports it (rounded to 5 decimals); the
        rule reads the measure it needs (``seconds=`` for per_output_second)."""
        return round(self.usd * PRICE_RULES[self.rule](measures), 5)


@dataclass(frozen=True)
class Model:
    air: str
    name: str
    family: Family
    price: Price

    @property
    def task_type(self) -> str:
        return self.family.task_type


@cache
def models() -> dict[str, Model]:
    """Every model by AIR, in the file's order."""
    data = _load()
    families = {name: _family(name, spec) for name, spec in data["families"].items()}
    found = {air: Model(air, spec["name"], families[spec["family"]], Price(**spec["price"]))
             for air, spec in data["models"].items()}
    unknown = {model.price.rule for model in found.values()} - set(PRICE_RULES)
    if unknown:
        raise ValueError(f"the model catalog names unknown price rules: {sorted(unknown)}")
    return found


def model(air: str) -> Model:
    """Raises ``KeyError`` for a model the catalog does not hold."""
    return models()[air]


@cache
def airs(task_type: str | None = None) -> tuple[str, ...]:
    """The AIRs of a task type's models (every model's, without one), in the files' order."""
    return tuple(air for air, found in models().items()
                 if task_type is None or found.task_type == task_type)


def family_of(air: object) -> Family | None:
    """The family of a model the catalog holds (``None`` for anything else)."""
    found = models().get(air) if isinstance(air, str) else None
    return found.family if found is not None else None


def task_types_with_models() -> tuple[str, ...]:
    """Task types whose request names a model (and whose schema the model chooses)."""
    return tuple(dict.fromkeys(found.task_type for found in models().values()))


def _family(name: str, spec: dict[str, Any]) -> Family:
    inputs = spec.get("inputs", {})
    image, audio = inputs.get("image"), inputs.get("audio")
    if "typical_seconds" not in spec:
        raise ValueError(f"the catalog's family {name} has no typical_seconds")
    return Family(name, spec["task_type"], spec["schema"], spec["output"],
                  float(spec["typical_seconds"]),
                  image=ImageInputLimits(**{**image, "formats": tuple(image["formats"])})
                  if image else None,
                  audio=AudioInputLimits(**{**audio, "formats": tuple(audio["formats"])})
                  if audio else None,
                  details={key: value for key, value in spec.items() if key not in _READ})


# The keys of a family table read into Family's own fields; the rest are its details.
_READ = {"task_type", "schema", "output", "inputs"}


@cache
def _load() -> dict[str, dict[str, Any]]:
    """Every file's families and models, merged; a name defined twice is an error."""
    merged: dict[str, dict[str, Any]] = {"families": {}, "models": {}}
    folder = resources.files(__package__).joinpath("models")
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text("utf-8"))
        for section in merged:
            twice = merged[section].keys() & data.get(section, {}).keys()
            if twice:
                raise ValueError(f"{entry.name} defines {section} {sorted(twice)} again")
            merged[section].update(data.get(section, {}))
    return merged
