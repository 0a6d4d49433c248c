"""The sizes an imageInference model makes, where its Runware model page publishes them: a
list of ``WxH`` sizes, or a range per side (``min``-``max`` in steps of ``step``), read from the
catalog's ``dimensions`` tables (``models/image.toml``: a model's own, else its family's).

A model without one takes what its family schema says (128-2048, multiples of 64). A model with
one is judged by it instead: the schema sees a stand-in for its width and height
(``schema_stand_in``), and ``refusal`` answers a size the model does not make with
``unsupportedDimensions`` and the sizes it makes, as the video models do
(``handling/video_plans``). Without width and height, a model with a list makes its first size.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiError, error

# What the schema sees for the width and height of a model with sizes of its own: a size every
# family schema takes, so that the schema judges only the other fields.
STAND_IN = 1024
GENERIC_DEFAULT = (1024, 1024)


@dataclass(frozen=True)
class ImageSizes:
    """A model's published sizes: ``sizes`` (a list), or ``least``-``most`` per side in steps
    of ``step`` (a range); ``source`` is the page that says so."""

    sizes: tuple[tuple[int, int], ...] = ()
    least: int = 0
    most: int = 0
    step: int = 1
    source: str = ""
    # The size made without width and height, where the page's list does not start with it.
    preferred: tuple[int, int] | None = None

    @property
    def listed(self) -> list[str]:
        return [f"{width}x{height}" for width, height in self.sizes]

    @property
    def default(self) -> tuple[int, int]:
        """What the model makes when the request gives no size."""
        if self.sizes:
            return self.preferred or self.sizes[0]
        return GENERIC_DEFAULT if self.makes(*GENERIC_DEFAULT) else (self.least, self.least)

    def makes(self, width: int, height: int) -> bool:
        if self.sizes:
            return (width, height) in self.sizes
        return all(self.least <= side <= self.most and (side - self.least) % self.step == 0
                   for side in (width, height))

    def describe(self) -> str:
        if self.sizes:
            return ", ".join(self.listed)
        return f"{self.least}-{self.most} per side, in steps of {self.step}"


def _rule(task: dict[str, Any]) -> ImageSizes | None:
    return sizes_of(task.get("model")) if task.get("taskType") == "imageInference" else None


def sizes_of(air: object) -> ImageSizes | None:
    """The published sizes of an imageInference model; ``None`` when it has none (the family
    schema's rule applies)."""
    found = model_catalog.model_for(air)
    if found is None or found.task_type != "imageInference":
        return None
    return _published(found.air) if found.air in model_catalog.models() else _of_family(found)


@cache
def _published(air: str) -> ImageSizes | None:
    return _of_family(model_catalog.model(air))


def _of_family(found: model_catalog.Model) -> ImageSizes | None:
    spec = found.details.get("dimensions") or found.family.details.get("dimensions")
    return _read(spec) if spec else None


def _read(spec: dict[str, Any]) -> ImageSizes:
    if "sizes" in spec:
        preferred = _pair(spec["default"]) if "default" in spec else None
        return ImageSizes(sizes=tuple(_pair(size) for size in spec["sizes"]),
                          source=spec.get("source", ""), preferred=preferred)
    return ImageSizes(least=spec["min"], most=spec["max"], step=spec.get("step", 1),
                      source=spec.get("source", ""))


def _pair(size: str) -> tuple[int, int]:
    width, height = size.split("x")
    return int(width), int(height)


def published() -> dict[str, ImageSizes]:
    """Every catalog model with published sizes, by AIR, in the catalog's order."""
    return {air: found for air in model_catalog.airs("imageInference")
            if (found := sizes_of(air)) is not None}


def _integral(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and float(value).is_integer())


def schema_stand_in(task: dict[str, Any]) -> dict[str, Any]:
    """The task as its family schema judges it: a model with sizes of its own has its whole
    number width and height judged by ``refusal`` instead (anything else stays, for the
    schema's type error)."""
    if _rule(task) is None:
        return task
    return {**task, **{name: STAND_IN for name in ("width", "height")
                       if _integral(task.get(name))}}


def refusal(task: dict[str, Any], scope: dict[str, Any] | None = None) -> ApiError | None:
    """``unsupportedDimensions`` for a width and height the task's model does not make
    (``scope``: the taskType and taskUUID the error echoes)."""
    rule = _rule(task)
    scope = scope or {}
    if rule is None or "width" not in task or "height" not in task:
        return None
    width, height = int(task["width"]), int(task["height"])
    if rule.makes(width, height):
        return None
    if rule.sizes:
        return error("unsupportedDimensions", f"Unsupported size {width}x{height} for model "
                     f"{task['model']}. Allowed sizes: {rule.describe()}.", parameter="width",
                     type="integer", allowed_values=rule.listed, **scope)
    return error("unsupportedDimensions", f"Unsupported size {width}x{height} for model "
                 f"{task['model']}: width and height are each {rule.describe()}.",
                 parameter="width", type="integer", **scope)


def output_size(task: dict[str, Any]) -> tuple[int, int]:
    """The size of every result of a valid task: the asked one, else the model's default."""
    if "width" in task and "height" in task:
        return int(task["width"]), int(task["height"])
    rule = sizes_of(task.get("model"))
    return rule.default if rule is not None else GENERIC_DEFAULT


def sizes_table() -> str:
    """docs/models.md's table of the models with published sizes, generated from the catalog."""
    rows = ["| model | sizes (without width and height: the first, or the default) | source |",
            "|---|---|---|"]
    for air, rule in published().items():
        default = "" if not rule.sizes or rule.default == rule.sizes[0] else (
            f" (default {rule.default[0]}x{rule.default[1]})")
        rows.append(f"| `{air}` | {rule.describe()}{default} | {rule.source} |")
    return "\n".join(rows)


def unlisted_table() -> str:
    """The provider and guided catalog models no published sizes were found for: the generic
    rule (128-2048, multiples of 64) applies to them."""
    unlisted = [air for air in model_catalog.airs("imageInference")
                if sizes_of(air) is None
                and not model_catalog.model(air).family.schema.startswith(
                    "request.imageInference.open-weights")]
    return ", ".join(f"`{air}`" for air in unlisted) + "."
