"""The WebSocket transport over real sockets: handshake, pings, validation parity with REST,
result push, sessions and resume, idle close, large frames and bad input."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from runware_mock.contract.conformance import check_envelope, describe
from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread
from tests.conftest import ServerFactory
from tests.helpers import (
    PORTRAIT,
    VOICE,
    RestClient,
    avatar_task,
    data_uri,
    decode,
    raw_base64,
)
from tests.socket_client import KEY, PING, PONG, Socket

# Also against serve --workers 2: one emulator whichever worker a connection reaches.
pytestmark = pytest.mark.workers
@pytest.fixture
def sockets(server: ServerThread) -> Iterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for each in opened:
        each.close()


def conforms(frame: dict[str, Any]) -> bool:
    problems = check_envelope(frame)
    assert not problems, describe(problems)
    return True


def open_socket(server: ServerThread, opened: list[Socket], suffix: str = "") -> Socket:
    each = Socket(server.ws_url + suffix)
    opened.append(each)
    return each


def complete(server: ServerThread, task_uuid: str) -> None:
    """Skip the task's latency through the admin API; returns once the task has finished."""
    reply = httpx.post(f"{server.base_url}/__admin/tasks/{task_uuid}/complete", timeout=60)
    assert reply.status_code == 200, reply.text


def wait_until(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


def uploaded_avatar_task(connection: Socket) -> dict[str, Any]:
    """Upload the portrait (imageUpload) and the voice (mediaStorage) over the socket, and
    return a task that uses their UUIDs."""
    image = connection.ask([{"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()),
                             "image": data_uri(media_path(PORTRAIT), "image/jpeg")}])
    audio = connection.ask([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                             "operation": "upload", "media": raw_base64(media_path(VOICE))}])
    return avatar_task(includeCost=True, inputs={"image": image["data"][0]["imageUUID"],
                                                 "audio": audio["data"][0]["mediaUUID"]})


# --- handshake, authentication and pings ------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", "?sdk=js&version=1.3.2", "/?dryRun=1"])
def test_authentication_grants_a_session_whatever_the_query_string(
        server: ServerThread, sockets: list[Socket], suffix: str) -> None:
    connection = open_socket(server, sockets, suffix)
    reply = connection.ask([{"apiKey": KEY, "taskType": "authentication"}])
    assert list(reply) == ["data"] and conforms(reply)
    (item,) = reply["data"]
    assert item["taskType"] == "authentication"
    assert uuid.UUID(item["connectionSessionUUID"]).version == 4


def test_ping_is_answered_before_during_and_after_authentication(
        server: ServerThread, sockets: list[Socket]) -> None:
    connection = open_socket(server, sockets)
    assert connection.ask(PING) == PONG and conforms(PONG)
    # runware 0.5.x sends its first ping in the same millisecond as the auth frame.
    connection.send([{"taskType": "authentication", "apiKey": KEY}])
    connection.send(PING)
    assert connection.read()["data"][0]["taskType"] == "authentication"
    assert connection.read() == PONG
    assert connection.ask(PING) == PONG


def test_a_rejected_key_gets_invalid_api_key_and_the_socket_can_retry(
        server_factory: ServerFactory) -> None:
    server = server_factory(api_keys=("right-key",))
    connection = Socket(server.ws_url)
    try:
        for task in ({"taskType": "authentication", "apiKey": "wrong-key"},
                     {"taskType": "authentication"}):
            (problem,) = connection.ask([task])["errors"]
            assert (problem["code"], problem["parameter"], problem["taskType"]) == (
                "invalidApiKey", "apiKey", "authentication")
        refused = connection.ask([{"taskType": "getResponse", "taskUUID": str(uuid.uuid4())}])
        assert refused["errors"][0]["code"] == "invalidApiKey"
        assert connection.authenticate("right-key")
    finally:
        connection.close()


