"""The endpoint under test: the given ``--runware-url``, or an emulator the plugin starts."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings

from runware_mock.contract.harness import Emulator
from runware_mock.contract.plugin import session_settings

LOCAL_EXAMPLES, REMOTE_EXAMPLES = 50, 10


@dataclass
class Target:
    url: str
    api_key: str
    http: httpx.Client
    examples: int
    emulator: Emulator | None
    allow_spend: bool

    @property
    def remote(self) -> bool:
        return self.emulator is None

    def post(self, tasks: list[Any], api_key: str | None = None) -> httpx.Response:
        """POST with the target's key (``api_key=""``: no Authorization header)."""
        key = self.api_key if api_key is None else api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.http.post(self.url, json=tasks, headers=headers)

    def post_raw(self, content: bytes) -> httpx.Response:
        return self.http.post(self.url, content=content,
                              headers={"Authorization": f"Bearer {self.api_key}",
                                       "Content-Type": "application/json"})

    def properties(self, examples: int | None = None) -> Callable[[Any], Any]:
        """Hypothesis settings for one property of the suite. No "explain" phase: it traces
        coverage, slow and of no use to a reader of the drift report."""
        return settings(max_examples=examples or self.examples, deadline=None, database=None,
                        phases=[Phase.explicit, Phase.generate, Phase.shrink],
                        suppress_health_check=[HealthCheck.too_slow,
                                               HealthCheck.data_too_large])


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Iterator[Target]:
    url = pytestconfig.getoption("runware_url")
    examples = pytestconfig.getoption("runware_examples")
    emulator = None
    if url:
        api_key = pytestconfig.getoption("runware_api_key") or os.environ.get("RUNWARE_API_KEY")
        if not api_key:
            raise pytest.UsageError("--runware-url needs --runware-api-key (or RUNWARE_API_KEY)")
    else:
        # An hour of latency: acknowledged tasks never render in the background and hold up
        # the ones a test finishes at once with the admin API.
        pool = request.getfixturevalue("runware_mock_pool")
        emulator = pool.get({**session_settings(pytestconfig), "latency": "fixed:3600"})
        url, api_key = emulator.url, emulator.api_key
    with httpx.Client(timeout=120) as http:
        yield Target(url, api_key, http,
                     examples or (LOCAL_EXAMPLES if emulator else REMOTE_EXAMPLES), emulator,
                     pytestconfig.getoption("runware_allow_spend"))


@pytest.fixture
def spend(target: Target) -> None:
    """Skip a test whose tasks cost money at a real URL unless the user opted in."""
    if target.remote and not target.allow_spend:
        pytest.skip("sends tasks that cost money at --runware-url: pass --runware-allow-spend")


@pytest.fixture
def emulator(target: Target) -> Emulator:
    """Tests that need the admin API or a local receiver run against the emulator only."""
    if target.emulator is None:
        pytest.skip("needs the emulator's admin API or a receiver it can reach")
    return target.emulator
