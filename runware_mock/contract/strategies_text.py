"""Hypothesis strategies for the text task types: textInference, promptEnhance, modelSearch.

    from runware_mock.contract import strategies_text as ts

    @given(ts.text_tasks())            # valid textInference tasks (sync or async)
    @given(ts.invalid_text_tasks())    # InvalidCase: .task, .parameter, .code
    @given(ts.enhance_tasks()) / ts.invalid_enhance_tasks()
    @given(ts.search_tasks()) / ts.invalid_search_tasks()

Bounds, enums and required fields are read from the request schemas (request.textInference.
chat.json, request.promptEnhance.json, request.modelSearch.json); the kinds the generic
schema strategies leave to hand-written ones (numbers, arrays, UUIDs, URLs, the model) are
written here. An invalid example breaks exactly one bound and carries the ``parameter`` and
error ``code`` the emulator must answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from runware_mock.contract import model_catalog, schemas
from runware_mock.contract.schema_strategies import (
    MISSING,
    Path,
    Violation,
    strings_within,
    valid_values,
    violations,
    wrong_types,
)
from runware_mock.contract.strategies import InvalidCase, task_uuids, webhook_urls

TEXT_SCHEMA = "request.textInference.chat"
ENHANCE_SCHEMA = "request.promptEnhance"
SEARCH_SCHEMA = "request.modelSearch"
Special = dict[Path, list[st.SearchStrategy[Violation]]]


def text_tasks(delivery: tuple[str, ...] = ("sync", "async")) -> st.SearchStrategy[dict[str, Any]]:
    """Valid textInference tasks; ``delivery`` limits deliveryMethod (stream answers SSE)."""
    overrides = _hand_written(TEXT_SCHEMA)
    overrides[("model",)] = st.sampled_from(model_catalog.airs("textInference"))
    overrides[("messages",)] = _conversations()
    overrides[("deliveryMethod",)] = st.sampled_from(delivery)
    return valid_values(schemas.inlined(TEXT_SCHEMA), (), overrides)


def enhance_tasks() -> st.SearchStrategy[dict[str, Any]]:
    overrides = _hand_written(ENHANCE_SCHEMA)
    overrides[("model",)] = st.sampled_from(model_catalog.airs("promptEnhance"))
    return valid_values(schemas.inlined(ENHANCE_SCHEMA), (), overrides)


def search_tasks() -> st.SearchStrategy[dict[str, Any]]:
    return valid_values(schemas.inlined(SEARCH_SCHEMA), (), _hand_written(SEARCH_SCHEMA))


def invalid_text_tasks() -> st.SearchStrategy[InvalidCase]:
    special = _common_special(TEXT_SCHEMA, "textInference")
    special[("messages",)] = _message_violations()
    return _invalid(text_tasks(), TEXT_SCHEMA, special)


def invalid_enhance_tasks() -> st.SearchStrategy[InvalidCase]:
    return _invalid(enhance_tasks(), ENHANCE_SCHEMA, _common_special(ENHANCE_SCHEMA,
                                                                     "promptEnhance"))


def invalid_search_tasks() -> st.SearchStrategy[InvalidCase]:
    return _invalid(search_tasks(), SEARCH_SCHEMA, _common_special(SEARCH_SCHEMA, None))


# --- valid values the generic strategies do not write -----------------------------------------

def _hand_written(schema_name: str) -> dict[Path, st.SearchStrategy[Any]]:
    """UUIDs, URLs, numbers and arrays of string items, wherever the schema has them."""
    found: dict[Path, st.SearchStrategy[Any]] = {}

    def walk(schema: Mapping[str, Any], path: Path) -> None:
        for name, prop in schema.get("properties", {}).items():
            here = (*path, name)
            if prop.get("x-expected") in ("a UUID v4", "a UUID"):
                found[here] = task_uuids()
            elif "http" in str(prop.get("x-expected", "")):
                found[here] = webhook_urls()
            elif prop.get("type") == "number":
                found[here] = st.floats(prop["minimum"], prop["maximum"], allow_nan=False)
            elif prop.get("type") == "array" and prop["items"].get("type") == "string":
                item = prop["items"]
                found[here] = st.lists(strings_within(item["minLength"], item["maxLength"]),
                                       max_size=prop["maxItems"])
            elif prop.get("type") == "object":
                walk(prop, here)

    walk(schemas.inlined(schema_name), ())
    return found


@st.composite
def _conversations(draw: st.DrawFn) -> list[dict[str, str]]:
    """1-6 messages ending with the user's (the schema allows 100; short keeps them fast)."""
    earlier = draw(st.lists(st.tuples(st.sampled_from(["user", "assistant"]),
                                      strings_within(1, 200)), max_size=5))
    messages = [{"role": role, "content": content} for role, content in earlier]
    return [*messages, {"role": "user", "content": draw(strings_within(1, 200))}]


