"""A seeded fuzz campaign over both transports: arbitrary JSON at every field of every task type,
deep nesting, huge numbers, bad UTF-8, cut and scalar bodies. The field sweep measures what it
reached and fails unless that is every (task label, field) pair it claims (all_field_cases);
Hypothesis's health checks are all on. Whatever is sent, the emulator
answers with a Runware-shaped error or a result: never a 5xx, never a dropped connection (the
same keep-alive connection, or socket, answers a ping afterwards), never a hang (every read has
a client timeout), and a WebSocket it must close gets a proper close frame."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from runware_mock.contract import schemas
from runware_mock.runner import ServerThread
from tests.conftest import ServerFactory
from tests.fuzz_cases import (
    Pair,
    SweepCase,
    all_field_cases,
    chunks,
    encode,
    field_paths,
    hostile_bodies,
    missed,
    sweep_batch,
    task_schemas,
)
from tests.raw_wire import KeepAlive

KEY = {"Authorization": "Bearer fuzz-key"}
PING = '[{"taskType":"ping","ping":true}]'
# Seeded and bounded: the campaign replays the same cases and fits the suite's time budget.
CAMPAIGN = settings(derandomize=True, database=None, deadline=None, max_examples=250)
WS_MAX_BYTES = 256 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024  # --max-body-bytes's default (docs/configuration.md)
# The sweep (every pair, SWEEP_BATCH to a request or frame, each sent max_examples times).
SWEEP_BATCH = 100  # --max-tasks-per-request's default
SWEEP = settings(derandomize=True, database=None, deadline=None, max_examples=2)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    from runware_mock.settings import Settings
    server = ServerThread(Settings(latency="instant", push_results=False,
                                   ws_max_bytes=WS_MAX_BYTES,
                                   data_dir=tmp_path_factory.mktemp("fuzz"))).start()
    yield server
    server.stop()


def test_the_campaign_claims_every_field_of_every_task_type() -> None:
    labels = {label for label, _ in all_field_cases()}
    assert {label.split(":")[0] for label in labels} >= set(schemas.TASK_TYPES)
    assert labels == set(task_schemas())
    for label, schema_name in task_schemas().items():
        assert len(field_paths(schema_name)) > 1, label


def test_the_coverage_check_fails_when_a_pair_is_missed() -> None:
    pairs = list(all_field_cases())
    assert missed(set(pairs)) == []
    assert missed(set(pairs[1:])) == [f"{pairs[0][0]} {'.'.join(pairs[0][1])}"]
    skipped_chunk = {pair for chunk in list(chunks(pairs, SWEEP_BATCH))[1:] for pair in chunk}
    assert len(missed(skipped_chunk)) == SWEEP_BATCH


def _sweep(send: Callable[[list[Any]], None], most_bytes: int) -> set[Pair]:
    """Every (task label, field) pair, SWEEP_BATCH pairs to a batch; each batch is a seeded
    Hypothesis run whose every example holds one task per pair of the batch, so each pair is
    sent SWEEP.max_examples times with different JSON. Returns the pairs whose tasks were
    answered (a batch over ``most_bytes`` goes in parts)."""
    covered: set[Pair] = set()
    for batch in chunks(list(all_field_cases()), SWEEP_BATCH):

        @SWEEP
        @given(sweep_batch(batch))
        def case(cases: list[SweepCase]) -> None:
            _send_in_parts(send, [task for *_, task in cases], most_bytes)
            covered.update((label, path) for label, path, _ in cases)

        case()
    return covered


def _assert_covers_every_pair(covered: set[Pair]) -> None:
    left = missed(covered)
    claimed = len(list(all_field_cases()))
    assert not left, (f"the sweep reached {claimed - len(left)} of the {claimed} (task label, "
                      f"field) pairs it claims; not reached: {left[:20]}")


def _send_in_parts(send: Callable[[list[Any]], None], tasks: list[Any], most_bytes: int) -> None:
    if len(tasks) > 1 and _size(json.dumps(tasks)) > most_bytes:
        half = len(tasks) // 2
        _send_in_parts(send, tasks[:half], most_bytes)
        _send_in_parts(send, tasks[half:], most_bytes)
        return
    send(tasks)


def test_rest_survives_every_hostile_body(fuzz_server: ServerThread) -> None:
    with KeepAlive(fuzz_server.base_url, timeout=30) as http:

        @CAMPAIGN
        @given(hostile_bodies())
        def case(body: bytes) -> None:
            answer = http.post("/v1", body, KEY)
            assert answer.status < 500, (body[:300], answer.body[:500])
            assert answer.json().get("data") is not None or answer.json().get("errors")
            pong = http.ping()
            assert pong.status == 200
            assert http.reused, "the keep-alive connection was dropped"

        case()


def test_rest_answers_every_field_of_every_task_type(fuzz_server: ServerThread) -> None:
    with KeepAlive(fuzz_server.base_url, timeout=30) as http:

        def send(tasks: list[Any]) -> None:
            answer = http.post("/v1", encode(tasks), KEY)
            assert answer.status < 500, (tasks, answer.body[:500])
            codes = [problem["code"] for problem in answer.json().get("errors", [])]
            assert "internalServerError" not in codes, answer.body[:500]
            assert "payloadTooLarge" not in codes, "a batch too big to reach the fields"
            assert http.ping().status == 200 and http.reused

        covered = _sweep(send, MAX_BODY_BYTES)
    _assert_covers_every_pair(covered)


class FuzzSocket:
    def __init__(self, url: str) -> None:
        self.url = url
        self.connection = self._open()

    def _open(self) -> ClientConnection:
        connection = connect(self.url, open_timeout=10, max_size=None).__enter__()
        self._authenticate(connection)
        return connection

    @staticmethod
    def _authenticate(connection: ClientConnection) -> None:
        connection.send(json.dumps([{"taskType": "authentication", "apiKey": "fuzz-key"}]))
        assert "errors" not in json.loads(connection.recv(30))

    def ask(self, frame: str | bytes) -> dict[str, Any]:
        self.connection.send(frame)
        reply = json.loads(self.connection.recv(30))
        if any(problem.get("code") == "invalidApiKey" for problem in reply.get("errors", [])):
            # A fuzzed authentication task with a bad key signed the socket out: sign it in
            # again, so the next cases reach the task handlers.
            self._authenticate(self.connection)
        return reply

    def reopen(self) -> None:
        self.connection.close()
        self.connection = self._open()


@st.composite
def hostile_frames(draw: st.DrawFn) -> str | bytes:
    body = draw(hostile_bodies())
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return body  # bad UTF-8 goes as a binary frame: a text frame cannot carry it
    return text if draw(st.booleans()) else body


def test_websocket_survives_every_hostile_frame(fuzz_server: ServerThread) -> None:
    socket_ = FuzzSocket(fuzz_server.ws_url)

    @CAMPAIGN
    @given(hostile_frames())
    def case(frame: str | bytes) -> None:
        if _size(frame) > WS_MAX_BYTES:
            _assert_closed_properly(socket_, frame)
            return
        reply = socket_.ask(frame)
        codes = [problem["code"] for problem in reply.get("errors", [])]
        assert "internalServerError" not in codes, (frame[:300], reply)
        assert socket_.ask(PING)["data"][0]["pong"] is True

    try:
        case()
    finally:
        socket_.connection.close()


def _size(frame: str | bytes) -> int:
    return len(frame.encode("utf-8", "surrogatepass") if isinstance(frame, str) else frame)


def _assert_closed_properly(socket_: FuzzSocket, frame: str | bytes) -> None:
    """A frame over --ws-max-bytes ends the socket with a close frame (1009), not a drop."""
    socket_.connection.send(frame)
    with pytest.raises(ConnectionClosed) as closed:
        socket_.connection.recv(30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    socket_.reopen()


def test_an_oversized_frame_is_closed_with_1009(fuzz_server: ServerThread) -> None:
    socket_ = FuzzSocket(fuzz_server.ws_url)
    _assert_closed_properly(socket_, "[" + "1," * WS_MAX_BYTES + "1]")
    assert socket_.ask(PING)["data"][0]["pong"] is True
    socket_.connection.close()


def test_websocket_answers_every_field_of_every_task_type(fuzz_server: ServerThread) -> None:
    socket_ = FuzzSocket(fuzz_server.ws_url)

    def send(tasks: list[Any]) -> None:
        frame = json.dumps(tasks)
        if _size(frame) > WS_MAX_BYTES:  # one task alone over the limit: closed properly
            _assert_closed_properly(socket_, frame)
            return
        reply = socket_.ask(frame)
        codes = [problem["code"] for problem in reply.get("errors", [])]
        assert "internalServerError" not in codes, (tasks, reply)

    try:
        covered = _sweep(send, WS_MAX_BYTES)
    finally:
        socket_.connection.close()
    _assert_covers_every_pair(covered)


@pytest.mark.parametrize("body", [b"", b" ", b"\xef\xbb\xbf[]", b"\xff\xfe[\x00]\x00", b"[]",
                                  b"{}", b"null", b"[null]", b"[[]]", b"[1e999]", b"[NaN]",
                                  b'["\\ud800"]', b"[" + b"9" * 5000 + b"]"])
def test_edge_bodies_are_runware_errors(server_factory: ServerFactory, body: bytes) -> None:
    server = server_factory()
    with KeepAlive(server.base_url) as http:
        answer = http.post("/v1", body, KEY)
        assert 400 <= answer.status < 500, answer.body
        assert answer.codes()
        assert http.ping().status == 200 and http.reused
