"""Enum values as clients spell them: ``png`` for ``PNG``, ``Canny`` for ``canny``,
``LineArtAnime`` for ``lineart_anime``, ``JPEG`` for ``JPG``, read as the documented value.

The real service matches these enums whatever their case (runware-surface.md, Summary 3:
``outputFormat`` arrives as ``jpg``/``JPEG``/``svg``/``mp4``, ``preProcessorType`` as ``Canny``).
A schema marks such an enum with ``"x-any-case": true``; it may also name other spellings of a
value with ``"x-aliases": {"JPEG": "JPG"}``. ``canonical`` rewrites a task's values to the
documented ones before it is validated, so the handler, the stored task and the result see only
the canonical value, and a value that matches none is still refused with the documented
``allowedValues``. Case, ``_`` and ``-`` are ignored when matching.
"""

from __future__ import annotations

from typing import Any

# The schema keywords this module reads.
ANY_CASE = "x-any-case"
ALIASES = "x-aliases"


def canonical(schema: dict[str, Any], value: Any) -> Any:
    """``value`` with every enum value the schema (references inlined) marks ``x-any-case``
    replaced by its documented spelling; the rest unchanged (a new object where one changed)."""
    for branch in schema.get("anyOf", ()):  # outputType: a string, or a list of them
        spelled = canonical(branch, value)
        if spelled is not value:
            return spelled
    if isinstance(value, str):
        return _spelled(schema, value) if schema.get(ANY_CASE) else value
    if isinstance(value, dict):
        known = schema.get("properties", {})
        changed = {name: canonical(known[name], item) for name, item in value.items()
                   if name in known and isinstance(known[name], dict)}
        changed = {name: item for name, item in changed.items() if item is not value[name]}
        return {**value, **changed} if changed else value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        items = [canonical(schema["items"], item) for item in value]
        return items if any(new is not old for new, old in zip(items, value, strict=True)) \
            else value
    return value


def _spelled(schema: dict[str, Any], value: str) -> str:
    allowed = schema.get("enum", ())
    if value in allowed:
        return value
    wanted = squashed(value)
    spellings = {squashed(name): name for name in allowed}
    spellings.update({squashed(alias): name for alias, name in schema.get(ALIASES, {}).items()})
    return spellings.get(wanted, value)


def squashed(name: str) -> str:
    """``name`` as it is compared: lower case, without ``_`` and ``-``."""
    return name.lower().replace("_", "").replace("-", "")
