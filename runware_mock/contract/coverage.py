"""What the emulator covers of the Runware API, as docs/coverage.md shows it (like moto's
IMPLEMENTATION_COVERAGE.md): every task type, under each name the SDKs send, by transport,
delivery and callback, with the official SDK methods that reach it.

The support columns are read from the request schemas (a task type is offered when the schema
registry has a request schema for it; ``deliveryMethod``'s enum; whether ``webhookURL`` and
``uploadEndpoint`` are properties) and from the model catalog; the SDK methods, and the task
types not offered yet, from ``sdk_methods.toml``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from runware_mock.contract import model_catalog, schemas

YES, NO = "✓", "\u2013"  # an en dash: a blank cell that reads as "no"
DELIVERIES = ("sync", "async", "stream")
# Streamed text is server-sent events over HTTP: the only delivery bound to a transport.
REST_ONLY = {"stream"}


@cache
def sdk_methods() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("sdk_methods.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class Support:
    """What the emulator accepts for one task type, read from its request schemas."""

    deliveries: tuple[str, ...]
    webhook: bool
    upload_endpoint: bool
    models: int


def support(task_type: str) -> Support:
    properties = [schemas.inlined(name).get("properties", {})
                  for name in schemas.request_schemas(task_type)]
    return Support(deliveries=_deliveries(properties),
                   webhook=any("webhookURL" in each for each in properties),
                   upload_endpoint=any("uploadEndpoint" in each for each in properties),
                   models=len(model_catalog.airs(task_type)))


def _deliveries(properties: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """The deliveryMethod values any schema of the task type takes; without the field the
    answer comes in the reply itself, as for sync."""
    found: set[str] = set()
    for each in properties:
        found.update(each.get("deliveryMethod", {}).get("enum", ["sync"]))
    return tuple(method for method in DELIVERIES if method in found)


def task_type_names() -> list[str]:
    """The offered task types in the documented order, then any other offered one, then the
    documented ones not offered yet."""
    documented = list(sdk_methods()["task_types"])
    offered = [name for name in documented if name in schemas.TASK_TYPES]
    offered += sorted(name for name in schemas.TASK_TYPES if name not in documented)
    return offered + [name for name in documented if name not in schemas.TASK_TYPES]


def _mark(value: bool) -> str:
    return YES if value else NO


def _row(name: str) -> list[str]:
    entry = sdk_methods()["task_types"].get(name, {})
    methods = [", ".join(f"`{method}`" for method in entry.get(sdk, [])) or NO
               for sdk in sdk_methods()["sdks"]]
    if name not in schemas.TASK_TYPES:
        return [f"`{name}`", "not yet", *[NO] * 8, *methods, entry.get("note", "")]
    offered = support(name)
    websocket = any(method not in REST_ONLY for method in offered.deliveries)
    return [f"`{name}`", YES, YES, _mark(websocket),
            *(_mark(method in offered.deliveries) for method in DELIVERIES),
            _mark(offered.webhook), _mark(offered.upload_endpoint),
            str(offered.models) if offered.models else NO, *methods, entry.get("note", "")]


def coverage_table() -> str:
    header = ["taskType", "offered", "REST", "WebSocket", *DELIVERIES, "webhookURL",
              "uploadEndpoint", "catalog models", *sdk_methods()["sdks"].values(), "note"]
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(_row(name))} |" for name in task_type_names()]
    return "\n".join(lines)
