"""The JSON Schemas (Draft 2020-12) of every request and response shape, loaded by name, and the
schema registry: which schemas validate a task type's requests and its answer.

``validator("request.getResponse")`` gives a ready validator; ``$ref`` between the files
resolve through one registry, offline. ``request_schemas("videoInference")`` and
``response_schema("videoInference")`` name a task type's schemas: the contract's own record
of the API (it cannot import ``tasks/``; a test checks the two agree).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from runware_mock.contract import model_catalog
from runware_mock.contract.schemas import variants

# Which schema validates which task: request.<taskType>.json, or for a task type whose models
# the catalog lists, the schema of the model's family.
MODELS = model_catalog.airs()
MODEL_SCHEMAS = {air: model.family.schema for air, model in model_catalog.models().items()}


def _task_schemas() -> dict[str, str]:
    """Each task type's schema, by every name the task type is sent under (its ``taskType``
    const, or the enum of a task type with aliases)."""
    found = (name for name in names() if name.startswith("request.") and name.count(".") == 1)
    return {task_type: name for name in found for task_type in task_type_names(name)}


def task_type_names(name: str) -> tuple[str, ...]:
    """The ``taskType`` values schema ``name`` accepts."""
    task_type = load(name)["properties"]["taskType"]
    return (task_type["const"],) if "const" in task_type else tuple(task_type["enum"])


@cache
def names() -> tuple[str, ...]:
    """Every schema: the files, and the variants derived from them (``variants.toml``)."""
    return tuple(sorted([*(entry.name.removesuffix(".json")
                           for entry in resources.files(__name__).iterdir()
                           if entry.name.endswith(".json")), *variants.specs()]))


@cache
def load(name: str) -> dict[str, Any]:
    spec = variants.specs().get(name)
    if spec is not None:
        return variants.derive(name, spec, inlined(spec["base"]))
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text("utf-8"))


@cache
def registry() -> Registry:
    return Registry().with_resources(
        (load(name)["$id"], Resource.from_contents(load(name))) for name in names()
    )


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator of the schema with every ``$ref`` inlined: resolving references through the
    registry on each call was most of the cost of validating a request."""
    return Draft202012Validator(inlined(name), format_checker=FormatChecker())


@cache
def fast_validator(name: str) -> Callable[[Any], Any]:
    """The same schema compiled to Python by fastjsonschema: ~25x faster, used for the verdict
    on every request; ``validator`` (the Draft 2020-12 reference) then explains a failure.

    These schemas use only keywords whose meaning is the same in draft-07, the newest draft
    fastjsonschema compiles, so the inlined schema is compiled under that dialect.
    """
    schema = {**inlined(name), "$schema": "http://json-schema.org/draft-07/schema#"}
    return fastjsonschema.compile(schema, use_default=False, use_formats=False)


def is_valid(name: str, instance: Any) -> bool:
    try:
        fast_validator(name)(instance)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@cache
def inlined(name: str) -> dict[str, Any]:
    """The schema ``name`` with its references inlined (see ``inline_refs``)."""
    return inline_refs(load(name))


def inline_refs(schema: Any) -> Any:
    """A copy of ``schema`` where each ``$ref`` (into these files) is replaced by its target."""
    if isinstance(schema, list):
        return [inline_refs(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return inline_refs(resolve(schema))
    return {key: inline_refs(value) for key, value in schema.items()}


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


TASK_SCHEMAS = _task_schemas()
# A task type with a request schema of its own keeps it even when the catalog lists models for
# it (their model is optional: the task module checks it against the catalog).
MODEL_TASK_TYPES = tuple(name for name in model_catalog.task_types_with_models()
                         if name not in TASK_SCHEMAS)
TASK_TYPES = (*TASK_SCHEMAS, *MODEL_TASK_TYPES)

# A task type's answer is response.<taskType>.json, but for ping's, whose name predates the rule
# and is part of the contract suite's public vocabulary.
_RESPONSE_NAMES = {"ping": "response.pong"}


def request_schemas(task_type: str) -> tuple[str, ...]:
    """The schemas that validate a task type's requests: its own, or one per model family."""
    if task_type in TASK_SCHEMAS:
        return (TASK_SCHEMAS[task_type],)
    return tuple(sorted({model.family.schema for model in model_catalog.models().values()
                         if model.family.task_type == task_type}))


def response_schema(task_type: str) -> str | None:
    """The schema of the item that answers a task type (its result, when it has finished)."""
    name = _RESPONSE_NAMES.get(task_type, f"response.{task_type}")
    return name if name in names() else None


RESPONSE_SCHEMAS = {task_type: response_schema(task_type) for task_type in TASK_TYPES}
