"""Issue 7: the pytest plugin and the contract suite as a user gets them.

The wheel is built offline (``pip wheel --no-deps``) from a copy of the sources and installed
into a fresh virtualenv, cached in ``.wheel-venv/`` under a hash of the sources. The example
client project and the contract suite then run there, in subprocesses, with the emulator
imported from the wheel. The runtime dependencies come from this interpreter's site-packages
through a ``.pth`` file, so nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import uuid
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.contract.receivers import LocalServer
from runware_mock.fixtures import seed_examples
from runware_mock.runner import ServerThread, free_port
from runware_mock.settings import Settings
from tests.helpers import RestClient, decode

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".wheel-venv"
PACKAGES = ("runware_mock", "fixtures")  # folders of the sources the wheel is built from
EXAMPLE = ROOT / "examples" / "avatar-client"


# --- the wheel in a fresh virtualenv --------------------------------------------------------

def sources_digest() -> str:
    digest = hashlib.sha256(sys.version.encode())
    files = [ROOT / "pyproject.toml", ROOT / "README.md"]
    files += sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*")
                    if path.is_file() and "__pycache__" not in path.parts)
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=timeout, check=False)


def checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.args, result.stdout[-4000:], result.stderr[-4000:])
    return result


def build_wheel(workdir: Path) -> Path:
    """From a copy of the sources, so the build leaves nothing in the working tree."""
    source = workdir / "source"
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    checked(run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "--no-index", "--quiet", "--wheel-dir", str(workdir / "dist"), str(source)],
                workdir))
    [wheel] = (workdir / "dist").glob("runware_mock-*.whl")
    return wheel


def install_fresh(wheel: Path, target: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    python = target / "bin" / "python"
    checked(run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                 str(wheel)], target))
    site = checked(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                        "['purelib'])"], target)).stdout.strip()
    here = sysconfig.get_paths()
    dependencies = dict.fromkeys([here["purelib"], here["platlib"]])
    (Path(site) / "runware_mock_test_dependencies.pth").write_text("\n".join(dependencies))
    return python


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a virtualenv holding the wheel (built and installed once per sources)."""
    digest = sources_digest()
    home, stamp = CACHE / digest, CACHE / digest / ".installed"
    if not stamp.exists():
        shutil.rmtree(CACHE, ignore_errors=True)
        wheel = build_wheel(tmp_path_factory.mktemp("wheel"))
        install_fresh(wheel, home)
        stamp.write_text(wheel.name)
    return home / "bin" / "python"


def test_the_wheel_is_what_the_fresh_virtualenv_imports(fresh_python: Path,
                                                        tmp_path: Path) -> None:
    probe = ("import runware_mock.contract.plugin, runware_mock.fixtures, importlib.metadata as m,"
             "json; print(json.dumps([runware_mock.contract.plugin.__file__, runware_mock.__file__,"
             " str(runware_mock.fixtures.media_dir()), [e.value for e in m.entry_points("
             "group='pytest11') "
             "if e.name == 'runware_mock']]))")
    files = json.loads(checked(run([str(fresh_python), "-c", probe], tmp_path)).stdout)
    home = str(fresh_python.parent.parent)
    assert all(path.startswith(home) for path in files[:3]), files
    assert files[3] == ["runware_mock.contract.plugin"]
    assert len(list(Path(files[2]).glob("*.mp3"))) == 4, "fixture media missing from the wheel"