def test_a_task_before_authentication_is_refused_with_its_task_uuid(
        server: ServerThread, sockets: list[Socket]) -> None:
    connection = open_socket(server, sockets)
    task = avatar_task()
    reply = connection.ask([task])
    assert "data" not in reply
    (problem,) = reply["errors"]
    assert problem["code"] == "invalidApiKey"
    assert (problem["taskType"], problem["taskUUID"]) == ("videoInference", task["taskUUID"])
    assert httpx.get(f"{server.base_url}/__admin/tasks").json()["count"] == 0


def test_a_failed_reauthentication_makes_the_socket_anonymous(
        server_factory: ServerFactory) -> None:
    server = server_factory(api_keys=("right-key",))
    connection = Socket(server.ws_url)
    try:
        connection.authenticate("right-key")
        assert connection.ask([{"taskType": "authentication", "apiKey": "x"}])["errors"]
        refused = connection.ask([avatar_task()])
        assert refused["errors"][0]["code"] == "invalidApiKey"
    finally:
        connection.close()


# --- bad frames ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("frame", "code"), [
    ("not json", "invalidJSON"),
    (b"\xff\xfe binary garbage", "invalidJSON"),
    ("{}", "invalidRequestFormat"),
    ('{"taskType": "ping"}', "invalidRequestFormat"),
    ("[]", "invalidRequestFormat"),
    ('"ping"', "invalidRequestFormat"),
    ("[1]", "invalidTask"),
    ('[{"taskType": "nope", "taskUUID": "x"}]', "unsupportedTaskType"),
    ("[{}]", "missingParameter"),
])
def test_a_bad_frame_gets_a_runware_error_and_the_socket_lives_on(
        server: ServerThread, sockets: list[Socket], frame: str | bytes, code: str) -> None:
    connection = open_socket(server, sockets)
    connection.authenticate()
    reply = connection.ask(frame)
    assert [problem["code"] for problem in reply["errors"]] == [code] and conforms(reply)
    assert connection.nothing_pending()


def test_a_binary_frame_holding_json_is_a_frame_like_any_other(
        server: ServerThread, sockets: list[Socket]) -> None:
    connection = open_socket(server, sockets)
    assert connection.ask(json.dumps(PING).encode()) == PONG


def test_a_frame_of_several_tasks_answers_each_in_one_frame(
        server: ServerThread, sockets: list[Socket]) -> None:
    connection = open_socket(server, sockets)
    task = avatar_task()
    unknown = str(uuid.uuid4())
    reply = connection.ask([{"taskType": "authentication", "apiKey": KEY}, task,
                            {"taskType": "getResponse", "taskUUID": unknown},
                            avatar_task(width=512), {"taskType": "ping", "ping": True}])
    assert [item["taskType"] for item in reply["data"]] == [
        "authentication", "videoInference", "ping"]
    assert reply["data"][1] == {"taskType": "videoInference", "taskUUID": task["taskUUID"]}
    assert [(p["code"], p["taskType"]) for p in reply["errors"]] == [
        ("taskNotFound", "getResponse"), ("unsupportedParameter", "videoInference")]
    assert reply["errors"][0]["taskUUID"] == unknown


# --- the same validation and answers as REST --------------------------------------------------

def parity_cases() -> list[list[dict[str, Any]]]:
    unknown = "0b7b1c3c-6a41-4d8e-9d1e-1a2b3c4d5e6f"
    return [
        [avatar_task(width=512, height=512, duration=5)],
        [avatar_task(model="nonexistent:999@999")],
        [avatar_task(outputQuality=100, numberResults=9, deliveryMethod="sync")],
        [avatar_task(positivePrompt="", outputType="base64Data", outputFormat="GIF")],
        [avatar_task(inputs={"image": "https://x.test/a.jpg"})],
        [avatar_task(taskUUID="not-a-uuid")],
        [{"taskType": "videoInference"}],
        [{"taskType": "imageInference", "taskUUID": unknown}],
        [{"taskType": "getResponse", "taskUUID": unknown}],
        [{"taskType": "getResponse"}],
        [{"taskType": "mediaStorage", "taskUUID": unknown, "operation": "upload"}],
        [{"taskType": "mediaStorage", "taskUUID": unknown, "operation": "delete",
          "media": unknown}],
        [{"taskType": "mediaStorage", "taskUUID": unknown, "operation": "upload",
          "media": "%%% not base64 %%%"}],
        [{"taskType": "imageUpload", "taskUUID": unknown, "image": "data:image/png;base64,"}],
        [{"taskType": "ping", "ping": "yes"}],
        [{"taskType": "ping", "ping": True, "extra": 1}],
        [7, None, {"taskType": "ping"}],
    ]


