"""Enums the real service matches in any case: clients send ``mp4`` where the docs say ``MP4``,
``glb`` for ``GLB``, ``jpg`` for ``JPG`` (runware-surface.md, Summary rule 3).

A schema marks such a string enum with ``"x-any-case": true``. Before a task is validated,
``canonical`` rewrites each marked value that equals one of the enum's values but for case to
that value, so the task type and its result see the canonical spelling (``MP4``) and a value
outside the enum in every case is still refused with the enum as ``allowedValues``. Unmarked
enums stay exact (``deliveryMethod``, ``outputType``: the sources show no other spelling).
"""

from __future__ import annotations

from typing import Any

MARKER = "x-any-case"


def canonical(schema: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    """``task`` with each value of a marked enum in its canonical case (a copy when one
    changes; ``task`` itself otherwise). ``schema`` has its references inlined."""
    changed: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if name not in task:
            continue
        value = task[name]
        if isinstance(value, dict) and "properties" in prop:
            fixed = canonical(prop, value)
        else:
            fixed = spelled(prop, value)
        if fixed is not value:
            changed[name] = fixed
    return {**task, **changed} if changed else task


def spelled(prop: dict[str, Any], value: Any) -> Any:
    """The enum's own spelling of ``value`` when ``prop`` is a marked enum that has it (in a
    list of them too: runware 0.5 sends some fields as lists); ``value`` otherwise."""
    if isinstance(value, list) and prop.get("type") == "array":
        items = [spelled(prop.get("items", {}), item) for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if not prop.get(MARKER) or not isinstance(value, str):
        return value
    for allowed in prop.get("enum", ()):
        if isinstance(allowed, str) and allowed != value and allowed.casefold() == \
                value.casefold():
            return allowed
    return value
