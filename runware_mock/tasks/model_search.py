"""``modelSearch``: the catalog's models (source ``official``) and a small community library
(source ``community``, contract/models/search-library.toml), filtered, sorted and paged.

Answered at once, in one item: ``{"taskType", "taskUUID", "totalResults", "results"}``. Every
result carries the fields runware 0.5 requires non-null (air, name, version, category,
architecture, tags, heroImage, private, comment), with empty strings where nothing is known.

Matching (docs/text.md): ``search`` is a case-insensitive substring of the AIR, name, tags
or comment; each word of a multi-word search must match. A model matches ``tags`` when it has
any of them (runware-surface.md 5.4);
``category``, ``type``, ``architecture``, ``conditioning`` and ``source`` match exactly;
``capabilities`` must all be among the model's (its task types). ``visibility`` owned finds the
models the key uploaded (modelUpload), private those of them it kept private, public and all
the catalog's and library's with the key's uploads (public ones only for public); the
emulator keeps no favorites.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from runware_mock.contract import model_catalog
from runware_mock.contract.request_types import ModelSearchRequest
from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.protocol.envelope import Reply, succeeded

LIBRARY = "search-library.toml"
# What a model reports beyond the required fields when its entry says nothing.
_DEFAULTS: dict[str, Any] = {"type": "", "conditioning": "", "positiveTriggerWords": "",
                             "heroImage": "", "private": False, "comment": ""}


async def model_search(task: ModelSearchRequest, context: Context,
                       services: TaskServices) -> Reply:
    pool = _visible(task["visibility"], uploaded_results(services, context.owner))
    found = [model for model in pool if _matches(model, task)]
    found = _sorted(found, task["sort"], task.get("search", ""))
    page = found[task["offset"]:task["offset"] + task["limit"]]
    return succeeded({"taskType": "modelSearch", "taskUUID": task["taskUUID"],
                      "totalResults": len(found), "results": page})


@cache
def searchable() -> tuple[dict[str, Any], ...]:
    """Every model modelSearch can find, as it reports them: the catalog's, then the
    library's."""
    data = tomllib.loads(resources.files(model_catalog.__package__).joinpath("models", LIBRARY)
                         .read_text("utf-8"))
    categories: dict[str, str] = data.get("catalog_categories", {})
    official = [_official(model, categories) for model in model_catalog.models().values()]
    community = [{"air": air, **_DEFAULTS, **entry, "source": "community",
                  "capabilities": ["imageInference"], "private": False}
                 for air, entry in data.get("library", {}).items()]
    return tuple(official + community)


def _official(model: model_catalog.Model, categories: dict[str, str]) -> dict[str, Any]:
    return {"air": model.air, **_DEFAULTS, "name": model.name,
            "version": model.air.rpartition("@")[2],
            "category": categories.get(model.task_type, model.task_type),
            "architecture": model.family.name, "tags": [model.task_type, model.family.output],
            "comment": f"{model.name}, served by the emulator ({model.task_type}).",
            "source": "official", "capabilities": [model.task_type]}


def uploaded_results(services: TaskServices, owner: str) -> list[dict[str, Any]]:
    """The models the key uploaded (modelUpload), as modelSearch reports them."""
    return [_uploaded(spec) for spec in services.accounts.uploaded_models(owner)]


def _uploaded(spec: dict[str, Any]) -> dict[str, Any]:
    words = {name: ", ".join(value) if isinstance(value, list) else value
             for name in ("positiveTriggerWords", "negativeTriggerWords")
             if (value := spec.get(name)) is not None}
    return {**_DEFAULTS, **{name: value for name, value in spec.items()
                            if name not in ("downloadURL", "heroImageURL", "format")},
            **words, "heroImage": spec.get("heroImageURL", ""), "tags": spec.get("tags", []),
            "comment": spec.get("comment", ""), "source": "community",
            "capabilities": ["imageInference"] if spec["category"] == "checkpoint" else []}


def _visible(visibility: str, owned: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``owned``: the key's uploads; ``private`` those it kept private; ``public`` and ``all``
    the catalog's and library's, with the key's public (or all) uploads; the emulator keeps
    no favorites."""
    if visibility == "owned":
        return owned
    if visibility == "private":
        return [model for model in owned if model["private"]]
    if visibility == "favorite":
        return []
    return [*searchable(), *(model for model in owned
                             if visibility == "all" or not model["private"])]


def _matches(model: dict[str, Any], task: ModelSearchRequest) -> bool:
    exact = ("category", "type", "architecture", "conditioning")
    if any(name in task and model[name] != task[name] for name in exact):
        return False
    if "source" in task and model["source"] != _SOURCES[task["source"]]:
        return False
    if task.get("tags") and not set(task["tags"]) & set(model["tags"]):
        return False
    if not set(task.get("capabilities", ())) <= set(model["capabilities"]):
        return False
    return all(word in _haystack(model) for word in task.get("search", "").lower().split())


_SOURCES = {"official": "official", "featured": "official", "community": "community"}


def _haystack(model: dict[str, Any]) -> str:
    return " ".join([model["air"], model["name"], *model["tags"], model["comment"]]).lower()


def _sorted(found: list[dict[str, Any]], sort: str, search: str) -> list[dict[str, Any]]:
    """``_score`` (and ``popularity``, which the emulator does not know) rank the models
    whose name holds the search first, then in library order; the others sort by their key
    (timestamps, and keys the emulator does not know such as ComfyUI-Runware's
    ``-downloadCount``: the library's order, reversed by a ``-``)."""
    descending, key = sort.startswith("-"), sort.lstrip("-")
    if key == "name":
        return sorted(found, key=lambda model: model["name"].lower(), reverse=descending)
    if key in ("_score", "popularity"):
        words = search.lower().split()

        def score(model: dict[str, Any]) -> int:
            return -sum(word in model["name"].lower() for word in words)

        return sorted(found, key=score)
    return list(reversed(found)) if descending else found


TASK_TYPE = TaskType.immediate("modelSearch", model_search, "request.modelSearch")
