"""The pytest plugin of runware-mock, active wherever the package is installed (entry point
``pytest11: runware_mock``).

Fixtures:

- ``runware_mock``: an emulator on a free port of 127.0.0.1, reset before the test; a
  ``@pytest.mark.runware_mock(latency="fixed:5", seed=7)`` marker (on a test, class or module)
  gives the test an emulator with those settings. Emulators are started once per distinct
  settings and kept for the session.
- ``runware_mock_session``: the session's emulator with the default settings, never reset
  (for Hypothesis tests and session-scoped fixtures).
- ``runware_admin``: the ``AdminClient`` of ``runware_mock``.
- ``webhook_receiver`` / ``upload_receiver``: ``runware_mock.contract.receivers.Receiver``s,
  real HTTP servers on 127.0.0.1 that record every request.
- ``media_host``: serves ``runware_mock.contract.samples`` media, for inputs given as URLs.

Settings, later ones winning: defaults, ini ``runware_mock_latency`` / ``runware_mock_seed`` /
``runware_mock_settings`` (lines of ``name = value``), the matching command-line options, the
marker. Any setting of ``runware-mock serve`` passes through by name.

Each emulator runs ``ephemeral`` (a temporary data dir, removed when it stops) unless
``--runware-mock-data-dir DIR`` (ini ``runware_mock_data_dir``) keeps their data under DIR, one
folder per emulator, or a ``data_dir`` setting names one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from runware_mock.admin.client import AdminClient
    from runware_mock.contract.harness import Emulator
    from runware_mock.contract.receivers import MediaHost, Receiver

DEFAULT_API_KEY = "runware-mock-test-key"
MARKER = "runware_mock"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("runware-mock", "Runware emulator (runware-mock)")
    group.addoption("--runware-mock-mode", choices=("thread", "subprocess"), default=None,
                    help="run the emulator in this process or as `python -m runware_mock serve` "
                    "(ini: runware_mock_mode; default thread)")
    group.addoption("--runware-mock-latency", default=None,
                    help="latency profile of the emulator, e.g. instant, fixed:2 "
                    "(ini: runware_mock_latency)")
    group.addoption("--runware-mock-seed", default=None,
                    help="seed of the emulator (ini: runware_mock_seed)")
    group.addoption("--runware-mock-set", action="append", default=[], metavar="NAME=VALUE",
                    help="any other emulator setting, e.g. time_scale=0.1 (repeatable)")
    group.addoption("--runware-mock-data-dir", default=None, metavar="DIR",
                    help="keep each emulator's data in a folder under DIR (emulator-0, ...), "
                    "left there after the run (ini: runware_mock_data_dir, relative to the ini "
                    "file); default: a temporary data dir per emulator, removed when it stops")
    parser.addini("runware_mock_mode", "thread or subprocess", default="thread")
    parser.addini("runware_mock_latency", "latency profile of the emulator", default="")
    parser.addini("runware_mock_seed", "seed of the emulator", default="")
    parser.addini("runware_mock_settings", "emulator settings, one `name = value` a line",
                  type="linelist", default=[])
    parser.addini("runware_mock_api_key", "the API key the emulator accepts",
                  default=DEFAULT_API_KEY)
    parser.addini("runware_mock_data_dir", "keep the emulators' data under this folder",
                  type="paths", default=[])
    group.addoption("--runware-url", default=None,
                    help="runware_mock.contract.suite: the Runware API to check (e.g. "
                    "https://api.runware.ai/v1); without it the suite starts an emulator")
    group.addoption("--runware-api-key", default=None,
                    help="the contract suite: API key for --runware-url (env RUNWARE_API_KEY)")
    group.addoption("--runware-allow-spend", action="store_true", default=False,
                    help="the contract suite: also send tasks that cost money at --runware-url")
    group.addoption("--runware-examples", type=int, default=None,
                    help="the contract suite: Hypothesis examples per property (default 50, "
                    "10 against --runware-url)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(**settings): run the test against an emulator with these "
        "settings (latency, seed, faults, time_scale: any `runware-mock serve` setting)")
    session_settings(config)  # a malformed NAME=VALUE is a usage error before any test runs


def session_settings(config: pytest.Config) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for line in config.getini("runware_mock_settings"):
        values.update([_name_value(line)])
    for name in ("latency", "seed"):
        given = config.getoption(f"runware_mock_{name}") or config.getini(f"runware_mock_{name}")
        if given:
            values[name] = given
    for item in config.getoption("runware_mock_set"):
        values.update([_name_value(item)])
    return values


def _name_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise pytest.UsageError(f"runware-mock setting {text!r}: expected NAME=VALUE")
    return name.strip().replace("-", "_"), value.strip()


def marker_settings(node: pytest.Item) -> dict[str, Any]:
    """The runware_mock markers from module to function, the closest one winning."""
    values: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers(MARKER))):
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only")
        values.update(marker.kwargs)
    return values


class EmulatorPool:
    """One emulator per distinct settings, started on first use, stopped at the end."""

    def __init__(self, mode: str, data_root: Path | None, api_key: str) -> None:
        self._mode = mode
        self._data_root = data_root
        self._api_key = api_key
        self._started: dict[str, Emulator] = {}
        self._lock = threading.Lock()

    def get(self, values: dict[str, Any]) -> Emulator:
        from runware_mock.contract.harness import start_emulator

        key = json.dumps(sorted(values.items()), default=str)
        with self._lock:
            if key not in self._started:
                data_dir = (None if self._data_root is None
                            else self._data_root / f"emulator-{len(self._started)}")
                try:
                    self._started[key] = start_emulator(self._mode, values, data_dir,
                                                        self._api_key)
                except ValueError as exc:
                    raise pytest.UsageError(f"runware-mock settings {values}: {exc}") from exc
            return self._started[key]

    def close(self) -> None:
        for emulator in self._started.values():
            emulator.stop()
        self._started.clear()


def data_root(config: pytest.Config) -> Path | None:
    given = config.getoption("runware_mock_data_dir")
    if given:
        return Path(config.invocation_params.dir, given)
    from_ini: list[Path] = config.getini("runware_mock_data_dir")
    return from_ini[0] if from_ini else None


@pytest.fixture(scope="session")
def runware_mock_pool(pytestconfig: pytest.Config) -> Iterator[EmulatorPool]:
    mode = pytestconfig.getoption("runware_mock_mode") or pytestconfig.getini("runware_mock_mode")
    pool = EmulatorPool(mode, data_root(pytestconfig), pytestconfig.getini("runware_mock_api_key"))
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def runware_mock_session(runware_mock_pool: EmulatorPool,
                         pytestconfig: pytest.Config) -> Emulator:
    return runware_mock_pool.get(session_settings(pytestconfig))


@pytest.fixture
def runware_mock(request: pytest.FixtureRequest, runware_mock_pool: EmulatorPool) -> Emulator:
    values = {**session_settings(request.config), **marker_settings(request.node)}
    emulator = runware_mock_pool.get(values)
    emulator.admin.reset()
    return emulator


@pytest.fixture
def runware_admin(runware_mock: Emulator) -> AdminClient:
    return runware_mock.admin


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    from runware_mock.contract.receivers import Receiver

    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def upload_receiver() -> Iterator[Receiver]:
    from runware_mock.contract.receivers import Receiver

    with Receiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def media_host() -> Iterator[MediaHost]:
    from runware_mock.contract.receivers import MediaHost

    with MediaHost() as host:
        yield host
