"""The official Runware SDKs, unchanged, against the emulator: an avatar job end to end each.

Each SDK runs a script from tests/sdk_scripts in its own environment (tests/sdks.py makes them,
conftest.py hands them out as session fixtures). Only the base URL is changed, as the README
shows. A TCP relay between an SDK and the emulator breaks the connection at chosen moments to
drive the SDKs' reconnect, resume and retry paths.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread
from tests.conftest import ServerFactory
from tests.helpers import PORTRAIT, VOICE, RestClient
from tests.sdks import (
    API_KEY,
    SCRIPTS,
    ScriptRun,
    check_runware_sdk_job,
    check_video,
    run_to_end,
    runware_05_command,
    runware_sdk_command,
    served_bytes,
    wait_until,
)

# --- checking what an SDK got ---------------------------------------------------------------------

def journal(server: ServerThread, **filters: str) -> list[dict[str, Any]]:
    reply = httpx.get(f"{server.base_url}/__admin/journal", params=filters, timeout=30)
    assert reply.status_code == 200, reply.text
    return list(reply.json()["entries"])


def answered_codes(server: ServerThread, task_uuid: str) -> list[str]:
    """Error codes of the replies the task's WebSocket frames got, in order."""
    return [problem.get("code") for entry in journal(server, taskUUID=task_uuid,
                                                     transport="websocket", kind="received")
            for problem in (entry["response"] or {}).get("errors", [])]


def pushes(server: ServerThread, task_uuid: str) -> int:
    return len(journal(server, taskUUID=task_uuid, transport="websocket", kind="sent"))


def complete(server: ServerThread, task_uuid: str) -> None:
    reply = httpx.post(f"{server.base_url}/__admin/tasks/{task_uuid}/complete", timeout=60)
    assert reply.status_code == 200, reply.text


def task_exists(server: ServerThread, task_uuid: str) -> bool:
    return RestClient(server.url, API_KEY).poll(task_uuid).status_code == 200


