"""``null`` means absent: runware 0.5.24 sends every unset member of ``controlNet[]`` and
``puLID`` as ``null`` (runware-surface.md, Summary 4), and other clients send unset top-level
fields the same way. In a request schema marked ``"x-null-means-absent": true``,
``without_nulls(schema_name, task)`` drops each ``null`` member of the task and of the objects
its schema describes (nested objects and arrays of objects), unless the schema lets that member
be ``null``. The task is copied only where a member is dropped. (The avatar's schema is not
marked: its documentation refuses a null, and the emulator keeps that.)"""

from __future__ import annotations

import operator
from functools import cache
from typing import Any, Union

from runware_mock.contract import schemas

# An object's plan: the members that may be null, and the plans of its nested objects
# (``[plan]`` for an array of objects).
Plan = tuple[frozenset[str], dict[str, Union["Plan", list["Plan"]]]]


def without_nulls(schema_name: str, task: dict[str, Any]) -> dict[str, Any]:
    plan = plan_of(schema_name)
    return task if plan is None else _object(plan, task)


@cache
def plan_of(schema_name: str) -> Plan | None:
    schema = schemas.inlined(schema_name)
    return _object_plan(schema) if applies(schema) else None


def applies(schema: dict[str, Any]) -> bool:
    """Whether a request schema reads a null member as an absent one."""
    return schema.get("x-null-means-absent") is True


def _takes_null(prop: dict[str, Any]) -> bool:
    kind = prop.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind) or any(
        _takes_null(branch) for branch in prop.get("anyOf", ()))


def _object_plan(schema: dict[str, Any]) -> Plan:
    properties = schema.get("properties", {})
    nullable = frozenset(name for name, prop in properties.items() if _takes_null(prop))
    nested: dict[str, Plan | list[Plan]] = {}
    for name, prop in properties.items():
        kinds = [prop, *prop.get("anyOf", ())]
        for kind in kinds:
            if kind.get("type") == "object" and kind.get("properties"):
                nested[name] = _object_plan(kind)
            elif kind.get("type") == "array" and isinstance(kind.get("items"), dict) \
                    and kind["items"].get("type") == "object":
                nested[name] = [_object_plan(kind["items"])]
    return nullable, nested


def _object(plan: Plan, value: dict[str, Any]) -> dict[str, Any]:
    nullable, nested = plan
    result = value
    if None in value.values():
        result = {name: item for name, item in value.items()
                  if item is not None or name in nullable}
    for name, item in value.items():
        inner = nested.get(name)
        if inner is None or item is None:
            continue
        new = _nested(inner, item)
        if new is not item:
            result = result if result is not value else dict(value)
            result[name] = new
    return result


def _nested(plan: Plan | list[Plan], value: Any) -> Any:
    if isinstance(plan, list):
        if not isinstance(value, list):
            return value
        items = [_object(plan[0], item) if isinstance(item, dict) else item for item in value]
        return items if any(map(operator.is_not, items, value)) else value
    return _object(plan, value) if isinstance(value, dict) else value
