"""Hypothesis strategies for the text task types: textInference, promptEnhance, modelSearch.

    from runware_mock.contract import strategies_text as ts

    @given(ts.text_tasks())            # valid textInference tasks (sync or async)
    @given(ts.invalid_text_tasks())    # InvalidCase: .task, .parameter, .code
    @given(ts.enhance_tasks()) / ts.invalid_enhance_tasks()
    @given(ts.search_tasks()) / ts.invalid_search_tasks()

Derived from the request schemas (request.textInference.chat.json, request.promptEnhance.json,
request.modelSearch.json) by ``strategies.valid_tasks``/``invalid_tasks``: every bound, enum,
number, array and required field. Hand-written here, because no schema can say them:

- ``messages``: the conversation must end with the user's message (a rule across items), and
  is kept short (the schema allows 100);
- ``model``: the catalog (``contract/models/text.toml``) lists the models each task type
  serves, and a model it does not list is answered ``invalidModel`` with them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from runware_mock.contract import model_catalog
from runware_mock.contract.schema_strategies import MISSING, Path, Violation, strings_within
from runware_mock.contract.strategies import InvalidCase, Special, invalid_tasks, valid_tasks

TEXT_SCHEMA = "request.textInference.chat"
ENHANCE_SCHEMA = "request.promptEnhance"
SEARCH_SCHEMA = "request.modelSearch"


def text_tasks(delivery: tuple[str, ...] = ("sync", "async")) -> st.SearchStrategy[dict[str, Any]]:
    """Valid textInference tasks; ``delivery`` limits deliveryMethod (stream answers SSE)."""
    return valid_tasks(TEXT_SCHEMA, {("model",): _served("textInference"),
                                     ("messages",): _conversations(),
                                     ("deliveryMethod",): st.sampled_from(delivery)})


def enhance_tasks() -> st.SearchStrategy[dict[str, Any]]:
    return valid_tasks(ENHANCE_SCHEMA, {("model",): _served("promptEnhance")})


def search_tasks() -> st.SearchStrategy[dict[str, Any]]:
    return valid_tasks(SEARCH_SCHEMA)


def invalid_text_tasks() -> st.SearchStrategy[InvalidCase]:
    special = {**_model_violations("textInference"), ("messages",): _message_violations()}
    return invalid_tasks(TEXT_SCHEMA, text_tasks(), special)


def invalid_enhance_tasks() -> st.SearchStrategy[InvalidCase]:
    return invalid_tasks(ENHANCE_SCHEMA, enhance_tasks(), _model_violations("promptEnhance"))


def invalid_search_tasks() -> st.SearchStrategy[InvalidCase]:
    return invalid_tasks(SEARCH_SCHEMA, search_tasks())


# --- hand-written: the catalog's models and the conversation ----------------------------------

def _served(task_type: str) -> st.SearchStrategy[str]:
    return st.sampled_from(model_catalog.airs(task_type))


def _model_violations(task_type: str) -> Special:
    """A model the catalog does not serve for the task type (the schema takes any string)."""
    served = list(model_catalog.airs(task_type))
    others = st.one_of(st.sampled_from(["runware:101@1", "openai:gpt@4"]),
                       st.text(min_size=1, max_size=24)).filter(lambda model: model not in served)
    return {("model",): [others.map(
        lambda model: Violation(("model",), model, "invalidModel", served))]}


@st.composite
def _conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    """1-6 messages ending with the user's (the schema allows 100; short keeps them fast); an
    assistant turn may be tool calls without content."""
    earlier = draw(st.lists(st.one_of(
        st.tuples(st.sampled_from(["user", "assistant"]), strings_within(1, 200)).map(
            lambda pair: {"role": pair[0], "content": pair[1]}),
        _tool_calls()), max_size=5))
    return [*earlier, {"role": "user", "content": draw(strings_within(1, 200))}]


def _tool_calls() -> st.SearchStrategy[dict[str, Any]]:
    call = st.fixed_dictionaries({"id": strings_within(1, 20), "name": strings_within(1, 20),
                                  "input": st.dictionaries(st.text(max_size=8),
                                                           st.integers(), max_size=2)})
    return st.lists(call, min_size=1, max_size=2).map(
        lambda calls: {"role": "assistant", "tools": calls})


def _message_violations() -> list[st.SearchStrategy[Violation]]:
    """Absent, not a non-empty array, or not ending with the user's message."""
    path: Path = ("messages",)
    last_not_user = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yes"}]
    return [
        st.just(Violation(path, MISSING, "missingParameter")),
        st.sampled_from([[], "hello", 3, {"role": "user"}, last_not_user]).map(
            lambda value: Violation(path, value, "invalidMessages")),
        # Only an assistant turn that called tools may leave out its content.
        st.sampled_from([[{"role": "user"}],
                         [{"role": "assistant"}, {"role": "user", "content": "hi"}]]).map(
            lambda value: Violation(path, value, "missingParameter",
                                    reported="messages.0.content")),
    ]
