"""The text task types' Hypothesis strategies (runware_mock.contract.strategies_text) against a
real emulator: valid tasks are answered with their items, invalid ones with exactly the
promised error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from runware_mock.contract import conformance
from runware_mock.contract import strategies_text as ts
from runware_mock.contract.harness import Emulator, start_emulator
from runware_mock.contract.strategies import InvalidCase
from tests.helpers import RestClient

EXAMPLES = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def rest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestClient]:
    """A subprocess: Hypothesis and the emulator then run on two cores, not one GIL."""
    data: Path = tmp_path_factory.mktemp("text-strategies")
    server: Emulator = start_emulator("subprocess", {"latency": "instant"}, data, "test-key")
    yield RestClient(server.url)
    server.stop()


VALID = {"textInference": ts.text_tasks(), "promptEnhance": ts.enhance_tasks(),
         "modelSearch": ts.search_tasks()}
INVALID = {"textInference": ts.invalid_text_tasks(),
           "promptEnhance": ts.invalid_enhance_tasks(),
           "modelSearch": ts.invalid_search_tasks()}


@pytest.mark.parametrize("task_type", sorted(VALID))
def test_valid_tasks_are_answered(rest: RestClient, task_type: str) -> None:
    @EXAMPLES
    @given(VALID[task_type])
    def answered(task: dict[str, Any]) -> None:
        reply = rest.post([task])
        assert reply.status_code == 200, reply.text
        items = reply.json()["data"]
        assert items and all(item["taskUUID"] == task["taskUUID"] for item in items)
        assert all(item["taskType"] == task_type for item in items)

    answered()


@pytest.mark.parametrize("task_type", sorted(INVALID))
def test_invalid_tasks_get_exactly_the_promised_error(rest: RestClient, task_type: str) -> None:
    @EXAMPLES
    @given(INVALID[task_type])
    def rejected(case: InvalidCase) -> None:
        reply = rest.post([case.task])
        problems = conformance.check_rejection(reply.json(), reply.status_code, case.task,
                                               case.code, case.parameter, case.allowed_values)
        assert not problems, conformance.describe(problems)

    rejected()

