"""The oracle table (tests/oracle.toml): documented bounds and prices, read apart from the code.

``edge_cases()`` turns every bound into its four edges (min - step, min, max, max + step), each
a task with one field set and the verdict the documentation gives; ``verdicts`` lists the
answers that are not that verdict; ``within`` says whether a size is inside a bound (for the
strategies of tests/oracle_strategies.py).
"""

from __future__ import annotations

import copy
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("oracle.toml")
# A task type's own rows, one file each (``dev.py new-task-type`` starts one): read as part of
# the table.
TABLES = Path(__file__).with_name("oracle.d")
# The smallest move off a bound, when the row does not name one.
STEPS = {"integer": 1, "length": 1, "items": 1, "number": 0.01}


@dataclass(frozen=True)
class Bound:
    schema: str
    field: str
    kind: str
    low: float | None
    high: float | None
    step: float
    code: str | None
    model: str | None
    catalog: str | None
    item: Any
    with_: dict[str, Any]
    source: str
    # Fields of the base task the bound's case leaves out (a video upscale's has no inputImage).
    without: tuple[str, ...] = ()

    @property
    def parameter(self) -> str:
        """How the error names the field: an array's first item as ``.0``."""
        return self.field.replace("[]", ".0")

    @property
    def error_code(self) -> str:
        if self.code:
            return self.code
        # An array item's error is named after its array (docs/errors.md: invalid<Param>).
        name = next(part for part in reversed(self.parameter.split(".")) if not part.isdigit())
        return f"invalid{name[:1].upper()}{name[1:]}"

    def value(self, size: float) -> Any:
        """The field's value at ``size`` (a number; a length or a count of items)."""
        if self.kind == "integer":
            return int(size)
        if self.kind == "number":
            return round(size, 6)
        if self.kind == "length":
            return "a" * int(size)
        return [copy.deepcopy(self.item) for _ in range(int(size))]

    def label(self) -> str:
        return f"{self.schema.removeprefix('request.')}:{self.field}"


@dataclass(frozen=True)
class Edge:
    bound: Bound
    name: str  # min-1, min, max, max+1
    task: dict[str, Any]
    accepted: bool


@dataclass(frozen=True)
class PriceRow:
    models: tuple[str, ...]
    task_types: tuple[str, ...]
    rule: str
    usd: float
    examples: tuple[dict[str, float], ...]
    source: str


@cache
def _table() -> dict[str, Any]:
    table = tomllib.loads(TABLE.read_text("utf-8"))
    for part in sorted(TABLES.glob("*.toml")):
        rows = tomllib.loads(part.read_text("utf-8"))
        table["base"].update(rows.get("base", {}))
        table["bound"] += rows.get("bound", [])
        table["price"] += rows.get("price", [])
    return table


def bases() -> dict[str, dict[str, Any]]:
    return _table()["base"]


@cache
def bounds() -> tuple[Bound, ...]:
    found = []
    for row in _table()["bound"]:
        for schema in row["schemas"]:
            found.append(Bound(schema, row["field"], row["kind"], row.get("min"),
                               row.get("max"), row.get("step", STEPS[row["kind"]]),
                               row.get("code"), row.get("model"), row.get("catalog"),
                               row.get("item"), row.get("with", {}), row["source"],
                               tuple(row.get("without", ()))))
    return tuple(found)


@cache
def prices() -> tuple[PriceRow, ...]:
    return tuple(PriceRow(tuple(row.get("models", ())), tuple(row.get("task_types", ())),
                          row["rule"], row["usd"],
                          tuple(row.get("examples", ())), row["source"])
                 for row in _table()["price"])


def price_for(air: str, task_type: str) -> PriceRow:
    """The model's own row, else its task type's default."""
    rows = prices()
    return next((row for row in rows if air in row.models), None) or \
        next(row for row in rows if task_type in row.task_types)


def task_for(bound: Bound, value: Any) -> dict[str, Any]:
    task = copy.deepcopy(bases()[bound.schema])
    task["taskUUID"] = str(uuid.uuid4())
    if bound.model:
        task["model"] = bound.model
    task.update(copy.deepcopy(bound.with_))
    for name in bound.without:
        task.pop(name, None)
    put(task, bound.field, value)
    return task


def put(task: dict[str, Any], field: str, value: Any) -> None:
    """Set a dotted field; ``name[]`` is the first item of the array ``name``."""
    *parents, last = field.split(".")
    target = task
    for name in parents:
        target = target[name[:-2]][0] if name.endswith("[]") else target.setdefault(name, {})
    if last.endswith("[]"):  # the first item: of the array ``with`` gave, else of a new one
        target[last[:-2]] = [value, *target.get(last[:-2], [None])[1:]]
    else:
        target[last] = value


def edges(bound: Bound) -> Iterator[Edge]:
    if bound.low is not None:
        if bound.kind not in ("length", "items") or bound.low - bound.step >= 0:
            yield _edge(bound, "min-1", bound.low - bound.step, accepted=False)
        yield _edge(bound, "min", bound.low, accepted=True)
    if bound.high is not None:
        yield _edge(bound, "max", bound.high, accepted=True)
        yield _edge(bound, "max+1", bound.high + bound.step, accepted=False)


def _edge(bound: Bound, name: str, size: float, accepted: bool) -> Edge:
    return Edge(bound, name, task_for(bound, bound.value(size)), accepted)


def edge_cases() -> list[Edge]:
    return [edge for bound in bounds() for edge in edges(bound)]


def within(bound: Bound, size: float) -> bool:
    """Whether ``size`` (a number, a length, a count) is inside the documented bound."""
    return (bound.low is None or size >= bound.low) and (bound.high is None or size <= bound.high)


def size_of(bound: Bound, value: Any) -> float:
    return len(value) if bound.kind in ("length", "items") else value


def verdicts(edges: list[Edge], errors: list[dict[str, Any]]) -> list[str]:
    """What went wrong, one line per case whose answer is not the documented one: an accepted
    case must get no error at all, a refused one exactly one error naming its field, with the
    documented code."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for problem in errors:
        by_task.setdefault(problem.get("taskUUID"), []).append(problem)
    wrong = []
    for edge in edges:
        bound = edge.bound
        found = by_task.get(edge.task["taskUUID"], [])
        naming = [problem for problem in found if problem.get("parameter") == bound.parameter]
        if edge.accepted and found:
            wrong.append(f"{bound.label()} {edge.name}: refused, {found} ({bound.source})")
        elif not edge.accepted and [p["code"] for p in naming] != [bound.error_code]:
            wrong.append(f"{bound.label()} {edge.name}: expected one {bound.error_code} naming "
                         f"{bound.parameter}, got {found} ({bound.source})")
    return wrong