def test_every_task_type_is_validated_and_answered_exactly_as_over_rest(
        server: ServerThread, sockets: list[Socket], client: RestClient) -> None:
    connection = open_socket(server, sockets)
    connection.authenticate()
    for tasks in parity_cases():
        over_rest = client.post(tasks).json()
        over_socket = connection.ask(tasks)
        assert over_socket == over_rest, tasks
        assert "errors" in over_socket or tasks[0]["taskType"] == "ping", over_socket


def test_uploads_work_over_the_socket_and_serve_the_same_bytes(
        server: ServerThread, sockets: list[Socket]) -> None:
    connection = open_socket(server, sockets)
    connection.authenticate()
    reply = connection.ask([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                             "operation": "upload", "media": raw_base64(media_path(VOICE))}])
    (item,) = reply["data"]
    assert httpx.get(item["mediaURL"]).content == media_path(VOICE).read_bytes()
    deleted = connection.ask([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                               "operation": "delete", "media": item["mediaUUID"]}])
    assert deleted["data"][0]["mediaUUID"] == item["mediaUUID"]
    assert httpx.get(item["mediaURL"]).status_code == 404


# --- the avatar lifecycle and the result push -----------------------------------------------

def test_an_avatar_task_over_the_socket_gets_its_result_pushed(
        server: ServerThread, sockets: list[Socket], client: RestClient, tmp_path: Path) -> None:
    connection = open_socket(server, sockets)
    session = connection.authenticate()
    task = uploaded_avatar_task(connection)
    assert connection.ask([task]) == {"data": [{"taskType": "videoInference",
                                                "taskUUID": task["taskUUID"]}]}
    pushed = connection.read()
    assert conforms(pushed)
    (item,) = pushed["data"]
    assert (item["taskUUID"], item["status"], item["cost"]) == (task["taskUUID"], "success",
                                                                 0.5397)
    assert client.poll(task["taskUUID"]).json() == pushed
    assert connection.ask([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]) == pushed
    assert connection.nothing_pending()

    path = tmp_path / "pushed.mp4"
    path.write_bytes(httpx.get(item["videoURL"], timeout=30).content)
    decoded = decode(path)
    assert (decoded["video_codec"], decoded["audio_codec"], decoded["errors"]) == (
        "h264", "aac", 0)
    assert abs(decoded["audio_seconds"] - 12.266) <= 1 / 25

    journal = httpx.get(f"{server.base_url}/__admin/journal",
                        params={"taskUUID": task["taskUUID"], "transport": "websocket"}).json()
    assert [(e["kind"], e["session"]) for e in journal["entries"]] == [
        ("received", session), ("sent", session), ("received", session)]


def test_every_generation_is_pushed_and_a_failure_as_an_error(
        server_factory: ServerFactory) -> None:
    server = server_factory(latency="fixed:3600")
    connection = Socket(server.ws_url)
    try:
        connection.authenticate()
        task = avatar_task(numberResults=2)
        assert "errors" not in connection.ask([task])
        complete(server, task["taskUUID"])
        seeds = {connection.read()["data"][0]["seed"] for _ in range(2)}
        assert len(seeds) == 2
        broken = avatar_task()
        assert "errors" not in connection.ask([broken])
        failed = httpx.post(f"{server.base_url}/__admin/tasks/{broken['taskUUID']}/fail",
                            json={"code": "timeoutProvider", "message": "gave up"})
        assert failed.status_code == 200, failed.text
        pushed_error = connection.read()
        assert conforms(pushed_error)
        (problem,) = pushed_error["errors"]
        assert (problem["code"], problem["taskUUID"], problem["status"]) == (
            "timeoutProvider", broken["taskUUID"], "error")
        assert connection.nothing_pending()
    finally:
        connection.close()


