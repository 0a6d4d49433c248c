"""Hostile request bodies for the fuzz campaign (tests/test_fuzz.py) and its benchmark
(benchmarks/fuzz.py): arbitrary JSON at every field of every task type the emulator knows,
read from the task registry and the schemas, so a new task type is fuzzed without naming it.

Every URL a case carries points at 127.0.0.1 (port 9, where nothing listens): a fuzzed
``webhookURL`` or input URL never sends traffic anywhere else.
"""

from __future__ import annotations

import copy
import functools
import json
import uuid
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from runware_mock.contract import schemas
from runware_mock.tasks import task_types

NOWHERE = "http://127.0.0.1:9/fuzz"
Path = tuple[str, ...]


def task_schemas() -> dict[str, str]:
    """Each task type (and each model of a task type that has models) and its schema."""
    found: dict[str, str] = {}
    for name, task_type in task_types().items():
        if task_type.schema is not None:
            found[name] = task_type.schema
    for model, schema in schemas.MODEL_SCHEMAS.items():
        found[f"{_task_type_of(schema)}:{model}"] = schema
    return found


def _task_type_of(schema_name: str) -> str:
    return schemas.task_type_names(schema_name)[0]


def base_task(schema_name: str, model: str | None = None) -> dict[str, Any]:
    """A task with every required field of the schema, valid in form; its media inputs name
    uploads that do not exist, so nothing is fetched, decoded or rendered."""
    task = _base(schemas.inlined(schema_name))
    if model is not None:
        task["model"] = model
    return task


def _base(schema: dict[str, Any]) -> Any:
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _base(properties[name]) for name in schema.get("required", ())}
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if "httpUrl" in json.dumps(schema) or "http" in schema.get("x-expected", ""):
        return NOWHERE
    return str(uuid.uuid4())


def field_paths(schema_name: str) -> list[Path]:
    """Every field of the schema, nested ones too, and one it does not know."""
    paths: list[Path] = [("unknownField",)]

    def walk(schema: dict[str, Any], prefix: Path) -> None:
        for name, prop in schema.get("properties", {}).items():
            paths.append((*prefix, name))
            if prop.get("type") == "object":
                walk(prop, (*prefix, name))

    walk(schemas.inlined(schema_name), ())
    return paths


def _safe(text: str) -> str:
    """No case reaches a host other than 127.0.0.1."""
    return NOWHERE if "://" in text or text.lower().startswith(("http", "ws")) else text


LONE_SURROGATES = st.sampled_from(["\udc80", "\ud800x", "a\udfff", "\ud83d"])
HUGE_NUMBERS = st.sampled_from([10**309, -10**309, 10**4000, 2**64, -2**63 - 1, 1e308,
                                float("inf"), float("-inf"), float("nan"), 5e-324])
texts = st.one_of(st.text(max_size=40).map(_safe), LONE_SURROGATES,
                  st.text(max_size=3).map(lambda s: s * 5000),
                  st.sampled_from(["", "data:", "data:image/png;base64,", "=", "AAAA====",
                                   str(uuid.UUID(int=0)), "klingai:avatar@2.0-pro", NOWHERE]))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), HUGE_NUMBERS, st.floats(),
                    texts)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)), max_leaves=12)


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


@st.composite
def fuzzed_task(draw: st.DrawFn) -> Any:
    """A task of some known type with arbitrary JSON at one to three of its fields."""
    names = task_schemas()
    label = draw(st.sampled_from(sorted(names)))
    model = label.split(":", 1)[1] if ":" in label else None
    task = base_task(names[label], model)
    for path in draw(st.lists(st.sampled_from(field_paths(names[label])), min_size=1,
                              max_size=3)):
        _put(task, path, draw(json_values))
    return task


def _put(task: dict[str, Any], path: Path, value: Any) -> None:
    target = task
    for name in path[:-1]:
        if not isinstance(target.get(name), dict):
            target[name] = {}
        target = target[name]
    target[path[-1]] = value


