"""The contract's Hypothesis strategies in process, against the contract's own validation
(contract/validation.py, the rules of docs/errors.md): every valid task a strategy draws passes
its schema as it is, and an invalid case the schema catches gets exactly the one error the case
promises (cases of a rule no schema can say, a model's own limits, are answered by the task
type and checked over a real server in tests/test_strategies*.py). Few examples each: the
server tests draw hundreds."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runware_mock.contract import strategies as rs
from runware_mock.contract import strategies_audio_video as avs
from runware_mock.contract import strategies_images as ims
from runware_mock.contract import strategies_text as ts
from runware_mock.contract.validation import check_task

EXAMPLES = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

VALID: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "avatar": rs.avatar_tasks(),
    "image": ims.image_tasks(),
    "upscale": ims.upscale_tasks().map(lambda drawn: drawn[0]),
    "audio": avs.audio_tasks().map(lambda expected: expected.task),
    "video": avs.video_tasks().map(lambda expected: expected.task),
    "text": ts.text_tasks(),
    "enhance": ts.enhance_tasks(),
    "search": ts.search_tasks(),
}
INVALID: dict[str, st.SearchStrategy[rs.InvalidCase]] = {
    "avatar": rs.invalid_avatar_tasks(),
    "image": ims.invalid_image_tasks(),
    "upscale": ims.invalid_upscale_tasks(),
    "audio": avs.invalid_audio_tasks(),
    "video": avs.invalid_video_tasks(),
    "text": ts.invalid_text_tasks(),
    "enhance": ts.invalid_enhance_tasks(),
    "search": ts.invalid_search_tasks(),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_a_valid_task_passes_its_schema(name: str) -> None:
    @EXAMPLES
    @given(VALID[name])
    def passes(task: dict[str, Any]) -> None:
        assert check_task(task).errors == [], task

    passes()


@pytest.mark.parametrize("name", sorted(INVALID))
def test_an_invalid_case_the_schema_catches_gets_the_promised_error(name: str) -> None:
    caught: list[bool] = []

    @EXAMPLES
    @given(INVALID[name])
    def promised(case: rs.InvalidCase) -> None:
        errors = check_task(case.task).errors
        caught.append(bool(errors))
        if errors:
            assert len(errors) == 1, errors
            (found,) = errors
            assert (found.code, found.parameter) == (case.code, case.parameter), (case, found)

    promised()
    assert any(caught), "the schema catches some of these cases"
