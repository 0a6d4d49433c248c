"""The WebSocket ``/v1`` through the proxy: a connection to the upstream per client connection,
the handshake's headers forwarded (the key too), and every frame relayed as it comes, in order,
each way; a close on one side closes the other with the same code."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from runware_mock.proxy.observer import Observer, SocketObservation
from runware_mock.proxy.relay_rest import HOP_BY_HOP

log = logging.getLogger("runware_mock.proxy")

# The handshake's own headers: the client library makes them for the upstream connection.
_HANDSHAKE = HOP_BY_HOP | {b"sec-websocket-key", b"sec-websocket-version",
                           b"sec-websocket-extensions", b"sec-websocket-accept",
                           b"sec-websocket-protocol"}
_GONE = (WebSocketDisconnect, ConnectionClosed, RuntimeError, OSError)


class WebSocketRelay:
    def __init__(self, upstream: str, observer: Observer, max_frame: int) -> None:
        self._upstream = upstream
        self._observer = observer
        self._max_frame = max_frame

    async def __call__(self, websocket: WebSocket) -> None:
        headers = [(name.decode("latin-1"), value.decode("latin-1"))
                   for name, value in websocket.scope["headers"] if name not in _HANDSHAKE]
        protocols = websocket.scope.get("subprotocols") or None
        try:
            upstream = await connect(self._upstream, additional_headers=headers,
                                     subprotocols=protocols, max_size=self._max_frame,
                                     ping_interval=None, compression=None, open_timeout=30,
                                     user_agent_header=None)  # the client's is forwarded
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            await websocket.accept()
            await websocket.close(code=1011, reason=f"upstream unreachable: "
                                  f"{exc.__class__.__name__}"[:120])
            return
        await websocket.accept(subprotocol=upstream.subprotocol)
        authorization = websocket.headers.get("authorization", "")
        observation = self._observer.websocket(authorization)
        try:
            await _relay(websocket, upstream, observation)
        finally:
            observation.closed()


async def _relay(websocket: WebSocket, upstream: ClientConnection,
                 observation: SocketObservation) -> None:
    to_upstream = asyncio.create_task(_client_to_upstream(websocket, upstream, observation))
    to_client = asyncio.create_task(_upstream_to_client(websocket, upstream, observation))
    done, pending = await asyncio.wait({to_upstream, to_client},
                                       return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    code = 1000
    with contextlib.suppress(*_GONE):
        await upstream.close()
    if upstream.close_code is not None and to_client in done:
        code = upstream.close_code
    with contextlib.suppress(*_GONE):
        await websocket.close(code=code if code not in (1005, 1006) else 1011,
                              reason=upstream.close_reason or "")


async def _client_to_upstream(websocket: WebSocket, upstream: ClientConnection,
                              observation: SocketObservation) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            with contextlib.suppress(*_GONE):
                await upstream.close(code=message.get("code", 1000))
            return
        frame = message.get("text")
        if frame is None:
            frame = message.get("bytes") or b""
        try:
            await upstream.send(frame)
        except ConnectionClosed:
            return
        observation.sent(frame)


async def _upstream_to_client(websocket: WebSocket, upstream: ClientConnection,
                              observation: SocketObservation) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for frame in upstream:
            observation.received(frame)  # first: a client that has it finds it counted
            try:
                if isinstance(frame, str):
                    await websocket.send_text(frame)
                else:
                    await websocket.send_bytes(frame)
            except _GONE:
                return
