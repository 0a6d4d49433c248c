"""The fast compiled validator and the Draft 2020-12 reference agree on every schema."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runware_mock.contract import schemas
from tests.helpers import avatar_task

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 5000), st.floats(allow_nan=False, width=32),
    st.sampled_from(["", "MP4", "WEBM", "async", "URL", "none", "fast",
                     "https://example.test/x", "ftp://x", "b38a0d45-2cb9-45e7-8340-8ab8de6aec1d",
                     "klingai:avatar@2.0-pro", "x" * 2501]),
    st.text(max_size=20),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def field_names(name: str) -> list[str]:
    return [*schemas.inlined(name).get("properties", {}), "width", "extra"]


@st.composite
def mutated(draw: st.DrawFn, name: str, base: dict[str, Any]) -> dict[str, Any]:
    task = dict(base)
    for field in draw(st.lists(st.sampled_from(field_names(name)), max_size=3)):
        if draw(st.booleans()):
            task.pop(field, None)
        else:
            task[field] = draw(json_values)
    return task


BASES = {
    "request.videoInference.klingai-avatar-2.0": avatar_task(),
    "request.getResponse": {"taskType": "getResponse",
                            "taskUUID": "b38a0d45-2cb9-45e7-8340-8ab8de6aec1d"},
    "request.mediaStorage": {"taskType": "mediaStorage", "operation": "upload", "media": "x",
                             "taskUUID": "b38a0d45-2cb9-45e7-8340-8ab8de6aec1d"},
    "request.imageUpload": {"taskType": "imageUpload", "image": "x",
                            "taskUUID": "b38a0d45-2cb9-45e7-8340-8ab8de6aec1d"},
    "request.ping": {"taskType": "ping", "ping": True},
    "request.authentication": {"taskType": "authentication", "apiKey": "k"},
}


@pytest.mark.parametrize("name", sorted(BASES))
def test_fast_and_reference_validators_agree(name: str) -> None:
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutated(name, BASES[name]))
    def agree(task: dict[str, Any]) -> None:
        assert schemas.is_valid(name, task) == schemas.validator(name).is_valid(task), task

    agree()