class FlakyLink:
    """A TCP relay on 127.0.0.1 between an SDK and the emulator that a test can break: cut
    every open connection, hold new ones until released, or drop what the server sends."""

    def __init__(self, server: ServerThread) -> None:
        self._target = (server.settings.host, server.settings.port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.ws_url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self.connections = 0
        self.swallow_replies = threading.Event()
        self._admitting = threading.Event()
        self._admitting.set()
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept_forever, daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            doomed, self._open = self._open, []
        for each in doomed:
            _hang_up(each)

    def hold(self) -> None:
        self._admitting.clear()

    def release(self) -> None:
        self._admitting.set()

    def close(self) -> None:
        self._listener.close()
        self.release()
        self.cut()

    def _accept_forever(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        self._admitting.wait()
        try:
            upstream = socket.create_connection(self._target)
        except OSError:
            _hang_up(client)
            return
        with self._lock:
            self.connections += 1
            self._open += [client, upstream]
        threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
        self._pump(upstream, client, True)

    def _pump(self, source: socket.socket, target: socket.socket, from_server: bool) -> None:
        try:
            while data := source.recv(65536):
                if not (from_server and self.swallow_replies.is_set()):
                    target.sendall(data)
        except OSError:
            pass
        finally:
            _hang_up(source)
            _hang_up(target)

    def __enter__(self) -> FlakyLink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _hang_up(each: socket.socket) -> None:
    with contextlib.suppress(OSError):
        each.shutdown(socket.SHUT_RDWR)
    each.close()


# --- runware-sdk 1.8.x ---------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["websocket", "rest"])
def test_runware_sdk_runs_an_avatar_job(server: ServerThread, runware_sdk_python: Path,
                                        tmp_path: Path, transport: str) -> None:
    task_uuid = str(uuid.uuid4())
    done = run_to_end(runware_sdk_command(runware_sdk_python, transport, server.ws_url,
                                          server.url, task_uuid), tmp_path)
    check_runware_sdk_job(server, done, task_uuid, tmp_path)
    assert done["conflicts"] == 0
    if transport == "websocket":
        assert done["resumes"] == [None]
        assert pushes(server, task_uuid) == 1
    else:
        assert journal(server, transport="websocket") == []


def test_runware_sdk_resumes_its_session_when_the_socket_dies_mid_task(
        server_factory: ServerFactory, runware_sdk_python: Path, tmp_path: Path) -> None:
    server = server_factory(latency="fixed:3600")
    sessions = server.services.sessions
    task_uuid = str(uuid.uuid4())
    with FlakyLink(server) as link:
        command = runware_sdk_command(runware_sdk_python, "websocket", link.ws_url, server.url,
                                      task_uuid)
        with ScriptRun(command, tmp_path / "sdk-stderr.txt") as run:
            wait_until(lambda: task_exists(server, task_uuid), "the SDK submitted the task")
            link.hold()
            link.cut()
            wait_until(lambda: sessions.attached() == 0, "the server saw the socket die")
            # The video is made while the SDK is away: only the session can still deliver it.
            complete(server, task_uuid)
            link.release()
            done = run.result()
    check_runware_sdk_job(server, done, task_uuid, tmp_path)
    assert link.connections >= 2
    first, resumed, *_ = done["resumes"]
    assert first is None
    assert sessions.get(resumed) is not None
    assert (sessions.stats.resumed, sessions.stats.replayed) == (1, 1)
    assert pushes(server, task_uuid) == 1


def test_runware_sdk_takes_a_conflict_on_its_resent_task_as_the_ack(
        server_factory: ServerFactory, runware_sdk_python: Path, tmp_path: Path) -> None:
    server = server_factory(latency="fixed:3600")
    task_uuid = str(uuid.uuid4())
    with FlakyLink(server) as link:
        command = runware_sdk_command(runware_sdk_python, "websocket", link.ws_url, server.url,
                                      task_uuid, "--pause")
        with ScriptRun(command, tmp_path / "sdk-stderr.txt") as run:
            done = lose_the_ack(server, link, run, task_uuid)
    check_runware_sdk_job(server, done, task_uuid, tmp_path)
    assert done["conflicts"] == 1
    assert answered_codes(server, task_uuid) == ["conflictTaskUUID"]
    assert len(server.services.engine.tasks()) == 1  # the invalid-model task never ran


# --- runware 0.5.x -------------------------------------------------------------------------------

def check_runware_05_job(server: ServerThread, done: dict[str, Any], task_uuid: str,
                         tmp_path: Path) -> None:
    image, audio = done["uploads"]["image"], done["uploads"]["audio"]
    assert served_bytes(image["imageURL"]) == media_path(PORTRAIT).read_bytes()
    check_video(server, done, task_uuid, {"image": image["imageUUID"],
                                          "audio": audio["mediaUUID"]}, tmp_path)
    invalid = done["invalid_model"]
    assert (invalid["raised"], invalid["code"]) == ("RunwareAPIError", "invalidModel")
    assert invalid["error"]["parameter"] == "model"
    assert uuid.UUID(invalid["error"]["taskUUID"])


# Without a push, 0.5.x waits this long (ms) on each poll answered "processing": ten minutes
# here, so only the pushed result can finish the job within the script's timeout.
WAIT_FOR_PUSH = {"RUNWARE_VIDEO_INITIAL_TIMEOUT": "600000"}


def test_runware_05_runs_an_avatar_job_and_takes_the_pushed_result(
        server: ServerThread, runware_05_python: Path, tmp_path: Path) -> None:
    task_uuid = str(uuid.uuid4())
    done = run_to_end(runware_05_command(runware_05_python, server.ws_url, task_uuid),
                      tmp_path, WAIT_FOR_PUSH)
    check_runware_05_job(server, done, task_uuid, tmp_path)
    assert pushes(server, task_uuid) == 1


def test_runware_05_polls_when_push_is_off(server_factory: ServerFactory,
                                           runware_05_python: Path, tmp_path: Path) -> None:
    server = server_factory(push_results=False)
    task_uuid = str(uuid.uuid4())
    quick_polls = {"RUNWARE_VIDEO_INITIAL_TIMEOUT": "500", "RUNWARE_VIDEO_POLLING_DELAY": "100"}
    done = run_to_end(runware_05_command(runware_05_python, server.ws_url, task_uuid),
                      tmp_path, quick_polls)
    check_runware_05_job(server, done, task_uuid, tmp_path)
    assert pushes(server, task_uuid) == 0


def test_runware_05_takes_a_conflict_on_its_resent_task_as_the_ack(
        server_factory: ServerFactory, runware_05_python: Path, tmp_path: Path) -> None:
    server = server_factory(latency="fixed:3600")
    task_uuid = str(uuid.uuid4())
    with FlakyLink(server) as link:
        command = runware_05_command(runware_05_python, link.ws_url, task_uuid, "--pause")
        with ScriptRun(command, tmp_path / "sdk-stderr.txt", WAIT_FOR_PUSH) as run:
            done = lose_the_ack(server, link, run, task_uuid)
    check_runware_05_job(server, done, task_uuid, tmp_path)
    assert link.connections >= 2
    assert answered_codes(server, task_uuid) == ["conflictTaskUUID"]
    assert len(server.services.engine.tasks()) == 1


# --- @runware/sdk-js 1.3.x -----------------------------------------------------------------------

def test_sdk_js_runs_an_avatar_job(server: ServerThread, sdk_js: tuple[str, Path],
                                   tmp_path: Path) -> None:
    node, folder = sdk_js
    task_uuid = str(uuid.uuid4())
    done = run_to_end([node, str(SCRIPTS / "sdk_js_avatar.cjs"), server.ws_url, API_KEY,
                       str(media_path(PORTRAIT)), str(media_path(VOICE)), task_uuid,
                       str(folder)], tmp_path)
    image, audio = done["uploads"]["image"], done["uploads"]["audio"]
    assert served_bytes(image["imageURL"]) == media_path(PORTRAIT).read_bytes()
    assert served_bytes(audio["mediaURL"]) == media_path(VOICE).read_bytes()
    check_video(server, done, task_uuid, {"image": image["imageUUID"],
                                          "audio": audio["mediaUUID"]}, tmp_path)
    invalid = done["invalid_model"]
    assert invalid["rejected"] is True
    assert (invalid["error"]["code"], invalid["error"]["parameter"]) == ("invalidModel", "model")
    received = journal(server, transport="websocket", kind="received", taskType="authentication")
    assert received and all(entry["apiKey"] == API_KEY for entry in received)


def lose_the_ack(server: ServerThread, link: FlakyLink, run: ScriptRun,
                 task_uuid: str) -> dict[str, Any]:
    """Swallow the ack of the SDK's task, cut the socket, wait for the SDK's resend (answered
    conflictTaskUUID), finish the task through the admin API, and return the SDK's result."""
    run.wait_for("uploaded")
    link.swallow_replies.set()  # the ack for the task will never reach the SDK
    run.tell("submit")
    wait_until(lambda: task_exists(server, task_uuid), "the SDK submitted the task")
    link.cut()
    link.swallow_replies.clear()
    wait_until(lambda: "conflictTaskUUID" in answered_codes(server, task_uuid),
               "the SDK resent the task")
    complete(server, task_uuid)
    return run.result()
