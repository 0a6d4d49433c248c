"""Wire faults in process (faults/wire.py), against docs/faults.md: truncated, dribble, reset,
empty, on a fake transport that records what is written.
(Expected values come from the documentation, never from the code under test;
`python3 dev.py mutate` runs these against its mutants.)"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from starlette.responses import Response

from runware_mock.faults import fault_kinds as faults
from runware_mock.faults import wire

# --- wire faults (docs/faults.md: truncated, dribble, reset, empty) -----------------------------

class FakeTransport:
    def __init__(self) -> None:
        self.closed = self.aborted = False
        self.options: list[tuple[int, int, bytes]] = []

    def get_extra_info(self, name: str) -> Any:
        return self if name == "socket" else None

    def setsockopt(self, level: int, option: int, value: bytes) -> None:
        self.options.append((level, option, value))

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True


def _respond(response: Response, transport: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", wire.SCOPE_KEY: transport}
    asyncio.run(response(scope, receive, send))
    return sent


def test_truncated_sends_the_fraction_and_closes() -> None:
    transport = FakeTransport()
    sent = _respond(wire.TruncatedResponse(Response(b"0123456789", status_code=201), 0.3),
                    transport)
    assert sent[0]["status"] == 201
    assert (b"content-length", b"10") in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b"012", "more_body": True}
    assert transport.closed and not transport.aborted and len(sent) == 2


def test_reset_aborts_with_linger_zero_and_empty_closes() -> None:
    import socket
    import struct
    transport = FakeTransport()
    assert _respond(wire.ResetResponse(), transport) == []
    assert transport.aborted
    assert transport.options == [(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))]
    transport = FakeTransport()
    assert _respond(wire.EmptyResponse(), transport) == []
    assert transport.closed and not transport.aborted


def test_without_a_raw_transport_the_connection_is_dropped() -> None:
    assert wire.transport_of({}) is None
    assert wire.transport_of({wire.SCOPE_KEY: object()}) is None
    with pytest.raises(ConnectionAbortedError):
        _respond(wire.EmptyResponse(), None)


def test_dribble_keeps_headers_and_sends_an_empty_body_once() -> None:
    original = Response(b"", headers={"x-extra": "1"}, media_type="application/json")
    sent = _respond(wire.DribbledResponse(original, 4, 0.0), FakeTransport())
    assert sent[-1] == {"type": "http.response.body", "body": b""}
    assert len(sent) == 2 and (b"x-extra", b"1") in sent[0]["headers"]
    sent = _respond(wire.DribbledResponse(Response(b"abcdefghij"), 4, 0.0), FakeTransport())
    assert [m["body"] for m in sent[1:]] == [b"abcd", b"efgh", b"ij"]
    assert [m["more_body"] for m in sent[1:]] == [True, True, False]


def test_raw_transport_puts_the_connection_in_the_scope() -> None:
    seen: dict[str, Any] = {}

    class App:
        state = "the app's state"

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            seen.update(scope)

    class Protocol:
        transport = "the transport"

        async def send(self, message: Any) -> None:
            pass

    wrapped = wire.RawTransport(App())
    assert wrapped.state == "the app's state"
    asyncio.run(wrapped({"type": "http"}, None, Protocol().send))  # type: ignore[arg-type]
    assert seen[wire.SCOPE_KEY] == "the transport"
    asyncio.run(wrapped({"type": "http"}, None, lambda message: None))  # type: ignore[arg-type]
    assert seen[wire.SCOPE_KEY] is None
    assert math.isfinite(faults.MAX_DELAY) and faults.MAX_DELAY == 3600.0


def test_wire_responses_are_well_formed() -> None:
    original = Response(b"abc", status_code=202, headers={"x-a": "1", "x-b": "2"},
                        media_type="text/plain")
    dribbled = wire.DribbledResponse(original, 2, 0.0)
    assert (dribbled.status_code, dribbled.media_type) == (202, "text/plain")
    assert wire._extra_headers(original) == {"x-a": "1", "x-b": "2"}
    sent = _respond(dribbled, FakeTransport())
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 202
    assert all(message["type"] == "http.response.body" for message in sent[1:])
    assert bytes(wire.EmptyResponse().body) == b"" and bytes(wire.ResetResponse().body) == b""
    truncated = wire.TruncatedResponse(original, 0.5)
    assert (truncated.status_code, truncated.media_type) == (202, "text/plain")
    with pytest.raises(ConnectionAbortedError, match="no raw transport: dropping"):
        _respond(wire.ResetResponse(), None)


def test_reset_without_a_socket_still_aborts() -> None:
    class NoSocket(FakeTransport):
        def get_extra_info(self, name: str) -> Any:
            return None

    class Refusing(FakeTransport):
        def setsockopt(self, level: int, option: int, value: bytes) -> None:
            raise OSError("not a TCP socket")

    for transport in (NoSocket(), Refusing()):
        wire.reset(transport)  # type: ignore[arg-type]
        assert transport.aborted
