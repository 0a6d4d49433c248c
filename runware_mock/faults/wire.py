"""Faults on the wire of a REST answer: reset, closed empty, truncated, dribbled.

They need the connection itself, which an ASGI app does not get: ``RawTransport`` wraps the
whole Starlette app, outside its middleware, so it receives the server's own ``send``; with
uvicorn (both HTTP protocols and the WebSocket one) that is a bound method of the connection's
protocol object, whose ``transport`` is the asyncio transport. It puts that transport in the
scope, where ``transport_of`` finds it when a fault needs it. Under a server without one, the
faults degrade to closing the connection by raising, which every ASGI server answers by dropping
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

SCOPE_KEY = "runware_mock.transport"


class RawTransport:
    """ASGI wrapper: exposes the connection's asyncio transport to the app through the scope.

    ``state`` is the wrapped app's, so code that holds the app (``ServerThread``) still
    reaches ``app.state.services``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @property
    def state(self) -> Any:
        return self.app.state  # type: ignore[attr-defined]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The transport, not ``send``: the scope is the request cycle's, and a bound method
        # of that cycle in it would make a reference cycle of every request, left for the
        # garbage collector (which then costs more than the request itself).
        scope[SCOPE_KEY] = getattr(getattr(send, "__self__", None), "transport", None)
        await self.app(scope, receive, send)


def transport_of(scope: Scope) -> asyncio.Transport | None:
    transport = scope.get(SCOPE_KEY)
    # Duck-typed, when a fault needs it: uvloop's transports are not asyncio.Transport
    # subclasses.
    if all(hasattr(transport, name) for name in ("abort", "close", "get_extra_info")):
        return transport
    return None


def reset(transport: asyncio.Transport) -> None:
    """Abort with an RST, not a FIN: SO_LINGER with a zero timeout discards unsent data."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # A socket type without SO_LINGER: a plain abort is the nearest thing.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _DroppedConnection(ConnectionAbortedError):
    """Raised when the transport is out of reach: the server drops the connection."""


def _required(scope: Scope) -> asyncio.Transport:
    transport = transport_of(scope)
    if transport is None:
        raise _DroppedConnection("fault injected, and no raw transport: dropping the connection")
    return transport


async def _let_server_see_the_close() -> None:
    # The protocol's connection_lost runs on the next loop turn; after it the server neither
    # writes an error response nor complains that the app sent none.
    await asyncio.sleep(0)


class NoAnswer(Response):
    """A response that drops the connection instead of answering."""


class ResetResponse(NoAnswer):
    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reset(_required(scope))
        await _let_server_see_the_close()


class EmptyResponse(NoAnswer):
    """The connection is closed without a byte of answer."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        _required(scope).close()
        await _let_server_see_the_close()


class TruncatedResponse(Response):
    """Headers promise the whole body (Content-Length); only ``fraction`` of it is sent before
    the connection is closed."""

    def __init__(self, original: Response, fraction: float) -> None:
        super().__init__(bytes(original.body), status_code=original.status_code,
                         media_type=original.media_type)
        self._fraction = fraction

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = _required(scope)
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        cut = int(len(self.body) * self._fraction)
        # more_body: the server must not check the length, nor end the response itself.
        await send({"type": "http.response.body", "body": bytes(self.body[:cut]),
                    "more_body": True})
        transport.close()  # flushes what was written, then FIN
        await _let_server_see_the_close()


class DribbledResponse(Response):
    """The whole body, ``chunk`` bytes at a time with ``interval`` seconds between writes."""

    def __init__(self, original: Response, chunk: int, interval: float) -> None:
        super().__init__(bytes(original.body), status_code=original.status_code,
                         media_type=original.media_type, headers=_extra_headers(original))
        self._chunk = chunk
        self._interval = interval

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        body = bytes(self.body)
        for start in range(0, len(body), self._chunk):
            last = start + self._chunk >= len(body)
            await send({"type": "http.response.body", "body": body[start:start + self._chunk],
                        "more_body": not last})
            if not last:
                await asyncio.sleep(self._interval)
        if not body:
            await send({"type": "http.response.body", "body": b""})


def _extra_headers(original: Response) -> dict[str, str]:
    skip = {b"content-length", b"content-type"}
    return {name.decode("latin-1"): value.decode("latin-1")
            for name, value in original.raw_headers if name not in skip}