# --- violations ---------------------------------------------------------------------------

def _invalid(valid: st.SearchStrategy[dict[str, Any]], schema_name: str,
             special: Special) -> st.SearchStrategy[InvalidCase]:
    broken = st.one_of(*violations(schemas.inlined(schema_name), (), None, special))
    return st.tuples(valid, broken).map(
        lambda pair: InvalidCase(pair[1].apply(pair[0]), pair[1].parameter, pair[1].code,
                                 pair[1].allowed_values))


def _common_special(schema_name: str, task_type: str | None) -> Special:
    """taskType chooses the schema and the model its catalog entry: their errors follow their
    own rules (tests/test_strategies.py covers them), so only a wrong model is broken here;
    arrays of strings get their own violations."""
    special: Special = {("taskType",): []}
    if task_type is not None:
        served = list(model_catalog.airs(task_type))
        others = st.one_of(st.sampled_from(["runware:101@1", "openai:gpt@4"]),
                           st.text(min_size=1, max_size=24)).filter(
            lambda model: model not in served)
        special[("model",)] = [others.map(
            lambda model: Violation(("model",), model, "invalidModel", served))]

    def walk(schema: Mapping[str, Any], path: Path) -> None:
        for name, prop in schema.get("properties", {}).items():
            here = (*path, name)
            if prop.get("type") == "array" and here != ("messages",):
                special[here] = _array_violations(here, prop)
            elif prop.get("type") == "number":
                special[here] = _number_violations(here, prop)
            elif prop.get("type") == "object":
                walk(prop, here)

    walk(schemas.inlined(schema_name), ())
    return special


def _code(path: Path) -> str:
    name = path[-1]
    return f"invalid{name[:1].upper()}{name[1:]}"


def _number_violations(path: Path, prop: Mapping[str, Any],
                       ) -> list[st.SearchStrategy[Violation]]:
    code = _code(path)
    out_of_range = st.one_of(st.floats(max_value=prop["minimum"], exclude_max=True,
                                       allow_nan=False, allow_infinity=False, min_value=-1e6),
                             st.floats(min_value=prop["maximum"], exclude_min=True,
                                       allow_nan=False, allow_infinity=False, max_value=1e6))
    wrong = wrong_types("number").filter(lambda value: not isinstance(value, bool | int))
    return [value.map(lambda v: Violation(path, v, code)) for value in (out_of_range, wrong)]


def _array_violations(path: Path, prop: Mapping[str, Any]) -> list[st.SearchStrategy[Violation]]:
    """Too many items, or not an array (a bad item is reported at its own index)."""
    code = _code(path)
    item = prop["items"]
    too_many = st.lists(strings_within(item["minLength"], item["maxLength"]),
                        min_size=prop["maxItems"] + 1, max_size=prop["maxItems"] + 2)
    return [too_many.map(lambda value: Violation(path, value, code)),
            wrong_types("array").map(lambda value: Violation(path, value, code))]


def _message_violations() -> list[st.SearchStrategy[Violation]]:
    """Absent, not a non-empty array, or not ending with the user's message."""
    path: Path = ("messages",)
    last_not_user = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yes"}]
    return [
        st.just(Violation(path, MISSING, "missingParameter")),
        st.sampled_from([[], "hello", 3, {"role": "user"}, last_not_user]).map(
            lambda value: Violation(path, value, "invalidMessages")),
    ]