def test_a_socket_that_polls_a_running_task_gets_its_result_pushed(
        server_factory: ServerFactory) -> None:
    server = server_factory(latency="fixed:3600")
    task = avatar_task()
    assert RestClient(server.url).post([task]).status_code == 200
    connection = Socket(server.ws_url)
    try:
        connection.authenticate()
        polled = connection.ask([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])
        assert polled["data"][0]["status"] == "processing"
        complete(server, task["taskUUID"])
        assert connection.read()["data"][0]["status"] == "success"
    finally:
        connection.close()


def test_push_can_be_turned_off(server_factory: ServerFactory) -> None:
    server = server_factory(push_results=False)
    connection = Socket(server.ws_url)
    try:
        connection.authenticate()
        task = avatar_task()
        assert "errors" not in connection.ask([task])
        finished = RestClient(server.url).wait(task["taskUUID"])
        assert finished["data"][0]["status"] == "success"
        assert connection.nothing_pending()
        polled = connection.ask([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])
        assert polled == finished
    finally:
        connection.close()


def test_a_resent_task_uuid_is_a_conflict_and_the_task_runs_once(
        server_factory: ServerFactory) -> None:
    server = server_factory(latency="fixed:3600")
    first, second = Socket(server.ws_url), Socket(server.ws_url)
    try:
        first.authenticate()
        second.authenticate()
        task = avatar_task()
        assert "errors" not in first.ask([task])
        for connection in (first, second):
            (problem,) = connection.ask([task])["errors"]
            assert (problem["code"], problem["taskUUID"]) == ("conflictTaskUUID",
                                                              task["taskUUID"])
        complete(server, task["taskUUID"])
        # Both sockets are told, once each: the second asked about the task by resending it.
        for connection in (first, second):
            assert connection.read()["data"][0]["status"] == "success"
            assert connection.nothing_pending()
        assert httpx.get(f"{server.base_url}/__admin/tasks").json()["count"] == 1
        assert len(RestClient(server.url).poll(task["taskUUID"]).json()["data"]) == 1
    finally:
        first.close()
        second.close()


def test_closing_the_socket_mid_task_loses_nothing(server: ServerThread) -> None:
    connection = Socket(server.ws_url)
    connection.authenticate()
    task = avatar_task()
    connection.send([task])
    connection.close()
    finished = RestClient(server.url).wait(task["taskUUID"])
    assert finished["data"][0]["status"] == "success"


# --- sessions ---------------------------------------------------------------------------------

@pytest.mark.one_process
def test_a_resumed_session_gets_the_results_it_missed_once(
        server_factory: ServerFactory) -> None:
    server = server_factory(latency="fixed:3600")
    sessions = server.services.sessions
    away = Socket(server.ws_url)
    session = away.authenticate()
    task = avatar_task()
    assert "errors" not in away.ask([task])
    away.close()
    wait_until(lambda: sessions.attached() == 0, "the server saw the socket close")
    complete(server, task["taskUUID"])

    back = Socket(server.ws_url)
    try:
        assert back.authenticate(session=session) == session
        (item,) = back.read()["data"]
        assert (item["taskUUID"], item["status"]) == (task["taskUUID"], "success")
        assert back.nothing_pending()
    finally:
        back.close()
    assert (sessions.stats.resumed, sessions.stats.replayed) == (1, 1)

    wait_until(lambda: sessions.attached() == 0, "the server saw the socket close")
    again = Socket(server.ws_url)
    try:
        assert again.authenticate(session=session) == session
        assert again.nothing_pending()
    finally:
        again.close()


