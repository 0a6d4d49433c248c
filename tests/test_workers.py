"""``serve --workers N``: one emulator whichever worker a connection reaches, and no task lost
or finished twice when a worker dies (each killed with SIGKILL under load)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.fixtures import seed_examples
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.server_process import free_port
from tests.supervised import SupervisedServer

KEY = "workers-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}


def _server(tmp_path: Path, **overrides: Any) -> SupervisedServer:
    return SupervisedServer(Settings(data_dir=tmp_path / "data", api_keys=(KEY,), **overrides))


def _avatar() -> dict[str, Any]:
    return dict(seed_examples()[0]["request"], taskUUID=str(uuid.uuid4()))


def _fresh_connection(server: SupervisedServer) -> httpx.Client:
    """A client of its own: a new connection, which the kernel gives to any worker."""
    return httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=20)


def test_every_connection_reaches_one_emulator(tmp_path: Path) -> None:
    with _server(tmp_path, latency="fixed:3600") as server:
        assert sorted(server.worker_pids()) == ["follower", "leader"]
        submitted = []
        for _ in range(16):  # each on a connection of its own
            task = _avatar()
            with _fresh_connection(server) as http:
                assert http.post("/v1", json=[task]).status_code == 200
            submitted.append(task["taskUUID"])
        for task_uuid in submitted:
            with _fresh_connection(server) as http:
                reply = http.post("/v1", json=[{"taskType": "getResponse", "taskUUID": task_uuid}])
                assert reply.json()["data"][0]["status"] == "processing"
                assert http.post(f"/__admin/tasks/{task_uuid}/complete").status_code == 200
        for task_uuid in submitted:
            with _fresh_connection(server) as http:
                reply = http.post("/v1", json=[{"taskType": "getResponse", "taskUUID": task_uuid}])
                assert reply.json()["data"][0]["status"] == "success"
        with _fresh_connection(server) as http:
            # One journal: the 16 submits, 32 polls, whichever worker took them.
            assert http.get("/__admin/journal/count").json()["count"] == 16 + 32


def _poll_of_a_finished_task(server: SupervisedServer) -> list[dict[str, Any]]:
    """The getResponse body of a task submitted and completed (by the admin API) just now."""
    task = _avatar()
    with _fresh_connection(server) as http:
        assert http.post("/v1", json=[task]).status_code == 200
        assert http.post(f"/__admin/tasks/{task['taskUUID']}/complete").status_code == 200
    return [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]


def test_an_answer_given_again_is_journaled_and_outlives_no_change(tmp_path: Path) -> None:
    # A follower keeps a finished task's getResponse answer and gives it again once the leader
    # confirms: each time journaled, and never after an admin change it depends on.
    with _server(tmp_path, latency="fixed:3600") as server:
        poll = _poll_of_a_finished_task(server)
        answers = []
        for _ in range(4):
            with _fresh_connection(server) as http:
                answers.append(http.post("/v1", json=poll).content)
        assert json.loads(answers[0])["data"][0]["status"] == "success"
        assert len(set(answers)) == 1
        with _fresh_connection(server) as http:
            journal = http.get("/__admin/journal", params={"taskType": "getResponse"}).json()
        polls = [entry for entry in journal["entries"] if entry["kind"] == "request"]
        assert [entry["response"] for entry in polls] == [json.loads(answers[0])] * 4
        with _fresh_connection(server) as http:
            http.post("/__admin/faults", json={"kind": "http_error", "status": 429,
                                               "taskType": "getResponse"}).raise_for_status()
            assert http.post("/v1", json=poll).status_code == 429
            assert http.delete("/__admin/faults").status_code == 200
            assert http.post("/v1", json=poll).content == answers[0]
            assert http.post("/__admin/reset").status_code == 200
            (problem,) = http.post("/v1", json=poll).json()["errors"]
        assert problem["code"] == "taskNotFound"


def test_a_new_leader_confirms_no_answer_its_predecessor_marked(tmp_path: Path) -> None:
    # A leader forked again counts its revisions from the start: an answer kept from before
    # must not pass for one it made.
    with _server(tmp_path, latency="fixed:3600") as server:
        poll = _poll_of_a_finished_task(server)
        with _fresh_connection(server) as http:
            for _ in range(2):  # kept, then given again
                assert http.post("/v1", json=poll).json()["data"][0]["status"] == "success"
            assert http.post("/__admin/reset").status_code == 200
        before = server.worker_pids()["leader"]
        os.kill(before[0], signal.SIGKILL)
        _wait_for(lambda: server.worker_pids().get("leader", before) != before)
        with _fresh_connection(server) as http:
            # Each admin action moves the revision on by one: the new leader's now equals the
            # one the answer was kept at (after the complete).
            assert http.delete("/__admin/journal").status_code == 200
            (problem,) = http.post("/v1", json=poll).json()["errors"]
        assert problem["code"] == "taskNotFound"


def test_a_second_server_cannot_share_the_port(tmp_path: Path) -> None:
    # SO_REUSEPORT would let it: the first socket is bound without it first.
    with _server(tmp_path) as server:
        for workers in ("1", "2"):
            second = subprocess.run(
                [sys.executable, "-m", "runware_mock", "serve", "--ephemeral", "--workers",
                 workers, "--port", str(server.settings.port)],
                capture_output=True, text=True, timeout=60)
            assert second.returncode == 1
            assert "the port is in use" in second.stderr


class _Load:
    """Submits avatar tasks on new connections, from four threads, until stopped; remembers
    every acknowledged one."""

    def __init__(self, server: SupervisedServer) -> None:
        self.server = server
        self.acknowledged: list[str] = []
        self.refused = 0
        self.hung = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(4)]

    def __enter__(self) -> _Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.is_set():
            task = _avatar()
            try:
                with _fresh_connection(self.server) as http:
                    reply = http.post("/v1", json=[task])
            except httpx.TimeoutException:
                self.hung += 1  # neither answered nor cut: a client left waiting
                continue
            except httpx.HTTPError:
                self.refused += 1  # the connection's worker died under it: not acknowledged
                continue
            if reply.status_code == 200:
                self.acknowledged.append(task["taskUUID"])


@pytest.mark.parametrize("victim", ["leader", "follower"])
def test_a_worker_killed_under_load_loses_no_task(tmp_path: Path, victim: str) -> None:
    with _server(tmp_path, latency="uniform:0.2:1.5") as server, _Load(server) as load:
        for _ in range(2):
            _wait_for(lambda: len(load.acknowledged) >= 20)
            before = server.worker_pids()
            os.kill(before[victim][0], signal.SIGKILL)
            _wait_for(lambda old=before[victim]: server.worker_pids().get(victim, old) != old)
            seen = len(load.acknowledged)
            _wait_for(lambda seen=seen: len(load.acknowledged) >= seen + 20)  # served again
        load.__exit__()
        assert load.hung == 0
        results = {task_uuid: _finished(server, task_uuid) for task_uuid in load.acknowledged}
        assert len(results) >= 60
        assert all(status == "success" for status, _ in results.values())
        # Each task reports one result, the same on every poll: made once.
        assert all(_finished(server, task_uuid) == result
                   for task_uuid, result in list(results.items())[:30])


def _finished(server: SupervisedServer, task_uuid: str) -> tuple[str, str]:
    deadline = time.monotonic() + 60
    with _fresh_connection(server) as http:
        while True:
            item = http.post("/v1", json=[{"taskType": "getResponse", "taskUUID": task_uuid}]
                             ).json()["data"][0]
            if item["status"] != "processing" or time.monotonic() > deadline:
                return item["status"], item.get("videoUUID", "")
            time.sleep(0.1)


def _wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    return [int(child) for child in
            Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # exited, not yet reaped by its (dead) parent's adopter


def _serve(tmp_path: Path, *flags: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, "-m", "runware_mock", "serve", "--port", str(port),
               "--data-dir", str(tmp_path / "data"), *flags]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(lambda: _answers(port) and httpx.get(
        f"http://127.0.0.1:{port}/__admin/health", timeout=5).status_code == 200)
    return process, port


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize(("how", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_or_ctrl_c_stops_every_worker(tmp_path: Path, how: signal.Signals,
                                              code: int) -> None:
    process, port = _serve(tmp_path, "--workers", "3")
    workers = _children(process.pid)
    assert len(workers) == 3
    process.send_signal(how)
    assert process.wait(timeout=30) == code
    assert all(_gone(pid) for pid in workers)
    assert not _answers(port)


def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    process, port = _serve(tmp_path, "--workers", "2")
    workers = _children(process.pid)
    process.kill()
    process.wait(timeout=10)
    _wait_for(lambda: all(_gone(pid) for pid in workers), timeout=30)
    _wait_for(lambda: not _answers(port), timeout=10)
    # The data dir is free again: a new server starts on it.
    again, _ = _serve(tmp_path, "--workers", "2")
    again.terminate()
    assert again.wait(timeout=30) == 143


def test_a_server_thread_is_one_worker(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="runware-mock serve"):
        ServerThread(Settings(data_dir=tmp_path, workers=2))


def _exchange_raw(port: int, requests: list[bytes]) -> bytes:
    """Every request written at once on one connection (pipelined); what came back, with the
    date header masked, once ``len(requests)`` replies are in."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"".join(requests))
        received = b""
        while received.count(b"HTTP/1.1 ") < len(requests) or not _complete(received):
            chunk = connection.recv(65536)
            assert chunk, f"closed after {received!r}"
            received += chunk
    return re.sub(rb"date: [^\r]*", b"date: -", received)


