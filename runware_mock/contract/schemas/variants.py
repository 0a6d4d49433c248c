"""Request schemas derived from another (``variants.toml``): the base schema without the fields
an architecture does not take, with the enums it narrows, and with providerSettings keeping its
own provider's key only. Model knowledge stays data: the table says what differs, this module
only applies it."""

from __future__ import annotations

import copy
import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def specs() -> dict[str, dict[str, Any]]:
    return tomllib.loads(resources.files(__package__).joinpath("variants.toml")
                         .read_text("utf-8"))


def derive(name: str, spec: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Schema ``name`` from ``base`` (with its references inlined) as ``spec`` describes it."""
    derived = copy.deepcopy(base)
    derived["$id"] = f"https://runware-mock.local/schemas/{name}.json"
    derived["title"] = spec.get("title", f"{base.get('title', name)}: {name.rsplit('.', 1)[-1]}")
    for path in spec.get("omit", ()):
        owner, member = _owner_of(derived, path, name)
        del owner["properties"][member]
        if member in owner.get("required", ()):
            owner["required"].remove(member)
    for path, values in spec.get("narrow", {}).items():
        owner, member = _owner_of(derived, path, name)
        field = owner["properties"][member]
        unknown = set(values) - set(field["enum"])
        if unknown:
            raise ValueError(f"variant {name} narrows {path} to values it lacks: {unknown}")
        field["enum"] = list(values)
    for path, values in spec.get("replace", {}).items():
        owner, member = _owner_of(derived, path, name)
        _replace_values(owner["properties"][member], list(values))
    if "provider" in spec:
        _keep_provider(derived["properties"]["providerSettings"], spec["provider"])
    return derived


def _replace_values(field: dict[str, Any], values: list[Any]) -> None:
    """The field takes ``values`` instead of its base's; the first is its default if the base
    has one, and only the aliases of a value kept stay."""
    field["enum"] = values
    if "default" in field:
        field["default"] = values[0]
    if "x-aliases" in field:
        field["x-aliases"] = {alias: value for alias, value in field["x-aliases"].items()
                              if value in values}
    field.pop("$comment", None)


def _keep_provider(settings: dict[str, Any], provider: str | list[str]) -> None:
    """providerSettings with ``provider``'s key only (a family of several providers' models:
    theirs); another provider's key is a mismatch."""
    kept = [provider] if isinstance(provider, str) else provider
    others = [name for name in settings["properties"] if name not in kept]
    settings["properties"] = {name: settings["properties"][name] for name in kept}
    settings["x-unknown-codes"] = dict.fromkeys(others, "mismatchProviderSettingsProvider")


def _owner_of(schema: dict[str, Any], path: str, name: str) -> tuple[dict[str, Any], str]:
    """The object schema holding the last member of a dotted ``path``, and that member."""
    *parents, member = path.split(".")
    owner = schema
    for part in parents:
        owner = owner["properties"][part]
    if member not in owner.get("properties", {}):
        raise ValueError(f"variant {name} names {path}, which its base does not have")
    return owner, member
