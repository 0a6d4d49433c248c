"""The JSON Schemas (Draft 2020-12) of every request and response shape, loaded by name.

``validator("request.getResponse")`` gives a ready validator; ``$ref`` between the files
resolve through one registry, offline.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

MODELS = ("klingai:avatar@2.0-standard", "klingai:avatar@2.0-pro")

# Which schema validates which task; videoInference is chosen per model.
TASK_SCHEMAS = {
    "authentication": "request.authentication",
    "ping": "request.ping",
    "getResponse": "request.getResponse",
    "mediaStorage": "request.mediaStorage",
    "imageUpload": "request.imageUpload",
}
MODEL_SCHEMAS = {model: "request.videoInference.klingai-avatar-2.0" for model in MODELS}
TASK_TYPES = (*TASK_SCHEMAS, "videoInference")


def names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".json")
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".json")
    )


@cache
def load(name: str) -> dict[str, Any]:
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text("utf-8"))


@cache
def registry() -> Registry:
    return Registry().with_resources(
        (load(name)["$id"], Resource.from_contents(load(name))) for name in names()
    )


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load(name), registry=registry(), format_checker=FormatChecker())


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a ``$ref`` (one level, which is all these schemas use) to the schema it names."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    document, _, pointer = ref.partition("#")
    resolved = load(document.removesuffix(".json"))
    for part in pointer.strip("/").split("/"):
        if part:
            resolved = resolved[part]
    return {**resolved, **{k: v for k, v in schema.items() if k != "$ref"}}