def _complete(received: bytes) -> bool:
    last = received.rsplit(b"HTTP/1.1 ", 1)[1]
    head, _, body = last.partition(b"\r\n\r\n")
    length = re.search(rb"content-length: (\d+)", head)
    return length is not None and len(body) >= int(length.group(1))


def _post(body: bytes, *headers: bytes) -> bytes:
    lines = [b"POST /v1 HTTP/1.1", b"Host: emulator.test", f"Authorization: Bearer {KEY}".encode(),
             b"Content-Type: application/json", b"Content-Length: %d" % len(body), *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: emulator.test\r\n\r\n".encode()


def test_replies_are_byte_for_byte_those_of_one_worker(tmp_path: Path) -> None:
    # Offloaded POST /v1 (a poll, a submit, an error) between relayed requests, pipelined on
    # one connection: the same bytes, in the same order, as one worker gives.
    settings = Settings(api_keys=(KEY,), seed=5, latency="instant",
                        public_url="http://emulator.test")
    task = dict(seed_examples()[0]["request"], taskUUID="5b1e0c8e-8a39-4b5e-9a51-1d5f0e0c2a11")
    poll = json.dumps([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]).encode()
    replies = []
    one = ServerThread(dataclasses.replace(settings, data_dir=tmp_path / "one")).start()
    several = SupervisedServer(dataclasses.replace(settings, data_dir=tmp_path / "two")).start()
    try:
        for port in (one.settings.port, several.settings.port):
            assert _exchange_raw(port, [_post(json.dumps([task]).encode())]).startswith(
                b"HTTP/1.1 200 OK")
            _wait_for(lambda port=port: b'"success"' in _exchange_raw(port, [_post(poll)]))
            replies.append(_exchange_raw(port, [
                _post(poll), _get("/schemas/getResponse.json"), _post(b"[{not json"),
                _post(json.dumps([task]).encode()), _get("/nowhere"),
                _post(b'[{"taskType": "ping", "ping": true}]', b"X-Mock-Fault: malformed"),
                _post(poll)]))
    finally:
        one.stop()
        several.stop()
    assert replies[0] == replies[1]
    assert replies[0].count(b"HTTP/1.1 ") == 7


def test_megabytes_of_requests_sent_ahead_on_one_connection_are_all_answered(
        tmp_path: Path) -> None:
    # Megabytes more than a follower reads ahead: it stops reading until it has answered some.
    ping = _post(b'[{"taskType": "ping", "ping": true}]', b"X-Padding: " + b"x" * 16_000)
    count = 400
    with _server(tmp_path) as server, socket.create_connection(
            ("127.0.0.1", server.settings.port), timeout=60) as connection:
        sender = threading.Thread(target=connection.sendall, args=(ping * count,))
        sender.start()
        received = b""
        while received.count(b"HTTP/1.1 200 OK") < count:
            chunk = connection.recv(1 << 20)
            assert chunk, "closed early"
            received += chunk
        sender.join()
    assert received.count(b'{"data":[{"taskType":"ping","pong":true}]}') == count
