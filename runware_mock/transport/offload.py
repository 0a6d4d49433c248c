"""``POST /v1`` exchanges a follower worker hands to the leader without their HTTP.

With ``serve --workers N`` the leader runs every task, so a follower cannot answer a request
itself; but it can take the HTTP off the leader's core: it parses the request, sends the
leader only its Authorization header and body over a channel of length-prefixed frames, and
writes the leader's reply as the leader's HTTP server would have written it. The leader
answers through the same code as ``POST /v1`` (``rest.relayed_exchange``): the same journal
entry, counters, acks after commit and errors. A request whose answer is the wire's business
(a fault rule or profile armed, an ``X-Mock-Fault`` header) is declined, and the follower relays
it byte for byte instead.

Frames are a 4-byte big-endian length and a ``marshal``-encoded tuple: a request is
``(id, authorization, body)``, a reply ``(id, None)`` when declined, else
``(id, status, header lines, body)``.
"""

from __future__ import annotations

import asyncio
import itertools
import marshal
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any, cast

_LENGTH = struct.Struct("!I")
# A reply: the status, the header lines (b"name: value\r\n"...) and the body; None: declined.
Reply = tuple[int, bytes, bytes] | None
Answer = Callable[[str, bytes], Awaitable[Reply]]


def frame(value: Any) -> bytes:
    data = marshal.dumps(value)
    return _LENGTH.pack(len(data)) + data


class _Batched:
    """Frames written once per turn of the event loop: one send for every exchange that
    turn, where a send each cost a fifth of the leader's time (measured)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._pending: list[bytes] = []

    def write(self, value: Any) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(frame(value))

    def _flush(self) -> None:
        data, self._pending = b"".join(self._pending), []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class _Frames:
    """Splits a byte stream into decoded frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self._buffer += data
        found = []
        offset = 0
        while len(self._buffer) - offset >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self._buffer, offset)
            end = offset + _LENGTH.size + length
            if len(self._buffer) < end:
                break
            found.append(marshal.loads(self._buffer[offset + _LENGTH.size:end]))
            offset = end
        del self._buffer[:offset]
        return found


# --- the leader's side ------------------------------------------------------------------------

class ExchangeServer:
    """Answers the followers' exchanges with ``answer(authorization, body)``."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self._server: asyncio.Server | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def start(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _LeaderChannel(self), sock=listener)

    def spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def answer(self, channel: _LeaderChannel, request_id: int, authorization: str,
                     body: bytes) -> None:
        reply = await self._answer(authorization, body)
        channel.send((request_id, *reply) if reply is not None else (request_id, None))

    async def close(self, grace: float) -> None:
        """Take no more exchanges; those still running after ``grace`` seconds are cancelled
        (as the leader's HTTP server treats requests in flight at shutdown)."""
        if self._server is not None:
            self._server.close()
        if self._running:
            await asyncio.wait(list(self._running), timeout=grace)
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)


class _LeaderChannel(asyncio.Protocol):
    def __init__(self, server: ExchangeServer) -> None:
        self._server = server
        self._frames = _Frames()
        self._out = _Batched()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._out.transport = cast(asyncio.Transport, transport)
        no_delay(self._out.transport)

    def data_received(self, data: bytes) -> None:
        for request_id, authorization, body in self._frames.feed(data):
            self._server.spawn(self._server.answer(self, request_id, authorization, body))

    def send(self, reply: tuple[Any, ...]) -> None:
        self._out.write(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._out.transport = None


# --- a follower's side ------------------------------------------------------------------------

class ChannelLost(ConnectionError):
    """The leader went away while an exchange was out: it may or may not have been answered."""


class ExchangeClient:
    """One channel to the leader, shared by a follower's connections; opened when first used
    and again after the leader was forked again."""

    def __init__(self, leader: tuple[str, int]) -> None:
        self._leader = leader
        self._channel: _FollowerChannel | None = None
        self._opening: asyncio.Future[_FollowerChannel] | None = None
        self._ids = itertools.count()

    async def exchange(self, authorization: str, body: bytes) -> Reply:
        """The leader's reply; None when it declined. Raises ``ChannelLost``."""
        channel = await self._open()
        return await channel.ask(next(self._ids), authorization, body)

    async def _open(self) -> _FollowerChannel:
        """The open channel; the exchanges that find none wait for one connection together."""
        if self._channel is not None and not self._channel.lost:
            return self._channel
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._connect())
        opening = self._opening
        try:
            channel = await asyncio.shield(opening)
        finally:
            if self._opening is opening and opening.done():
                self._opening = None
        self._channel = channel
        return channel

    async def _connect(self) -> _FollowerChannel:
        loop = asyncio.get_running_loop()
        try:
            _, channel = await loop.create_connection(_FollowerChannel, *self._leader)
        except OSError as exc:
            raise ChannelLost(f"cannot reach the leader: {exc}") from exc
        return channel

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()


class _FollowerChannel(asyncio.Protocol):
    def __init__(self) -> None:
        self._frames = _Frames()
        self._out = _Batched()
        self._waiting: dict[int, asyncio.Future[Reply]] = {}
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._out.transport = cast(asyncio.Transport, transport)
        no_delay(self._out.transport)

    async def ask(self, request_id: int, authorization: str, body: bytes) -> Reply:
        if self.lost or self._out.transport is None:
            raise ChannelLost("the channel to the leader is closed")
        waiter: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = waiter
        self._out.write((request_id, authorization, body))
        try:
            return await waiter
        finally:
            self._waiting.pop(request_id, None)

    def data_received(self, data: bytes) -> None:
        for reply in self._frames.feed(data):
            waiter = self._waiting.get(reply[0])
            if waiter is not None and not waiter.done():
                waiter.set_result(None if reply[1] is None else (reply[1], reply[2], reply[3]))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(ChannelLost("the leader went away mid-exchange"))

    def close(self) -> None:
        if self._out.transport is not None:
            self._out.transport.close()


def no_delay(transport: asyncio.Transport) -> None:
    """Small frames and replies go out at once (Nagle's algorithm off)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
