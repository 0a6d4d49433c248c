"""Issue 23: the typed requests (runware_mock/contract/request_types.py) are what the request
schemas give: regenerated in memory, the committed file is the same, and its classes require
the keys the schemas require."""

from __future__ import annotations

import ast
from pathlib import Path

from runware_mock.contract import request_types, request_typing, schemas

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_typed_requests_are_current() -> None:
    committed = (ROOT / request_typing.MODULE).read_text("utf-8")
    assert committed == request_typing.source(), (
        "runware_mock/contract/request_types.py is stale: run python3 dev.py types")


def test_each_request_schema_has_its_typed_dict_with_the_same_keys() -> None:
    for name in request_typing.request_schemas():
        schema = schemas.load(name)
        typed = getattr(request_types, request_typing.class_name_of(name))
        assert set(typed.__annotations__) == set(schema["properties"]), name
        assert typed.__required_keys__ == frozenset(schema.get("required", ())), name


def test_a_task_type_with_several_schemas_is_their_union() -> None:
    members = set(request_types.VideoInferenceRequest.__args__)
    assert members == {getattr(request_types, request_typing.class_name_of(name))
                       for name in request_typing.request_schemas()
                       if name.startswith("request.videoInference.")}


def test_each_shape_is_one_class_and_its_other_names_alias_it() -> None:
    """The ``safety`` object of ten schemas is one class, not ten copies of the same fields."""
    module = ast.parse((ROOT / request_typing.MODULE).read_text("utf-8"))
    classes: dict[str, list[str]] = {}
    for node in module.body:
        if isinstance(node, ast.ClassDef):
            classes.setdefault(ast.dump(ast.Module(node.body, [])), []).append(node.name)
    assert [names for names in classes.values() if len(names) > 1] == []
    video_safety = [getattr(request_types, request_typing.class_name_of(name) + "Safety")
                    for name in request_typing.request_schemas()
                    if name.startswith("request.videoInference.")]
    assert len(video_safety) == 5 and len(set(video_safety)) == 1
