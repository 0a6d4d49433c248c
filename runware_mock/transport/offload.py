"""``POST /v1`` exchanges a follower worker hands to the leader without their HTTP.

With ``serve --workers N`` the leader runs every task, so a follower cannot answer a request
itself; but it can take the HTTP off the leader's core: it parses the request, sends the
leader only its Authorization header and body over a channel of length-prefixed frames, and
writes the leader's reply as the leader's HTTP server would have written it. The leader
answers through the same code as ``POST /v1`` (``rest.relayed_exchange``): the same journal
entry, counters, acks after commit and errors. A request whose answer is the wire's business
(a fault rule or profile armed, an ``X-Mock-Fault`` header) is declined, and the follower relays
it byte for byte instead.

An answer to a getResponse of finished tasks does not change until something it depends on
does (an admin change, a fault armed, a task forgotten), so the leader marks it reusable with
its *revision*, a number it moves on at every such change. A follower keeps reusable answers
(``--reused-answers``) and, when the same request comes again on any connection, asks the
leader only to confirm: the leader journals the answer and says it stands, or, when its
revision has moved on, answers the request afresh. The leader's work per reused answer is a
comparison and a journal entry, and no answer is ever given that the leader would not give.

Frames are a 4-byte big-endian length and a ``marshal``-encoded tuple. From a follower:
``(id, authorization, body)``, or ``(id, authorization, body, revision, status, answer body)``
to reuse an answer. From the leader: ``(id, None)`` when declined, ``(id,)`` when a reused
answer stands, else ``(id, status, header lines, body, revision or None)``.
"""

from __future__ import annotations

import asyncio
import itertools
import marshal
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

