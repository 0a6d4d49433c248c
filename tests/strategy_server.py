"""The emulator the strategy tests send their examples to, as module-scoped fixtures a test
module imports by name: a subprocess (Hypothesis and the emulator then run on two cores, not
one GIL) whose latency is an hour, so nothing renders: validation answers on submit, media
checks run before the latency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runware_mock.admin.client import AdminClient
from runware_mock.contract.harness import Emulator, start_emulator
from tests.helpers import RestClient


def emulator_process(tmp_path_factory: pytest.TempPathFactory, folder: str,
                     latency: str) -> Iterator[Emulator]:
    """A subprocess: Hypothesis and the emulator then run on two cores, not one GIL."""
    data: Path = tmp_path_factory.mktemp(folder)
    server = start_emulator("subprocess", {"latency": latency}, data, "test-key")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from emulator_process(tmp_path_factory, "strategies", "fixed:3600")


@pytest.fixture(scope="module")
def rest(emulator: Emulator) -> RestClient:
    return RestClient(emulator.url)


@pytest.fixture(scope="module")
def admin(emulator: Emulator) -> Iterator[AdminClient]:
    with AdminClient(emulator.base_url) as client:
        yield client
