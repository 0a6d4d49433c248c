"""What a new user meets in their first hour: a mistyped port, a port in use, the banner's next
command, a mistyped model for `run`, the dashboard's timeline, failed bars and icon, and the
words that describe the project (issue 25).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runware_mock import cli
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import RestClient, avatar_task

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(sys.executable).parent
# A PATH without this environment's scripts: `runware-mock` is not a command there, as after
# `python3 dev.py serve` (whose .venv nobody activated).
BARE_PATH = os.pathsep.join(folder for folder in ("/usr/local/bin", "/usr/bin", "/bin")
                            if Path(folder).is_dir() and folder != str(SCRIPTS))


def bare_environment(state: Path) -> dict[str, str]:
    """A shell's environment without this environment's scripts on PATH, whose default data
    dirs go under ``state`` (the XDG state dir)."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("RUNWARE_MOCK_", "PYTEST_")) and name != "VIRTUAL_ENV"}
    environment.update(PATH=BARE_PATH, XDG_STATE_HOME=str(state))
    return environment


# --- serve: a start that fails --------------------------------------------------------------

@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_a_port_out_of_range_is_one_line_exit_2_and_leaves_no_data_dir(
        port: str, tmp_path: Path) -> None:
    state = tmp_path / "state"
    done = subprocess.run([str(SCRIPTS / "runware-mock"), "serve", "--port", port],
                          env=bare_environment(state), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "runware-mock: port must be between 0 and 65535 (0: a free port)"]
    assert not state.exists()


def test_a_start_on_a_port_in_use_leaves_no_data_dir(tmp_path: Path) -> None:
    state, chosen = tmp_path / "state", tmp_path / "chosen" / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for extra in ([], ["--data-dir", str(chosen)]):
            done = subprocess.run([str(SCRIPTS / "runware-mock"), "serve", "--port", port,
                                   *extra], env=bare_environment(state), capture_output=True,
                                  text=True, timeout=60, check=False)
            assert done.returncode == 1 and "the port is in use" in done.stderr, done.stderr
    assert not state.exists(), "the default data dir made for the port"
    assert not (tmp_path / "chosen").exists(), "the --data-dir folders made for it"


