"""The model catalog: which models exist, the task type and request schema of each, its output,
the published limits of its inputs and its price rule, read from ``models.toml``.

Both sides read it: the emulator to validate, limit and price a task, a client's contract tests
to know what to expect.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
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
    image: ImageInputLimits | None = None
    audio: AudioInputLimits | None = None


@dataclass(frozen=True)
class Price:
    rule: str
    usd: float

    def of(self, output_seconds: float) -> float:
        """The price of one result, as the service reports it (rounded to 5 decimals)."""
        if self.rule == "per_output_second":
            return round(self.usd * output_seconds, 5)
        raise ValueError(f"unknown price rule {self.rule!r}")


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
    return {air: Model(air, spec["name"], families[spec["family"]], Price(**spec["price"]))
            for air, spec in data["models"].items()}


def model(air: str) -> Model:
    """Raises ``KeyError`` for a model the catalog does not hold."""
    return models()[air]


def airs(task_type: str | None = None) -> tuple[str, ...]:
    return tuple(air for air, found in models().items()
                 if task_type is None or found.task_type == task_type)


def task_types_with_models() -> tuple[str, ...]:
    """Task types whose request names a model (and whose schema the model chooses)."""
    return tuple(dict.fromkeys(found.task_type for found in models().values()))


def _family(name: str, spec: dict[str, Any]) -> Family:
    inputs = spec.get("inputs", {})
    image, audio = inputs.get("image"), inputs.get("audio")
    return Family(name, spec["task_type"], spec["schema"], spec["output"],
                  image=ImageInputLimits(**{**image, "formats": tuple(image["formats"])})
                  if image else None,
                  audio=AudioInputLimits(**{**audio, "formats": tuple(audio["formats"])})
                  if audio else None)


@cache
def _load() -> dict[str, Any]:
    return tomllib.loads(resources.files(__package__).joinpath("models.toml").read_text("utf-8"))
