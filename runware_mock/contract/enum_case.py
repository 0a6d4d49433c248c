"""Enum values the real service matches whatever their case, answered as the canonical value.

A schema marks such an enum with ``"x-any-case": true`` (and may name other spellings of a
value in ``"x-aliases"``, e.g. ``{"JPEG": "JPG"}``): ``outputFormat`` arrives as ``jpg``,
``promptWeighting`` as ``sdembeds``, ``preProcessorType`` as ``Canny`` or ``LineArtAnime`` for
``lineart_anime`` (runware-surface.md, Summary 3): case, ``_`` and ``-`` are ignored when
matching. ``canonical(schema, task)`` gives the task with each such value replaced by the
enum's own spelling, before the schema judges it, so the result reports ``JPG`` and a value that
is no spelling of any member is refused as before (with ``allowedValues``).

The plan of where the marked enums are is read once per schema; a task costs a dictionary
look-up per marked field present, and is copied only where a value changes.
"""

from __future__ import annotations

import operator
from functools import cache
from typing import Any, Union

from runware_mock.contract import schemas

# Where the marked enums of an object are: a field's spellings (squashed -> canonical), the
# plan of a nested object, or ``[plan]`` for an array whose items are objects.
Plan = dict[str, Union[dict[str, str], "Plan", list["Plan"]]]


# The schema keywords this module reads.
ANY_CASE, ALIASES = "x-any-case", "x-aliases"


def canonical(schema: str | dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    """``task`` with every marked enum value spelled as its schema (a registered schema's
    name, or a schema with its references inlined) spells it."""
    plan = plan_of(schema) if isinstance(schema, str) else _object_plan(schema)
    return _canonical_object(plan, task) if plan else task


@cache
def plan_of(schema_name: str) -> Plan:
    return _object_plan(schemas.inlined(schema_name))


def spellings(schema: dict[str, Any]) -> dict[str, str] | None:
    """Spelling as compared (``squashed``) -> canonical value of a marked enum (``None`` if
    not marked)."""
    if not schema.get(ANY_CASE) or "enum" not in schema:
        return None
    found = {squashed(str(value)): value for value in schema["enum"]}
    found.update({squashed(alias): value for alias, value in schema.get(ALIASES, {}).items()})
    return found


def squashed(spelling: str) -> str:
    """``spelling`` as it is compared: lower case, without ``_`` and ``-``."""
    return spelling.lower().replace("_", "").replace("-", "")


def _object_plan(schema: dict[str, Any]) -> Plan:
    plan: Plan = {}
    for name, prop in schema.get("properties", {}).items():
        found = _field_plan(prop)
        if found:
            plan[name] = found
    return plan


def _field_plan(prop: dict[str, Any]) -> dict[str, str] | Plan | list[Plan] | None:
    known = spellings(prop)
    if known is not None:
        return {"": known}  # a leaf: the key "" cannot be a field name of these schemas
    for branch in prop.get("anyOf", ()):
        found = _field_plan(branch)
        if found:
            return found
    if prop.get("type") == "object":
        return _object_plan(prop) or None
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        items = prop["items"]
        if items.get("type") == "object":
            inner = _object_plan(items)
            return [inner] if inner else None
        leaf = spellings(items)
        return [{"": leaf}] if leaf is not None else None
    return None


def _canonical_object(plan: Plan, value: dict[str, Any]) -> dict[str, Any]:
    changed: dict[str, Any] | None = None
    for name, rule in plan.items():
        if name not in value:
            continue
        new = _canonical_value(rule, value[name])
        if new is not value[name]:
            changed = changed if changed is not None else dict(value)
            changed[name] = new
    return changed if changed is not None else value


def _canonical_value(rule: Any, value: Any) -> Any:
    if isinstance(rule, list):
        if not isinstance(value, list):
            return value
        items = [_canonical_value(rule[0], item) for item in value]
        return items if any(map(operator.is_not, items, value)) else value
    if "" in rule:
        if isinstance(value, str):
            canonical_value = rule[""].get(squashed(value), value)
            return value if canonical_value == value else canonical_value
        return value
    return _canonical_object(rule, value) if isinstance(value, dict) else value
