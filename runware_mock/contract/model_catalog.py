"""The model catalog: which models exist, the task type and request schema of each, its output,
the published limits of its inputs and its price rule, read from the TOML files in ``models/``.

Both sides read it: the emulator to validate, limit and price a task, a client's contract tests
to know what to expect.

A file holds ``[families.NAME]`` tables (what models share: ``task_type``, the request
``schema`` under ``contract/schemas``, the ``output`` kind, ``typical_seconds``: the real
service's usual time for one result, which ``--latency realistic`` draws around, and optionally
the published ``inputs`` limits) and ``[models."AIR"]`` tables (``name``, ``family``,
``price``, and ``source``: where the model is documented). A price is a ``rule`` and a ``usd``
rate; the rule names what the rate multiplies (``PRICE_RULES``), and the result is rounded to 5
decimals as the service reports it.

Models are named by AIR, ``source:id@version`` (``parse_air``). Besides the listed models, an
``[open."SOURCE"]`` table admits every AIR of that source whose id and version match its
``id``/``version`` patterns, as a model of its ``family`` at its ``price`` (any CivitAI model
is an open-weights image model: docs/models.md). ``model_for`` resolves an AIR: the listed
models first, then the models a lookup registered with ``add_owner_models`` holds for the API
key (a key's uploads), then the open sources.
"""

from __future__ import annotations

import re
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
    # The model's other keys (its published image sizes, `dimensions`: contract/image_sizes.py).
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def task_type(self) -> str:
        return self.family.task_type


@cache
def models() -> dict[str, Model]:
    """Every model by AIR, in the file's order."""
    data = _load()
    families = _families()
    found = {air: Model(air, spec["name"], families[spec["family"]], Price(**spec["price"]),
                        {key: value for key, value in spec.items() if key not in _MODEL_READ})
             for air, spec in data["models"].items()}
    unknown = {model.price.rule for model in found.values()} - set(PRICE_RULES)
    if unknown:
        raise ValueError(f"the model catalog names unknown price rules: {sorted(unknown)}")
    return found


# An AIR: a source, an id and a version. Curated ids and versions may be words
# (`klingai:kling-video@3-pro`, `openai:gpt@5.5`, `alibaba:qwen@3-tts-1.7b-base`), so each part
# is letters, digits, `.`, `_` and `-`, starting with a letter or digit; the source is lower case
# as every documented source is (runware-surface.md section 6; runware-models.tsv).
_AIR = re.compile(r"(?P<source>[a-z0-9][a-z0-9_-]*):(?P<id>[A-Za-z0-9][A-Za-z0-9._-]*)"
                  r"@(?P<version>[A-Za-z0-9][A-Za-z0-9._-]*)")
# An AIR is short; a longer string is not read by the pattern at all.
MOST_AIR_CHARACTERS = 200


@dataclass(frozen=True)
class Air:
    source: str
    id: str
    version: str


def parse_air(text: object) -> Air | None:
    """The parts of an AIR, ``source:id@version``; ``None`` for anything that is not one."""
    if not isinstance(text, str) or len(text) > MOST_AIR_CHARACTERS:
        return None
    found = _AIR.fullmatch(text)
    return Air(found["source"], found["id"], found["version"]) if found else None


# A lookup of the models one API key owns (its uploads), by AIR: ``None`` when it has none
# (the key ``None``: any key's).
OwnerModels = Callable[[str, "str | None"], "Model | None"]
_owner_lookups: list[OwnerModels] = []


def add_owner_models(lookup: OwnerModels) -> None:
    """Let ``model_for`` find the models ``lookup`` holds for an API key (after the catalog's,
    before the open sources')."""
    _owner_lookups.append(lookup)


def remove_owner_models(lookup: OwnerModels) -> None:
    _owner_lookups.remove(lookup)