def test_the_wheel_installs_beside_pypis_fixtures_and_serves_the_seed(fresh_python: Path,
                                                                       tmp_path: Path) -> None:
    """The wheel's one import name leaves PyPI's ``fixtures`` alone, and the installed
    emulator serves the seed example from the media it ships."""
    checked(run([str(fresh_python), "-m", "pip", "install", "--quiet", "--no-deps",
                 "--disable-pip-version-check", "fixtures>=4"], tmp_path))
    probe = ("import fixtures, runware_mock.fixtures, json; print(json.dumps(["
             "fixtures.__file__, fixtures.Fixture.__module__, runware_mock.fixtures.__file__]))")
    testing_library, fixture_module, shipped = json.loads(
        checked(run([str(fresh_python), "-c", probe], tmp_path)).stdout)
    home = fresh_python.parent.parent
    assert testing_library.startswith(str(home)) and fixture_module.startswith("fixtures.")
    assert Path(testing_library).parent.name == "fixtures"
    assert Path(shipped).parent.parent.name == "runware_mock"

    port = free_port()
    server = subprocess.Popen([str(home / "bin" / "runware-mock"), "serve", "--port", str(port),
                               "--latency", "instant", "--data-dir", str(tmp_path / "data")],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        client = RestClient(f"http://127.0.0.1:{port}/v1")
        wait_until_serving(client)
        example = seed_examples()[0]["request"]
        body = client.run({**example, "taskUUID": str(uuid.uuid4())})
        [video] = body["data"]
        downloaded = tmp_path / "seed.mp4"
        downloaded.write_bytes(httpx.get(video["videoURL"]).content)
        assert abs(decode(downloaded)["audio_seconds"] - 12.266) <= 1 / 25
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_until_serving(client: RestClient, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.post([{"taskType": "ping", "ping": True}]).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the installed emulator never answered"
        time.sleep(0.1)


def test_the_example_project_passes_in_a_fresh_virtualenv(fresh_python: Path,
                                                          tmp_path: Path) -> None:
    project = tmp_path / "avatar-client"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    result = checked(run([str(fresh_python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--runware-mock-mode=subprocess"], project))
    assert "7 passed" in result.stdout, result.stdout


def test_the_contract_suite_passes_from_the_wheel(fresh_python: Path, tmp_path: Path) -> None:
    result = checked(run([str(fresh_python), "-m", "pytest", "--pyargs",
                          "runware_mock.contract.suite", "-q", "-p", "no:cacheprovider"], tmp_path))
    assert "13 passed" in result.stdout, result.stdout


# --- the suite reports drift ----------------------------------------------------------------

class DriftingProxy(LocalServer):
    """Forwards to an emulator and changes two things in its answers, as a drifted service."""

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self._upstream = upstream

    def answer(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, str, bytes]:
        forwarded = {name: value for name, value in headers.items()
                     if name in ("authorization", "content-type")}
        reply = httpx.request(method, self._upstream, content=body, headers=forwarded)
        return reply.status_code, "application/json", json.dumps(drifted(reply.json())).encode()


def drifted(body: dict[str, Any]) -> dict[str, Any]:
    for item in body.get("data", []):
        if item.get("taskType") == "ping":
            item["pong"] = "yes"
    for error in body.get("errors", []):
        if error.get("parameter") not in (None, "apiKey", "taskUUID"):
            error["code"] = "badParameter"
    return body


@pytest.fixture
def drifting_service(tmp_path: Path) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path / "data", latency="fixed:3600", api_keys=("any-key",))
    with ServerThread(settings) as upstream, \
            DriftingProxy(upstream.url) as proxy:
        yield f"{proxy.base_url}/v1"


def test_the_suite_reports_drift_of_a_real_url(drifting_service: str, tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "pytest", "--pyargs", "runware_mock.contract.suite", "-q",
                  "-p", "no:cacheprovider", "--runware-url", drifting_service,
                  "--runware-api-key", "any-key", "--runware-examples", "5"], tmp_path)
    output = result.stdout
    assert result.returncode == 1, output[-3000:]
    assert "contract drift" in output
    failed = sorted(line.split("::")[1].split(" ")[0] for line in output.splitlines()
                    if line.startswith("FAILED"))
    assert failed == ["test_authentication_in_the_body",  # its reply holds a pong too
                      "test_invalid_tasks_get_the_catalog_error",
                      "test_ping_is_answered_with_pong"], output[-3000:]
    assert "4 passed" in output and "skipped" in output, output[-1000:]


# --- fixtures, markers and options ----------------------------------------------------------

PLUGIN_TESTS = '''
import httpx
import pytest

from runware_mock.contract import strategies as rs

SEED = rs.seed_examples()[0]["request"]
TASK_UUID = "6f1c0e2a-8d4b-4c1e-9a7f-3b2d5e6f7a8b"
SEEDS = []


def submit(emulator):
    assert emulator.post([{**SEED, "taskUUID": TASK_UUID}]).status_code == 200


@pytest.mark.runware_mock(latency="fixed:5")
def test_a_marker_sets_the_latency(runware_mock, runware_admin):
    submit(runware_mock)
    runware_admin.advance(4)
    assert runware_admin.task(TASK_UUID)["state"] == "processing"
    runware_admin.advance(2)
    runware_admin.wait_for_deliveries(TASK_UUID)  # returns once the task has finished
    assert runware_admin.task(TASK_UUID)["state"] == "success"


def test_the_ini_latency_applies_without_a_marker(runware_mock, runware_admin):
    submit(runware_mock)
    runware_admin.advance(6.5)
    assert runware_admin.task(TASK_UUID)["state"] == "processing"


@pytest.mark.parametrize("seed", [1, 2, 1])
def test_a_marker_sets_the_seed(request, seed, runware_mock_pool):
    request.applymarker(pytest.mark.runware_mock(seed=seed))
    emulator = request.getfixturevalue("runware_mock")
    submit(emulator)
    SEEDS.append(emulator.admin.task(TASK_UUID)["generations"][0]["seed"])


def test_the_same_seed_gives_the_same_results():
    assert SEEDS[0] == SEEDS[2] != SEEDS[1]


def test_receivers_record_and_answer(webhook_receiver, upload_receiver, media_host):
    httpx.post(webhook_receiver.url, json={"data": []})
    assert webhook_receiver.wait_for(1)[0].json() == {"data": []}
    upload_receiver.respond_with(503)
    assert httpx.put(upload_receiver.url, content=b"video").status_code == 503
    assert httpx.put(upload_receiver.url, content=b"video").status_code == 200
    assert [r.body for r in upload_receiver.requests] == [b"video", b"video"]
    portrait = httpx.get(media_host.url_for("seed-portrait.jpg"))
    assert portrait.headers["content-type"] == "image/jpeg"
    assert httpx.get(media_host.missing_url()).status_code == 404


@pytest.mark.runware_mock(no_such_setting=1)
def test_an_unknown_setting(runware_mock):
    pass
'''


def test_fixtures_markers_and_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrunware_mock_latency = fixed:7\n")
    pytester.makepyfile(PLUGIN_TESTS)
    # In a process of its own: an in-process run drops the modules it first imported (uvicorn's
    # HTTP protocol among them) when it ends, and httptools imported again raises exceptions
    # that the parser's compiled code no longer knows, so a later in-process server in this
    # test process could not take a WebSocket upgrade.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=7, errors=1)
    result.stdout.fnmatch_lines(["*unknown setting 'no_such_setting'*"])


def test_a_bad_command_line_setting_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(runware_mock):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--runware-mock-set", "latency")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*expected NAME=VALUE*"])
