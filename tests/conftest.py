from __future__ import annotations

import dataclasses
import functools
import http.server
import shutil
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx._transports.default
import pytest

from runware_mock.fixtures import media_dir
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import RestClient
from tests.image_tools import ToolClient
from tests.no_silent_skips import pytest_configure, pytest_runtest_makereport  # noqa: F401
from tests.sdks import RUNWARE_05, RUNWARE_SDK, node_sdk_env, python_sdk_env
from tests.supervised import SupervisedServer

ServerFactory = Callable[..., ServerThread]

# Each httpx client made here (a RestClient per test, every one-off httpx.get) loaded the CA
# bundle again: 40 ms of CPU apiece, minutes over the suite. One context per set of arguments,
# made once, serves them all alike (a client never changes the context it is given).
httpx._transports.default.create_ssl_context = functools.cache(  # type: ignore[assignment]
    httpx._transports.default.create_ssl_context)


# The longest files first (a minute or more each, measured; most take seconds): with a test
# process per core (dev.py test), a long file handed out last would run alone at the end.
LONGEST_FIRST = ("test_container.py", "test_dist.py", "test_strategies.py", "test_fuzz.py",
                 "test_faults.py", "test_schema_strategies.py", "test_plugin.py",
                 "test_lazy_files.py", "test_proxy.py", "test_hostile.py", "test_durable.py",
                 "test_delivery.py", "test_sdks.py", "test_data_dir.py", "test_quickstart.py",
                 "test_media.py", "test_websocket.py", "test_rest.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file's tests keep their order


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``workers`` runs twice: on one emulator in this process, and on
    ``runware-mock serve --workers 2``."""
    if "workers" in metafunc.fixturenames and metafunc.definition.get_closest_marker("workers"):
        metafunc.parametrize("workers", [1, 2], indirect=True, ids=["1worker", "2workers"])


@pytest.fixture
def workers(request: pytest.FixtureRequest) -> int:
    count = int(getattr(request, "param", 1))
    if count > 1 and request.node.get_closest_marker("one_process"):
        pytest.skip("reaches into the server's services, which several workers keep in "
                    "another process")
    return count


@pytest.fixture
def server_factory(tmp_path: Path, workers: int) -> Iterator[ServerFactory]:
    """Start emulators with setting overrides; each gets its own data dir and free port. A
    test marked ``workers`` also gets them as ``serve --workers 2`` (tests/supervised.py)."""
    started: list[Any] = []

    def start(**overrides: Any) -> ServerThread:
        settings = dataclasses.replace(
            Settings(latency="instant", data_dir=tmp_path / f"data{len(started)}"), **overrides)
        server: Any = (ServerThread(settings) if workers == 1
                       else SupervisedServer(settings, workers))
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(server_factory: ServerFactory) -> ServerThread:
    return server_factory()


@pytest.fixture
def client(server: ServerThread) -> RestClient:
    return RestClient(server.url)


@pytest.fixture(scope="module")
def tool_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolClient]:
    """One emulator for a whole test file (the image tools' real-server tests): their tasks
    are small and independent, and a server per test would cost more than they do."""
    settings = Settings(latency="instant", data_dir=tmp_path_factory.mktemp("image-tools"))
    with ServerThread(settings) as server:
        yield ToolClient(server.url)


@pytest.fixture(scope="session")
def file_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving the fixture media, for URL inputs."""
    handler = functools.partial(QuietHandler, directory=str(media_dir()))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- the official SDKs, installed once per session (tests/sdks.py) -----------------------------

@pytest.fixture(scope="session")
def runware_sdk_python() -> Path:
    return python_sdk_env(RUNWARE_SDK)


@pytest.fixture(scope="session")
def runware_05_python() -> Path:
    return python_sdk_env(RUNWARE_05)


@pytest.fixture(scope="session")
def sdk_js() -> tuple[str, Path]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are not installed: the @runware/sdk-js test cannot run"
        warnings.warn(reason, stacklevel=1)
        pytest.skip(reason)
    return node, node_sdk_env(node, npm)
