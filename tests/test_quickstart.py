"""The README's quickstart, run as written from a fresh clone in a temporary folder.

A git clone of this checkout's committed HEAD; then the quickstart's blocks in order:
``python3 dev.py serve`` (its first-run setup makes the clone's own ``.venv`` with pip, as a new
user's would), ``python3 dev.py run`` (a video in one command), and the curl example, pasted
twice; every video printed must decode. Last, Ctrl-C on ``dev.py serve`` must stop it quietly.

Only where the commands run differs from a user's shell, so the test can run beside anything
else on the machine: a free port instead of 8787 (``RUNWARE_MOCK_PORT`` for ``serve``,
``RUNWARE_MOCK_URL`` for ``run``, the URL's text in the curl block) and a data dir of its own.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runware_mock.runner import free_port
from tests.ctrl_c import children_take_ctrl_c
from tests.helpers import decode
from tests.readme_text import README, quickstart_blocks

ROOT = Path(__file__).resolve().parent.parent
SETUP_TIMEOUT = 900.0  # the first-run pip install, from the network or pip's cache
VOICE_SECONDS = 12.266


class Quickstart:
    def __init__(self, clone: Path, port: int, environment: dict[str, str]) -> None:
        self.clone, self.port, self.environment = clone, port, environment
        self.serve, _, self.run, self.curl = quickstart_blocks(README.read_text("utf-8"))
        self.log = clone.parent / "serve.log"
        self.server: subprocess.Popen[bytes] | None = None

    def start_serving(self) -> None:
        with self.log.open("wb") as log, children_take_ctrl_c():
            self.server = subprocess.Popen(shlex.split(self.serve), cwd=self.clone,
                                           env=self.environment, stdout=log,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True)  # its own Ctrl-C group

    def wait_until_serving(self) -> None:
        assert self.server is not None
        deadline = time.monotonic() + SETUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                pytest.fail(f"dev.py serve exited with {self.server.returncode}:\n"
                            f"{self.log.read_text('utf-8', 'replace')[-6000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/__admin/health", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.5)
        pytest.fail(f"not serving after {SETUP_TIMEOUT:g} s:\n{self.log.read_text()[-6000:]}")

    def shell(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(command, cwd=self.clone, env=self.environment, text=True,
                              capture_output=True, stdin=subprocess.DEVNULL, timeout=300,
                              check=False)
        assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
        return done

    def interrupt(self) -> str:
        """Ctrl-C as a terminal sends it: to the whole foreground process group."""
        assert self.server is not None
        os.killpg(self.server.pid, signal.SIGINT)
        self.server.wait(timeout=60)
        return self.log.read_text("utf-8", "replace")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait(timeout=30)


@pytest.fixture
def quickstart(tmp_path: Path) -> Iterator[Quickstart]:
    for tool in ("git", "bash", "curl", "python3"):
        assert shutil.which(tool), f"the quickstart test needs {tool} on PATH"
    clone = tmp_path / "runware-mock"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    port = free_port()
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("VIRTUAL_ENV", "PYTHONPATH") and not name.startswith(
                       ("PYTEST_", "RUNWARE_MOCK_"))}
    environment.update(RUNWARE_MOCK_PORT=str(port), RUNWARE_MOCK_DATA_DIR=str(tmp_path / "data"),
                       RUNWARE_MOCK_URL=f"http://127.0.0.1:{port}/v1")
    run = Quickstart(clone, port, environment)
    yield run
    run.stop()


def test_the_quickstart_as_written_from_a_fresh_clone(quickstart: Quickstart,
                                                      tmp_path: Path) -> None:
    quickstart.start_serving()
    quickstart.wait_until_serving()
    setup = quickstart.log.read_text("utf-8", "replace")
    for step in ("dev.py: setting up .venv (first run", "dev.py: [1/2] create the virtualenv",
                 "dev.py: [2/2] pip install -e runware-mock", "Successfully installed",
                 "dev.py: .venv ready in", f"serving http://127.0.0.1:{quickstart.port}/v1"):
        assert step in setup, step

    made = quickstart.shell(shlex.split(quickstart.run))
    result = dict(line.split(None, 1) for line in made.stdout.strip().splitlines())
    saved = Path(result["saved"])
    assert saved.parent == quickstart.clone, "saved in the current folder"
    assert_plays(saved)
    assert result["cost"] == "$0.5397" and result["duration"].startswith("12.")

    curl = quickstart.curl.replace("127.0.0.1:8787", f"127.0.0.1:{quickstart.port}")
    assert curl != quickstart.curl
    finished = [last_reply(quickstart.shell(["bash", "-c", curl]).stdout) for _ in range(2)]
    assert finished[0]["taskUUID"] != finished[1]["taskUUID"], "a fresh taskUUID each paste"
    for item in finished:
        assert item["status"] == "success" and item["cost"] == 0.5397
        video = tmp_path / f"{item['taskUUID']}.mp4"
        video.write_bytes(httpx.get(item["videoURL"], timeout=60).content)
        assert_plays(video)

    log = quickstart.interrupt()
    assert quickstart.server is not None and quickstart.server.returncode == 130
    assert "Traceback" not in log and "KeyboardInterrupt" not in log


def last_reply(output: str) -> dict:
    """The curl loop's last line: the finished getResponse, after the ack and the polls."""
    replies = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert len(replies) >= 2, output
    assert "errors" not in replies[0], f"the submit was refused: {replies[0]}"
    assert all(item.get("status") == "processing" for reply in replies[1:-1]
               for item in reply["data"])
    [item] = replies[-1]["data"]
    return item


def assert_plays(path: Path) -> None:
    video = decode(path)
    assert video["video_codec"] == "h264" and video["frames"] > 0 and video["errors"] == 0
    assert abs(video["audio_seconds"] - VOICE_SECONDS) < 0.1, video
    assert re.fullmatch(r"[0-9a-f-]{36}\.mp4", path.name)
