"""Connections as an attacker or a broken client opens them (issue 27, items 6 to 8), on one
worker and on ``serve --workers 2``, whose followers read every request's HTTP first: a
connection that sends no head in time is closed, a head uvicorn's parser refuses gets its 400 at
once whichever worker reads it, and garbage after valid requests never costs them their
answers."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.conftest import ServerFactory

pytestmark = pytest.mark.workers

PING_BODY = b'[{"taskType":"ping","ping":true}]'
# A patient bound on the waits below, never an expected duration: each returns at its event.
PATIENCE = 60.0


def ping(extra_headers: bytes = b"") -> bytes:
    return (b"POST /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer test-key\r\n"
            b"Content-Type: application/json\r\n" + extra_headers +
            b"Content-Length: %d\r\n\r\n" % len(PING_BODY) + PING_BODY)


@pytest.fixture
def address(server_factory: ServerFactory) -> tuple[str, int]:
    server = server_factory(header_timeout=1.0)
    return "127.0.0.1", server.settings.port


def _connect(address: tuple[str, int]) -> socket.socket:
    connection = socket.create_connection(address, timeout=PATIENCE)
    connection.settimeout(PATIENCE)
    return connection


def _read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes; raises TimeoutError if it never does."""
    received = b""
    while True:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def statuses(answer: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]


# --- 6. a header timeout -------------------------------------------------------------------------

def test_a_silent_connection_is_closed(address: tuple[str, int]) -> None:
    with _connect(address) as connection:
        assert _read_until_closed(connection) == b""


@pytest.fixture
def dribbled(address: tuple[str, int]) -> Iterator[socket.socket]:
    """A connection sending a head that never ends, a byte at a time (slowloris)."""
    connection = _connect(address)
    stop = threading.Event()

    def dribble() -> None:
        head = b"POST /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: "
        for index in range(10_000):
            byte = head[index:index + 1] or b"a"
            if stop.wait(0.1):
                return
            try:
                connection.send(byte)
            except OSError:
                return

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    yield connection
    stop.set()
    thread.join(PATIENCE)
    connection.close()


def test_a_head_sent_a_byte_at_a_time_is_closed(dribbled: socket.socket) -> None:
    assert _read_until_closed(dribbled) == b""


def test_a_slow_head_after_an_answer_is_closed_too(address: tuple[str, int]) -> None:
    with _connect(address) as connection:
        connection.sendall(ping())
        first = connection.recv(65536)
        assert statuses(first) == [200]
        stop = threading.Event()

        def dribble() -> None:
            while not stop.wait(0.1):
                try:
                    connection.send(b"a")
                except OSError:
                    return

        connection.send(b"POST /v1 HTTP/1.1\r\nX-Padding: ")
        thread = threading.Thread(target=dribble, daemon=True)
        thread.start()
        try:
            assert _read_until_closed(connection) == b""
        finally:
            stop.set()
            thread.join(PATIENCE)


def test_a_valid_request_still_gets_its_answer(address: tuple[str, int]) -> None:
    with _connect(address) as connection:
        connection.sendall(ping(b"Connection: close\r\n"))
        assert statuses(_read_until_closed(connection)) == [200]


# --- 7. one parser, whichever worker reads the head ----------------------------------------------

TLS_CLIENT_HELLO = bytes.fromhex(
    "16030100c4010000c00303") + bytes(range(32)) + bytes.fromhex("000008130213031301c02f0100")
REFUSED_HEADS = {
    "bare LF": b"POST /v1 HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 2\n\n[]",
    "bare LF, no blank line": b"GET / HTTP/1.1\nHost: 127.0.0.1\n",
    "TLS ClientHello": TLS_CLIENT_HELLO,
    "random bytes": bytes([0x8A, 0x11, 0xF3, 0x00, 0x7E, 0x22, 0x9C, 0x41]),
    "NUL in a header value": ping(b"X-Trace: a\x00b\r\n"),
    "CR in a header value": ping(b"X-Trace: a\rb\r\n"),
    "space in a header name": ping(b"X Trace: a\r\n"),
    "non-ASCII header name": ping("X-Tr\u00e4ce: a\r\n".encode()),
}


@pytest.mark.parametrize("name", list(REFUSED_HEADS))
def test_a_head_the_parser_refuses_gets_a_400_at_once(address: tuple[str, int],
                                                      name: str) -> None:
    with _connect(address) as connection:
        connection.sendall(REFUSED_HEADS[name])
        answer = _read_until_closed(connection)
    assert statuses(answer) == [400], answer[:200]


# --- 8. garbage after valid requests -------------------------------------------------------------

@pytest.mark.parametrize("garbage", [b"\x16\x03\x01\x00\xc4garbage", b"GET / HTTP/1.1\nbad\n\n",
                                     ping(b"X Bad: 1\r\n")], ids=["tls", "bare LF", "bad name"])
@pytest.mark.parametrize("valid", [1, 3])
def test_valid_requests_before_garbage_keep_their_answers_in_order(
        address: tuple[str, int], garbage: bytes, valid: int) -> None:
    with _connect(address) as connection:
        connection.sendall(ping() * valid + garbage)
        answer = _read_until_closed(connection)
    assert statuses(answer) == [200] * valid + [400], answer[-300:]