_LENGTH = struct.Struct("!I")
# The most a kept answer and its request (the Authorization header included) may take: so a
# follower's kept answers take at most --reused-answers times this; a larger one is answered
# afresh each time.
KEPT_BYTES = 8 * 1024
# A reply: the status, the header lines (b"name: value\r\n"...) and the body; None: declined.
Reply = tuple[int, bytes, bytes] | None
# The leader's answer: a reply and whether it may be reused; None: declined.
Answered = tuple[int, bytes, bytes, bool] | None
Answer = Callable[[str, bytes], Awaitable[Answered]]
# Journals a reused answer (authorization, body, status, answer body); False: declined, the
# answer is the wire's business now (a fault is armed).
Reuse = Callable[[str, bytes, int, bytes], bool]


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
    """Answers the followers' exchanges with ``answer(authorization, body)``, and confirms
    their reused answers with ``reuse(...)`` while the revision they were made at stands."""

    def __init__(self, answer: Answer, reuse: Reuse) -> None:
        self._answer = answer
        self._reuse = reuse
        self._server: asyncio.Server | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.revision = 0

    def changed(self) -> None:
        """Something answers may depend on changed: no answer made before is reused."""
        self.revision += 1

    async def start(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _LeaderChannel(self), sock=listener)

    def take(self, channel: _LeaderChannel, message: tuple[Any, ...]) -> None:
        request_id, authorization, body = message[:3]
        if len(message) == 6 and message[3] == self.revision and \
                self._reuse(authorization, body, message[4], message[5]):
            channel.send((request_id,))
            return
        task = asyncio.ensure_future(self._answered(channel, request_id, authorization, body))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _answered(self, channel: _LeaderChannel, request_id: int, authorization: str,
                        body: bytes) -> None:
        # Taken first: a change while the answer is made leaves it marked as made before it.
        revision = self.revision
        answered = await self._answer(authorization, body)
        if answered is None:
            channel.send((request_id, None))
            return
        status, headers, answer, reusable = answered
        channel.send((request_id, status, headers, answer, revision if reusable else None))

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
        for message in self._frames.feed(data):
            self._server.take(self, message)

    def send(self, reply: tuple[Any, ...]) -> None:
        self._out.write(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._out.transport = None


# --- a follower's side ------------------------------------------------------------------------

class ChannelLost(ConnectionError):
    """The leader went away while an exchange was out: it may or may not have been answered."""


@dataclass(frozen=True, slots=True)
class _Kept:
    """A reusable answer, and the leader's revision it was made at."""

    revision: int
    status: int
    headers: bytes
    body: bytes


# What an exchange comes to: the leader's reply, None when it declined, or ChannelLost.
Done = Callable[[Reply | ChannelLost], None]
# What the leader sent back for a message, or ChannelLost.
_OnAnswer = Callable[[tuple[Any, ...] | ChannelLost], None]


class ExchangeClient:
    """One channel to the leader's Unix socket at ``leader``, shared by a follower's
    connections; opened when first used and again after the leader was forked again. Keeps up
    to ``reused`` reusable answers.

    Callbacks rather than coroutines: a task and a future per request cost a follower a
    tenth of its time (measured)."""

    def __init__(self, leader: str, reused: int) -> None:
        self._leader = leader
        self._channel: _FollowerChannel | None = None
        self._opening: asyncio.Future[_FollowerChannel] | None = None
        self._ids = itertools.count()
        self._most_kept = reused
        # By (authorization, body); the oldest first, so the first is the one let go.
        self._kept: dict[tuple[str, bytes], _Kept] = {}

    def exchange(self, authorization: str, body: bytes, done: Done) -> None:
        """Hand ``done`` the leader's reply (None when it declined), or ``ChannelLost``."""
        channel = self._channel
        if channel is None or channel.lost:
            self._when_open(lambda: self.exchange(authorization, body, done), done)
            return
        key = (authorization, body)
        kept = self._kept.get(key)
        message: tuple[Any, ...] = (next(self._ids), authorization, body)
        if kept is not None:
            message += (kept.revision, kept.status, kept.body)

        def answered(answer: tuple[Any, ...] | ChannelLost) -> None:
            done(answer if isinstance(answer, ChannelLost) else self._reply(key, kept, answer))

        channel.ask(message, answered)

    def _reply(self, key: tuple[str, bytes], kept: _Kept | None, answer: tuple[Any, ...]) -> Reply:
        if len(answer) == 1:  # the kept answer stands
            assert kept is not None
            return kept.status, kept.headers, kept.body
        if answer[1] is None:
            return None
        _, status, headers, body, revision = answer
        if revision is not None:
            self._keep(key, _Kept(revision, status, headers, body))
        elif kept is not None:
            del self._kept[key]
        return status, headers, body

    def _keep(self, key: tuple[str, bytes], kept: _Kept) -> None:
        self._kept.pop(key, None)
        if len(key[0]) + len(key[1]) + len(kept.headers) + len(kept.body) > KEPT_BYTES:
            return
        if len(self._kept) >= self._most_kept:
            if not self._most_kept:
                return
            del self._kept[next(iter(self._kept))]
        self._kept[key] = kept

    def _when_open(self, then: Callable[[], None], failed: Done) -> None:
        """``then()`` once a channel is open, or ``failed(ChannelLost)``; the exchanges that
        find none wait for one connection together."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._connect())
            self._opening.add_done_callback(self._opened)

        def go_on(opening: asyncio.Future[_FollowerChannel]) -> None:
            if opening.cancelled():
                failed(ChannelLost("the follower is stopping"))
            elif isinstance(lost := opening.exception(), ChannelLost):
                failed(lost)
            else:
                then()

        self._opening.add_done_callback(go_on)

    def _opened(self, opening: asyncio.Future[_FollowerChannel]) -> None:
        self._opening = None
        if not opening.cancelled() and opening.exception() is None:
            # Another leader: the revisions counted by the last one mean nothing to it.
            self._kept.clear()
            self._channel = opening.result()

    async def _connect(self) -> _FollowerChannel:
        loop = asyncio.get_running_loop()
        try:
            _, channel = await loop.create_unix_connection(_FollowerChannel, self._leader)
        except OSError as exc:
            raise ChannelLost(f"cannot reach the leader: {exc}") from exc
        return channel

    def close(self) -> None:
        if self._opening is not None:
            self._opening.cancel()
        if self._channel is not None:
            self._channel.close()


class _FollowerChannel(asyncio.Protocol):
    def __init__(self) -> None:
        self._frames = _Frames()
        self._out = _Batched()
        self._waiting: dict[int, _OnAnswer] = {}
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._out.transport = cast(asyncio.Transport, transport)
        no_delay(self._out.transport)

    def ask(self, message: tuple[Any, ...], answered: _OnAnswer) -> None:
        if self.lost or self._out.transport is None:
            answered(ChannelLost("the channel to the leader is closed"))
            return
        self._waiting[message[0]] = answered
        self._out.write(message)

    def data_received(self, data: bytes) -> None:
        for answer in self._frames.feed(data):
            answered = self._waiting.pop(answer[0], None)
            if answered is not None:
                answered(answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        waiting, self._waiting = self._waiting, {}
        for answered in waiting.values():
            answered(ChannelLost("the leader went away mid-exchange"))

    def close(self) -> None:
        if self._out.transport is not None:
            self._out.transport.close()


def no_delay(transport: asyncio.Transport) -> None:
    """Small frames and replies go out at once (Nagle's algorithm off)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