def model_for(air: object, owner: str | None = None) -> Model | None:
    """The model an AIR names for the API key ``owner``: listed in the catalog, owned by the key,
    or admitted by an open source (any ``civitai:<id>@<version>``); ``None`` for no model.
    Without ``owner``, a model some key owns is found too: what a task already validated for
    its key reads (its price, its family), where the key is not at hand."""
    if not isinstance(air, str):
        return None
    listed = models().get(air)
    if listed is not None:
        return listed
    for lookup in _owner_lookups:
        owned = lookup(air, owner)
        if owned is not None:
            return owned
    return _open_model(air)


def model(air: str, owner: str | None = None) -> Model:
    """Raises ``KeyError`` for an AIR that names no model (``model_for``)."""
    found = model_for(air, owner)
    if found is None:
        raise KeyError(air)
    return found


@cache
def airs(task_type: str | None = None) -> tuple[str, ...]:
    """The AIRs of a task type's models (every model's, without one), in the files' order."""
    return tuple(air for air, found in models().items()
                 if task_type is None or found.task_type == task_type)


def family_of(air: object) -> Family | None:
    """The family of a model the catalog holds or an open source admits (``None`` for anything
    else)."""
    found = model_for(air)
    return found.family if found is not None else None


# The files of the models official documents use that the reference model list lacks, and the
# documents each sweeps (the header of each file says how and when).
DOCUMENTED_EXAMPLES = {"sdk-examples.toml": "the official SDKs' READMEs and examples",
                       "docs-examples.toml": "Runware's documentation pages"}


def documented_examples_table() -> str:
    """docs/models.md's table of those models: AIR, name, task type and the document that uses
    it (its ``source``), file by file."""
    lines = ["| AIR | name | task type | used in | source |", "|---|---|---|---|---|"]
    for file_name, documents in DOCUMENTED_EXAMPLES.items():
        text = resources.files(__package__).joinpath("models", file_name).read_text("utf-8")
        for air, spec in tomllib.loads(text).get("models", {}).items():
            lines.append(f"| `{air}` | {spec['name']} | {models()[air].task_type} | "
                         f"{documents} | {spec['source']} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class OpenSource:
    """Every AIR of ``source`` whose id and version match the patterns is a model."""
    source: str
    name: str
    id: re.Pattern[str]
    version: re.Pattern[str]
    family: Family
    price: Price
    documented: str


@cache
def open_sources() -> dict[str, OpenSource]:
    families = _families()
    found = {source: OpenSource(source, spec["name"], re.compile(spec["id"]),
                                re.compile(spec["version"]), families[spec["family"]],
                                Price(**spec["price"]), spec["source"])
             for source, spec in _load()["open"].items()}
    unknown = {admits.price.rule for admits in found.values()} - set(PRICE_RULES)
    if unknown:
        raise ValueError(f"the model catalog's open sources name unknown price rules: "
                         f"{sorted(unknown)}")
    return found


def _open_model(air: str) -> Model | None:
    parts = parse_air(air)
    admits = open_sources().get(parts.source) if parts is not None else None
    if parts is None or admits is None or not (admits.id.fullmatch(parts.id)
                                                and admits.version.fullmatch(parts.version)):
        return None
    return Model(air, admits.name.format(air=air), admits.family, admits.price)


def task_types_with_models() -> tuple[str, ...]:
    """Task types whose request names a model (and whose schema the model chooses)."""
    return tuple(dict.fromkeys(found.task_type for found in models().values()))


@cache
def _families() -> dict[str, Family]:
    return {name: _family(name, spec) for name, spec in _load()["families"].items()}


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
# Likewise for a model table (`source` says where the model is documented).
_MODEL_READ = {"name", "family", "price", "source"}


@cache
def _load() -> dict[str, dict[str, Any]]:
    """Every file's families and models, merged; a name defined twice is an error."""
    merged: dict[str, dict[str, Any]] = {"families": {}, "models": {}, "open": {}}
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
