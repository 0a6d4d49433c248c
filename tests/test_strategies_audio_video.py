"""The strategies of ``runware_mock.contract.strategies_audio_video`` against a real emulator:
valid audio tasks answered with sound of the promised length (decoded), valid video tasks
acknowledged and measured at the promised length (the latency is an hour: nothing renders; the
size is the family's plan), invalid tasks of both answered with exactly the promised error."""

# The emulator fixtures are tests/strategy_server.py's, imported by name: their parameters
# "redefine" them (F811), as pytest intends.
# ruff: noqa: F811

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runware_mock.admin.client import AdminClient
from runware_mock.contract import model_catalog
from runware_mock.contract import strategies_audio_video as avs
from runware_mock.contract.harness import Emulator
from runware_mock.contract.strategies import InvalidCase
from runware_mock.handling.video_plans import Plan, plan
from tests.helpers import RestClient, decode_audio, length_tolerance
from tests.strategy_server import (  # noqa: F401 (fixtures)
    admin,
    emulator,
    emulator_process,
    rest,
)

EXAMPLES = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def instant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """For sync audio, whose reply waits for the sound."""
    yield from emulator_process(tmp_path_factory, "strategies-av-instant", "instant")


def audio_bytes(item: dict[str, Any]) -> bytes:
    if "audioURL" in item:
        return httpx.get(item["audioURL"], timeout=30).content
    data = item.get("audioBase64Data") or item["audioDataURI"].partition(",")[2]
    return base64.b64decode(data)


def test_valid_audio_tasks_sound_as_long_as_promised(instant: Emulator, tmp_path: Path) -> None:
    client = RestClient(instant.url)

    @settings(EXAMPLES, max_examples=25)
    @given(avs.audio_tasks(longest=4.0))
    def answered(expected: avs.Expected) -> None:
        reply = client.post([expected.task])
        assert reply.status_code == 200, reply.text
        (item,) = reply.json()["data"]
        path = tmp_path / "sound"
        path.write_bytes(audio_bytes(item))
        decoded = decode_audio(path)
        assert decoded["errors"] == 0
        assert decoded["seconds"] == pytest.approx(expected.seconds,
                                                   abs=length_tolerance(decoded))

    answered()


def test_valid_video_tasks_are_acknowledged_and_planned_as_promised(
        rest: RestClient, admin: AdminClient) -> None:
    @EXAMPLES
    @given(avs.video_tasks())
    def acknowledged(expected: avs.Expected) -> None:
        task = expected.task
        reply = rest.post([task])
        assert reply.json() == {"data": [{"taskType": "videoInference",
                                          "taskUUID": task["taskUUID"]}]}, reply.text
        assert admin.task(task["taskUUID"])["audioSeconds"] == expected.seconds
        assert expected.size is not None
        assert plan(task, model_catalog.model(task["model"]).family) == Plan(
            *expected.size, expected.seconds)

    acknowledged()


@pytest.mark.parametrize("invalid_tasks", [avs.invalid_audio_tasks, avs.invalid_video_tasks],
                         ids=["audio", "video"])
def test_invalid_tasks_get_exactly_the_promised_error(
        rest: RestClient, invalid_tasks: Callable[[], st.SearchStrategy[InvalidCase]]) -> None:
    @EXAMPLES
    @given(invalid_tasks())
    def rejected(case: InvalidCase) -> None:
        reply = rest.post([case.task])
        assert reply.status_code == 400, reply.text
        (problem,) = reply.json()["errors"]
        assert (problem["code"], problem["parameter"]) == (case.code, case.parameter), problem
        assert problem.get("taskUUID") == case.task_uuid
        if case.allowed_values is not None:
            assert problem["allowedValues"] == case.allowed_values

    rejected()
