"""A follower worker's connections: each client connection is relayed, byte for byte, to the
leader worker, which runs the emulator (``serve --workers N``; see ``runware_mock.supervisor``).

The relay reads nothing of what it carries, so every request, reply, WebSocket frame, and every
fault the leader injects on the wire (a dropped connection, garbage bytes, a stalled reply)
reaches the client exactly as the leader made it. Each direction stops reading while the other
side's buffer is full, so a slow reader never makes the relay hold unbounded data.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import cast

from runware_mock.faults.wire import reset

log = logging.getLogger("runware_mock.relay")


class _Side(asyncio.Protocol):
    """One socket of a relayed pair; what it reads goes to ``peer``'s transport."""

    def __init__(self, on_lost: Callable[[_Side], None] | None = None) -> None:
        # Only the client side is told when it is lost (the relay counts open connections).
        self.is_client = on_lost is not None
        self._on_lost = on_lost
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        # Read before the peer was connected (only the client side: the leader's connection
        # is made before it can send anything).
        self.early: list[bytes] = []
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        _no_delay(transport)

    def data_received(self, data: bytes) -> None:
        if self.peer is None or self.peer.transport is None:
            self.early.append(data)
        else:
            self.peer.transport.write(data)

    def eof_received(self) -> bool:
        """A client's half-close is passed on (it may shut down its sending side and still
        read the reply); the leader's end of a connection closes it (an idle client would
        otherwise hold it open)."""
        if self.is_client and self.peer is not None and self.peer.transport is not None and \
                self.peer.transport.can_write_eof():
            self.peer.transport.write_eof()
            return True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._on_lost is not None:
            self._on_lost(self)
        peer = self.peer
        if peer is None or peer.transport is None or peer.closed:
            return
        if exc is not None:
            reset(peer.transport)  # a reset is passed on as a reset, not as a clean close
        else:
            peer.transport.close()

    # Flow control: while this side cannot write, its peer stops reading.
    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None and not self.peer.closed:
            self.peer.transport.resume_reading()


class Relay:
    """Accepts on ``listener`` and relays each connection to ``leader`` (host, port)."""

    def __init__(self, listener: socket.socket, leader: tuple[str, int]) -> None:
        self._listener = listener
        self._leader = leader
        self._pairs: set[asyncio.Task[None]] = set()
        # The client sides of the connections open now, to cut those left at shutdown.
        self._clients: set[_Side] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._accepted, sock=self._listener)

    def _accepted(self) -> _Side:
        client = _Side(on_lost=self._clients.discard)
        self._clients.add(client)
        pairing = asyncio.get_running_loop().create_task(self._pair(client))
        self._pairs.add(pairing)
        pairing.add_done_callback(self._pairs.discard)
        return client

    async def _pair(self, client: _Side) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, leader = await loop.create_connection(_Side, *self._leader)
        except OSError as exc:
            # The leader's socket is the supervisor's too, and outlives a leader that died: a
            # connection waits in its backlog for the next one, so this is rare (shutdown).
            log.warning("cannot reach the leader worker: %s", exc)
            if client.transport is not None:
                client.transport.abort()
            return
        assert leader.transport is not None
        if client.closed:
            leader.transport.close()
            return
        client.peer, leader.peer = leader, client
        for data in client.early:
            leader.transport.write(data)
        client.early.clear()

    async def close(self, grace: float) -> None:
        """Stop accepting; connections still open after ``grace`` seconds are cut."""
        if self._server is None:
            return
        self._server.close()
        deadline = asyncio.get_running_loop().time() + grace
        while self._clients and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        for pairing in list(self._pairs):
            pairing.cancel()
        for client in list(self._clients):
            if client.transport is not None:
                client.transport.abort()


def _no_delay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