def encode(value: Any) -> bytes:
    """As a client would send it: NaN and lone surrogates written as ``json`` writes them."""
    return json.dumps(value).encode()


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    """A request body: fuzzed tasks, or deep nesting, huge numbers, bad UTF-8, bad JSON."""
    shape = draw(st.sampled_from(["tasks", "tasks", "tasks", "deep", "deep-field",
                                  "bad-utf8", "cut", "scalar", "many"]))
    if shape == "deep":
        return nested(draw(st.integers(1, 5000))).encode()
    if shape == "deep-field":
        task = draw(fuzzed_task())
        depth = draw(st.integers(1, 3000))
        return encode([task])[:-1] + b',{"taskType":"ping","ping":' + \
            nested(depth).encode() + b"}]"
    if shape == "scalar":
        return encode(draw(json_values))
    if shape == "many":
        return encode([draw(fuzzed_task())] * draw(st.integers(1, 300)))
    body = encode(draw(st.lists(fuzzed_task(), min_size=1, max_size=3)))
    if shape == "bad-utf8":
        at = draw(st.integers(0, len(body)))
        return body[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80",
                                                 b"\xf0\x28\x8c\x28", b"\x80"])) + body[at:]
    if shape == "cut":
        return body[:draw(st.integers(0, max(0, len(body) - 1)))]
    return body


def all_field_cases() -> Iterator[tuple[str, Path]]:
    """Every (task label, field) pair, so a campaign can show it covers each one: each model
    with its schema's top-level fields, and the nested ones with the first model of each schema
    (the others share them: tried for every model of a schema, issue 24's parameter objects made
    the sweep 2.4 times longer)."""
    nested_done: set[str] = set()
    for label, schema_name in sorted(task_schemas().items()):
        nested = schema_name not in nested_done
        nested_done.add(schema_name)
        for path in field_paths(schema_name):
            if nested or len(path) == 1:
                yield label, path


# --- the sweep: every (task label, field) pair, each in every batch it belongs to ---------------

Pair = tuple[str, Path]
SweepCase = tuple[str, Path, dict[str, Any]]


def sweep_task(label: str, path: Path, value: Any) -> dict[str, Any]:
    """A task of ``label`` with ``value`` at ``path``, and a taskUUID of its own."""
    task = copy.deepcopy(_sweep_base(label))
    if "taskUUID" in task:
        task["taskUUID"] = str(uuid.uuid4())
    _put(task, path, value)
    return task


@functools.cache
def _sweep_base(label: str) -> dict[str, Any]:
    """``label``'s base task, asynchronous where the schema allows it: a task the fuzzed value
    leaves valid is acked, not made while the batch waits (its files are made only if
    downloaded)."""
    name = task_schemas()[label]
    task = base_task(name, label.split(":", 1)[1] if ":" in label else None)
    # Sent under the label's name: a schema may take several (an alias: imageUpscale).
    task["taskType"] = label.split(":", 1)[0]
    if "async" in json.dumps(schemas.inlined(name).get("properties", {})
                             .get("deliveryMethod", {})):
        task["deliveryMethod"] = "async"
    return task


# The sweep's values: json_values without the huge texts, which go to one task per batch (dealt
# to every task, they made most frames megabytes).
_short_texts = st.one_of(st.text(max_size=40).map(_safe), LONE_SURROGATES,
                         st.sampled_from(["", "data:", "=", str(uuid.UUID(int=0)), NOWHERE]))
_short_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), HUGE_NUMBERS, st.floats(), _short_texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(_short_texts, inner, max_size=4)), max_leaves=12)


@st.composite
def sweep_batch(draw: st.DrawFn, pairs: list[Pair], pool: int = 8) -> list[SweepCase]:
    """One task per pair, each with arbitrary JSON at its field: ``pool`` values are drawn and
    dealt out in turn from a drawn offset (drawing one per pair made Hypothesis's bookkeeping
    most of the campaign's time), and one drawn task gets a huge text instead."""
    values = draw(st.lists(_short_values, min_size=pool, max_size=pool))
    offset = draw(st.integers(0, pool - 1))
    huge_at = draw(st.integers(0, len(pairs) - 1))
    huge = draw(st.text(min_size=1, max_size=3).map(lambda unit: unit * 5000))
    return SweepBatch((label, path, sweep_task(label, path, huge if index == huge_at
                                              else values[(offset + index) % pool]))
                      for index, (label, path) in enumerate(pairs))


class SweepBatch(list[SweepCase]):
    """A batch of the sweep, shown short: Hypothesis prints (and on every example, prepares)
    the repr of what it drew, and a batch's full repr is hundreds of kilobytes."""

    def __repr__(self) -> str:
        return f"<{len(self)} tasks from {self[0][0]} {'.'.join(self[0][1])} on>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def chunks(pairs: list[Pair], size: int) -> Iterator[list[Pair]]:
    for start in range(0, len(pairs), size):
        yield pairs[start:start + size]


def missed(covered: set[Pair]) -> list[str]:
    """The pairs the campaign claims and did not reach, readable."""
    return [f"{label} {'.'.join(path)}" for label, path in all_field_cases()
            if (label, path) not in covered]