def test_a_failed_start_keeps_a_data_dir_that_was_there(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "mine.txt").write_text("kept")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = subprocess.run([str(SCRIPTS / "runware-mock"), "serve", "--port",
                               str(taken.getsockname()[1]), "--data-dir", str(data)],
                              env=bare_environment(tmp_path / "state"), capture_output=True,
                              text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert (data / "mine.txt").read_text() == "kept"


# --- serve: the banner's next command -------------------------------------------------------

@pytest.fixture
def bare_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``runware-mock serve`` started by its full path, from a folder of the user's, with a
    PATH that does not name it; and the command its banner says to run next."""
    server = subprocess.Popen([str(SCRIPTS / "runware-mock"), "serve", "--port", "0",
                               "--ephemeral", "--latency", "instant", "--log-level", "warning"],
                              cwd=tmp_path, env=bare_environment(tmp_path / "state"),
                              stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    try:
        for line in server.stderr:
            if "make a video from another shell: " in line:
                hint = line.split("make a video from another shell: ", 1)[1]
                yield server, hint.split("; Ctrl-C", 1)[0]
                break
        else:
            pytest.fail(f"no banner; exit {server.wait()}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_banner_names_a_run_command_that_works_where_the_user_stands(
        bare_server: tuple[subprocess.Popen[str], str], tmp_path: Path) -> None:
    _, hint = bare_server
    command = shlex.split(hint)
    assert "--url" in command, "a port other than 8787: run must be told where"
    wait_until_healthy(command[command.index("--url") + 1])
    made = subprocess.run([*command, "--output", str(tmp_path), "--poll-every", "0.1"],
                          cwd=tmp_path, env=bare_environment(tmp_path / "state"),
                          capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, (hint, made.stderr[-2000:])
    assert list(tmp_path.glob("*.mp4")), made.stdout


def wait_until_healthy(api_url: str) -> None:
    """The banner comes as the port is bound, before it accepts: as a user would, wait (here,
    for the health endpoint to answer)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(api_url.removesuffix("/v1") + "/__admin/health").status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def test_the_banner_names_dev_py_in_a_checkout(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(ROOT / ".venv" / "bin" / "python"))
    monkeypatch.setenv("PATH", BARE_PATH)
    default = Settings()
    monkeypatch.chdir(ROOT)
    assert cli.run_command(default) == "python3 dev.py run"
    monkeypatch.chdir(tmp_path)
    assert cli.run_command(default) == f"python3 {shlex.quote(str(ROOT / 'dev.py'))} run"
    assert cli.run_command(Settings(host="0.0.0.0", port=9000)) == (
        f"python3 {shlex.quote(str(ROOT / 'dev.py'))} run --url http://127.0.0.1:9000/v1")


# --- run: the model, checked first ----------------------------------------------------------

@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[ServerThread]:
    server = ServerThread(Settings(port=0, data_dir=tmp_path / "data", latency="instant"))
    server.start()
    yield server
    server.stop()


def test_run_refuses_an_unknown_model_before_any_upload_naming_the_closest(
        quiet_server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["run", "--url", quiet_server.url, "--model", "klingai:avatar@2.0-standart",
                     "--output", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        "runware-mock run: --model: klingai:avatar@2.0-standart is not a model that makes a "
        "video from a portrait and a voice; did you mean klingai:avatar@2.0-standard? "
        "`run --help` lists the 10 that do"]
    journal = httpx.get(f"{quiet_server.base_url}/__admin/journal/count").json()
    assert journal["count"] == 0, "nothing was uploaded or sent"


def test_run_help_names_every_model_run_can_use(capsys: pytest.CaptureFixture[str]) -> None:
    # The talking-video models of the official catalog (reference runware-models.tsv): the
    # avatar and talking-head families take a portrait and a voice.
    models = tomllib.loads((ROOT / "runware_mock" / "contract" / "models" / "avatar.toml")
                           .read_text())["models"]
    assert cli.main(["run", "--help"]) == 0
    help_text = "".join(capsys.readouterr().out.split())
    for model in [*models, "heygen:avatar@5", "creatify:aurora@fast", "bytedance:5@2"]:
        assert model in help_text


# --- the dashboard --------------------------------------------------------------------------

def test_a_sync_task_timeline_lists_its_submit_before_its_result(
        quiet_server: ServerThread) -> None:
    # imageInference is answered in its request by default (deliveryMethod sync).
    task = {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()),
            "model": "runware:400@2", "positivePrompt": "A serene mountain lake",
            "width": 512, "height": 512}
    reply = httpx.post(quiet_server.url, json=[task], headers={"Authorization": "Bearer k"},
                       timeout=120)
    assert "imageURL" in reply.json()["data"][0], reply.text
    page = httpx.get(f"{quiet_server.base_url}/__admin/ui/tasks/{task['taskUUID']}").text
    kinds = re.findall(r'<li class="event (\w+)', page)
    assert kinds.index("submit") < kinds.index("result"), kinds


def test_a_failed_task_shows_failed_not_100_percent(quiet_server: ServerThread) -> None:
    base = quiet_server.base_url
    rule = httpx.post(f"{base}/__admin/faults", json={"kind": "task_error",
                                                      "code": "timeoutProvider"})
    assert rule.status_code in (200, 201), rule.text
    client = RestClient(quiet_server.url)
    task = avatar_task()
    assert client.run(task)["errors"][0]["code"] == "timeoutProvider"
    for page in (httpx.get(f"{base}/__admin/ui/tasks/{task['taskUUID']}").text,
                 httpx.get(f"{base}/__admin/ui/").text):
        bars = re.findall(r'data-status="error"[^>]*></div><span>([^<]*)</span>', page)
        assert bars == ["failed"], bars


def test_the_dashboard_has_an_icon(quiet_server: ServerThread) -> None:
    page = httpx.get(f"{quiet_server.base_url}/__admin/ui/").text
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert icon is not None
    answer = httpx.get(f"{quiet_server.base_url}/__admin/ui/{icon.group(1)}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"


# --- the words ------------------------------------------------------------------------------

def test_every_description_says_what_the_project_is_now(
        capsys: pytest.CaptureFixture[str]) -> None:
    description = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["description"]
    site = re.search(r"^site_description: (.+)$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert site is not None and site.group(1) == description
    assert cli.main(["--help"]) == 0
    assert description in " ".join(capsys.readouterr().out.split())
    index = " ".join((ROOT / "docs" / "index.md").read_text().split("## ")[0].split())
    assert ("emulator of the [Runware](https://runware.ai) inference API, with a contract-test "
            "harness") in index
    assert "for the talking-avatar model" not in index


def test_the_docs_import_only_what_exists() -> None:
    """Python blocks of the docs import what is installed here, a module of examples/ (the
    client they show) or a library the page says to install, never a module the reader does not
    have (``my_project``)."""
    examples = {path.stem for path in (ROOT / "examples").glob("*/*.py")}
    for page in (ROOT / "docs").glob("*.md"):
        text = page.read_text()
        installed = set(re.findall(r"pip install ([\w-]+)", text))
        for block in re.findall(r"```python\n(.*?)```", text, re.S):
            for module in re.findall(r"^\s*(?:from|import) ([\w.]+)", block, re.M):
                top = module.split(".")[0]
                assert top in examples | installed or importlib.util.find_spec(top), (
                    f"{page.name}: {module}")


def test_the_dev_py_table_names_every_check() -> None:
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    row = next(line for line in configuration.splitlines()
               if line.startswith("| `python3 dev.py test"))
    for check in dev.checks("SITE", []):
        assert check.split()[0] in row, check
    assert any(line.startswith("| `python3 dev.py dist") for line in configuration.splitlines())