@pytest.mark.one_process
def test_a_session_is_not_resumed_by_another_key_or_after_it_expired(
        server_factory: ServerFactory) -> None:
    server = server_factory(session_keep_seconds=0.2)
    first = Socket(server.ws_url)
    session = first.authenticate()
    other_key = Socket(server.ws_url)
    try:
        assert other_key.authenticate("another-key", session=session) != session
    finally:
        other_key.close()
    first.close()
    wait_until(lambda: server.services.sessions.attached() == 0, "the server saw it close")
    time.sleep(0.4)
    late = Socket(server.ws_url)
    try:
        assert late.authenticate(session=session) != session
    finally:
        late.close()
    assert server.services.sessions.stats.resumed == 0


def test_an_unknown_session_uuid_gets_a_new_session(
        server: ServerThread, sockets: list[Socket]) -> None:
    connection = open_socket(server, sockets)
    asked = str(uuid.uuid4())
    granted = connection.authenticate(session=asked)
    assert granted != asked
    assert uuid.UUID(granted).version == 4


def test_an_idle_socket_is_closed(server_factory: ServerFactory) -> None:
    server = server_factory(idle_timeout=0.3)
    connection = Socket(server.ws_url)
    with pytest.raises(ConnectionClosed) as closed:
        connection.read(timeout=30)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1000, "idle for 0.3 s")


def test_messages_keep_a_socket_open(server_factory: ServerFactory) -> None:
    server = server_factory(idle_timeout=1.5)
    connection = Socket(server.ws_url)
    try:
        connection.authenticate()
        for _ in range(15):  # three seconds of pings, each well inside the idle timeout
            time.sleep(0.2)
            assert connection.ask(PING) == PONG
    finally:
        connection.close()


# --- large frames and concurrency -------------------------------------------------------------

def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 bytes per pixel."""
    pixels = random.Random(side).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def test_a_frame_of_several_megabytes_is_taken(
        server: ServerThread, sockets: list[Socket]) -> None:
    png = noise_png(1400)
    frame = [{"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()),
              "image": "data:image/png;base64," + base64.b64encode(png).decode()}]
    assert len(json.dumps(frame)) > 7_000_000
    connection = open_socket(server, sockets)
    connection.authenticate()
    (item,) = connection.ask(frame)["data"]
    assert httpx.get(item["imageURL"], timeout=30).content == png
    assert connection.nothing_pending()


class StallingServer:
    """Accepts HTTP connections and answers nothing until released, then hangs up."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/portrait.jpg"
        self.released = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            peer, _ = self._listener.accept()
            self.released.wait(60)
            peer.close()
        self._listener.close()


def test_a_slow_task_does_not_hold_back_a_pong(
        server: ServerThread, sockets: list[Socket]) -> None:
    stalling = StallingServer()
    connection = open_socket(server, sockets)
    connection.authenticate()
    upload = {"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()), "operation": "upload",
              "media": stalling.url}
    connection.send([upload])
    try:
        assert connection.ask(PING) == PONG
    finally:
        stalling.released.set()
    (problem,) = connection.read()["errors"]
    assert (problem["code"], problem["taskUUID"]) == ("invalidValueUploadFailed",
                                                      upload["taskUUID"])


def test_frame_size_limit_is_a_setting(server_factory) -> None:
    from websockets.exceptions import ConnectionClosed

    padding = "x" * 20_000_000  # bigger than a task with 10 MB + 5 MB of media inline
    big = json.dumps([{"taskType": "ping", "ping": True, "padding": padding}])
    roomy = server_factory(ws_max_bytes=32 * 1024 * 1024)
    with connect(roomy.ws_url, max_size=None, open_timeout=10) as ws:
        ws.send(big)
        problem = json.loads(ws.recv(timeout=30))["errors"][0]
        assert (problem["code"], problem["parameter"]) == ("unsupportedParameter", "padding")
    tight = server_factory(ws_max_bytes=1_000_000)
    with connect(tight.ws_url, max_size=None, open_timeout=10) as ws:
        ws.send(json.dumps([{"taskType": "ping", "ping": True, "padding": "x" * 1_100_000}]))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
