"""The official Runware SDKs as the tests run them: each in an environment of its own under
``.sdk-envs/`` (git-ignored), made on first use and reused while its stamp matches (the two
Python SDKs install the same import name, ``runware``, and cannot share one virtualenv; the JS
SDK is installed with npm), and scripts from tests/sdk_scripts run as subprocesses that report
JSON lines. The session fixtures that hand out the environments are in conftest.py."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread
from tests.helpers import PORTRAIT, VOICE, RestClient, decode

# The public image @runware/sdk-js's upscale tests use (served from a --url-map folder, or
# stood in for when unreachable).
WIKIMEDIA = "https://upload.wikimedia.org/"
WIKIMEDIA_IMAGE = WIKIMEDIA + "wikipedia/commons/4/47/PNG_transparency_demonstration_1.png"

ROOT = Path(__file__).resolve().parent.parent
ENVS = ROOT / ".sdk-envs"
SCRIPTS = Path(__file__).resolve().parent / "sdk_scripts"
API_KEY = "test-key"
VOICE_SECONDS = 12.266
COST = 0.5397  # round(0.044 * 12.266, 5): the standard model's price for the voice track
SCRIPT_TIMEOUT = 180.0


@dataclass(frozen=True)
class PythonSdk:
    folder: str
    requirement: str


RUNWARE_SDK = PythonSdk("runware-sdk-1.8", "runware-sdk>=1.8,<1.9")
RUNWARE_05 = PythonSdk("runware-0.5", "runware>=0.5,<0.6")
SDK_JS = "@runware/sdk-js@~1.3.2"


# --- environments, made once and reused --------------------------------------------------------

@contextlib.contextmanager
def _envs_locked() -> Iterator[None]:
    """Several test runs may share the working tree: only one installs at a time."""
    ENVS.mkdir(exist_ok=True)
    with (ENVS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _install(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"installing {what} failed ({' '.join(command)}):\n"
                           f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def python_sdk_env(sdk: PythonSdk) -> Path:
    folder = ENVS / sdk.folder
    python = folder / "bin" / "python"
    stamp = folder / ".installed-from"
    wanted = f"{sdk.requirement}\n{sys.version}\n"
    with _envs_locked():
        if not (python.exists() and stamp.exists() and stamp.read_text() == wanted):
            _install([sys.executable, "-m", "venv", "--clear", str(folder)], f"a venv for {sdk}")
            _install([str(python), "-m", "pip", "install", "--quiet",
                      "--disable-pip-version-check", sdk.requirement], sdk.requirement)
            stamp.write_text(wanted)
    return python


def node_sdk_env(node: str, npm: str) -> Path:
    folder = ENVS / "sdk-js-1.3"
    stamp = folder / ".installed-from"
    version = subprocess.run([node, "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    wanted = f"{SDK_JS}\n{version}\n"
    with _envs_locked():
        if not (stamp.exists() and stamp.read_text() == wanted):
            folder.mkdir(parents=True, exist_ok=True)
            # --ignore-scripts: the only install script is an optional native speed-up of ws.
            _install([npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund",
                      "--ignore-scripts", "--loglevel=error", SDK_JS], SDK_JS)
            stamp.write_text(wanted)
    return folder


# --- running an SDK script ----------------------------------------------------------------------

class ScriptRun:
    """An SDK script as a subprocess, its JSON-lines output read as it comes."""

    def __init__(self, command: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self._log_path = log
        self._log: IO[str] = log.open("w")
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._log, text=True,
                                         env={**environment, **(env or {})})
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, event: str, timeout: float = SCRIPT_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {event!r} from the SDK script{self._stderr()}") from None
            if line is None:
                self._process.wait(timeout=30)
                raise AssertionError(f"the SDK script ended (exit {self._process.returncode}) "
                                     f"before {event!r}{self._stderr()}")
            if line.startswith("{") and json.loads(line).get("event") == event:
                return dict(json.loads(line))

    def tell(self, line: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    def result(self) -> dict[str, Any]:
        done = self.wait_for("done")
        assert self._process.wait(timeout=60) == 0, self._stderr()
        return done

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(timeout=30)
        self._log.close()

    def _stderr(self) -> str:
        self._log.flush()
        return f"\n--- stderr ---\n{self._log_path.read_text()[-4000:]}"

    def __enter__(self) -> ScriptRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def run_to_end(command: list[str], tmp_path: Path,
               env: dict[str, str] | None = None) -> dict[str, Any]:
    with ScriptRun(command, tmp_path / "sdk-stderr.txt", env) as run:
        return run.result()


def media_args() -> list[str]:
    return ["--image", str(media_path(PORTRAIT)), "--audio", str(media_path(VOICE))]


def runware_sdk_command(python: Path, transport: str, ws_url: str, http_url: str,
                        task_uuid: str, *extra: str) -> list[str]:
    return [str(python), str(SCRIPTS / "runware_sdk_avatar.py"), "--transport", transport,
            "--ws-url", ws_url, "--http-url", http_url, "--api-key", API_KEY,
            "--task-uuid", task_uuid, *media_args(), *extra]


def runware_05_command(python: Path, ws_url: str, task_uuid: str, *extra: str) -> list[str]:
    return [str(python), str(SCRIPTS / "runware_05_avatar.py"), "--ws-url", ws_url,
            "--api-key", API_KEY, "--task-uuid", task_uuid, *media_args(), *extra]


# --- checking what an SDK got ---------------------------------------------------------------------

def check_video(server: ServerThread, done: dict[str, Any], task_uuid: str,
                inputs: dict[str, str], tmp_path: Path) -> None:
    """The SDK's one result is the task's finished video, made from the uploads it sent."""
    (video,) = done["videos"]
    assert (video["taskUUID"], video["status"], video["cost"]) == (task_uuid, "success", COST)
    assert video["videoURL"].startswith(server.base_url + "/")
    polled = RestClient(server.url, API_KEY).poll(task_uuid).json()["data"]
    assert [item["videoUUID"] for item in polled] == [video["videoUUID"]]
    assert server.services.engine.get(API_KEY, task_uuid).request["inputs"] == inputs

    path = tmp_path / "sdk-video.mp4"
    path.write_bytes(httpx.get(video["videoURL"], timeout=30).content)
    decoded = decode(path)
    assert (decoded["video_codec"], decoded["audio_codec"], decoded["errors"]) == (
        "h264", "aac", 0)
    assert abs(decoded["frames"] / 25 - VOICE_SECONDS) <= 1 / 25
    assert abs(decoded["audio_seconds"] - VOICE_SECONDS) <= 1 / 25


def served_bytes(url: str) -> bytes:
    reply = httpx.get(url, timeout=30)
    assert reply.status_code == 200, url
    return reply.content


def check_runware_sdk_job(server: ServerThread, done: dict[str, Any], task_uuid: str,
                          tmp_path: Path) -> None:
    image, audio = done["uploads"]["image"], done["uploads"]["audio"]
    assert served_bytes(image["mediaURL"]) == media_path(PORTRAIT).read_bytes()
    assert served_bytes(audio["mediaURL"]) == media_path(VOICE).read_bytes()
    check_video(server, done, task_uuid, {"image": image["mediaUUID"],
                                          "audio": audio["mediaUUID"]}, tmp_path)
    invalid = done["invalid_model"]
    assert (invalid["raised"], invalid["code"], invalid["parameter"]) == (
        "RunwareError", "validation", "model")
    assert "nonexistent:999@999" in invalid["message"]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)
