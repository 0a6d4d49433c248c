"""A follower worker's connections (``serve --workers N``; see ``runware_mock.supervisor``).

The leader runs the emulator; a follower takes the HTTP off its core. Each client connection's
requests are read one at a time:

- a ``POST /v1`` that cannot ask for a stream is offloaded (``transport.offload``): the leader
  answers its body through the same code as its own ``POST /v1``, and the follower writes the
  reply as the leader's HTTP server would;
- any other request (admin API, files, a WebSocket, a request the leader declines because a
  fault is armed) is relayed byte for byte over a connection of its own to the leader, and its
  reply is relayed back as it comes;
- from anything unusual on (a request line or header this reader does not take, a head
  uvicorn's parser refuses, which the leader answers 400 at once, a body sent in chunks or
  over 64 kB, ``Expect``, ``HEAD``, an upgrade, a reply it cannot read), the rest of the
  connection is relayed byte for byte both ways.

So every reply, every WebSocket frame and every fault the leader injects on the wire (a reset,
garbage bytes, a stalled reply) reaches the client as the leader made it. Requests on one
connection are answered in order, one at a time, as the leader's HTTP server answers them.
Each direction stops reading while the other side's buffer is full.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import http
import logging
import socket
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import cast

import httptools

from runware_mock.faults.wire import reset
from runware_mock.transport.offload import ChannelLost, ExchangeClient, Reply, no_delay

log = logging.getLogger("runware_mock.relay")

# Bodies up to this size are offloaded; a larger one (an upload) is relayed as it streams.
OFFLOAD_BODY_BYTES = 64 * 1024
# A request head longer than this is the leader's to refuse.
HEAD_BYTES = 64 * 1024
_OFFLOADED_PATHS = (b"/v1", b"/v1/", b"/")
# Past this, a follower reads no more of a client's requests until it has answered some (the
# largest request it reads whole is under half of it).
_BUFFERED_BYTES = 4 * (HEAD_BYTES + OFFLOAD_BODY_BYTES)


@dataclass(frozen=True, slots=True)
class _Request:
    raw: bytes
    offload: bool
    authorization: str
    body: bytes


# The rest of the connection is relayed as it is.
_UNUSUAL = object()


def _next_request(buffer: bytearray,
                  parser: httptools.HttpRequestParser) -> _Request | object | None:
    """The first whole request in ``buffer`` (taken out of it), ``_UNUSUAL``, or None while
    it is incomplete. ``parser`` is the connection's, fed each request taken: uvicorn's
    parser, so a request the leader would answer 400 (a NUL or CR in a header value, a space
    in or a non-ASCII header name) is the leader's to answer."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        # A head its parser refuses already (bare LF, a TLS hello, random bytes) is the
        # leader's to answer 400 at once, not one to wait for.
        too_long = len(buffer) > HEAD_BYTES
        return _UNUSUAL if too_long or _refused_by_parser(bytes(buffer)) else None
    lines = bytes(buffer[:end]).split(b"\r\n")
    request_line = lines[0].split(b" ")
    if len(request_line) != 3 or request_line[2] != b"HTTP/1.1" or request_line[0] == b"HEAD":
        return _UNUSUAL
    headers: dict[bytes, bytes] = {}
    repeated = False
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or value != value.rstrip():
            return _UNUSUAL
        key = name.lower()
        repeated = repeated or key in headers
        headers.setdefault(key, value.strip())
    if b"transfer-encoding" in headers or b"expect" in headers or b"upgrade" in headers:
        return _UNUSUAL
    length = headers.get(b"content-length", b"0")
    if not length.isdigit() or int(length) > OFFLOAD_BODY_BYTES:
        return _UNUSUAL
    total = end + 4 + int(length)
    if len(buffer) < total:
        return None
    raw = bytes(buffer[:total])
    if _refused(parser, raw):
        return _UNUSUAL  # the leader answers 400, as one worker would
    del buffer[:total]
    body = raw[end + 4:]
    offload = (request_line[0] == b"POST" and request_line[1] in _OFFLOADED_PATHS
               and not repeated and b"x-mock-fault" not in headers
               # A browser's request: the leader decides on its Origin (``cross_site``).
               and b"origin" not in headers and b"sec-fetch-site" not in headers
               and headers.get(b"connection", b"").lower() != b"close"
               # Any body that could ask for a stream ("stream", or spelled with escapes).
               and b"stream" not in body and b"\\u" not in body)
    return _Request(raw, offload, headers.get(b"authorization", b"").decode("latin-1"), body)


class _NoCallbacks:
    """httptools calls only the callbacks its protocol object has: none, to check requests."""


_NO_CALLBACKS = _NoCallbacks()


def _request_parser() -> httptools.HttpRequestParser:
    """A parser with the leader's rules (uvicorn's httptools protocol, its leniency too)."""
    parser = httptools.HttpRequestParser(_NO_CALLBACKS)
    parser.set_dangerous_leniencies(lenient_data_after_close=True)
    return parser


def _refused(parser: httptools.HttpRequestParser, data: bytes) -> bool:
    """Whether ``parser`` refuses ``data``, as the leader's would with a 400."""
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        return False
    except httptools.HttpParserError:
        return True
    return False


def _refused_by_parser(head: bytes) -> bool:
    """Whether the start of a head is refused already (bare LF, a TLS hello, random bytes)."""
    return _refused(_request_parser(), head)


class _DefaultHeaders:
    """The lines uvicorn starts each reply with, its date refreshed once a second."""

    def __init__(self) -> None:
        self._second = 0
        self._lines = b""

    def lines(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            date = email.utils.formatdate(now, usegmt=True).encode()
            self._lines = b"date: " + date + b"\r\nserver: uvicorn\r\n"
            self._second = now
        return self._lines


@functools.cache
def _status_line(status: int) -> bytes:
    return b"HTTP/1.1 %d %s\r\n" % (status, http.HTTPStatus(status).phrase.encode())


class _Leader(asyncio.Protocol):
    """The follower's connection to the leader for one client connection's relayed requests."""

    def __init__(self, client: _Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        no_delay(self.transport)

    def data_received(self, data: bytes) -> None:
        self.client.from_leader(data)

    def eof_received(self) -> bool:
        return False  # the leader's end of a connection closes it

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.leader_lost(self, exc)

    def pause_writing(self) -> None:
        self.client.pause_reading()

    def resume_writing(self) -> None:
        self.client.resume_reading()


class _Client(asyncio.Protocol):
    def __init__(self, relay: Relay) -> None:
        self._relay = relay
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._parser = _request_parser()
        self._leader: _Leader | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._early: list[bytes] = []  # for the leader, before its connection is made
        self._piping = False  # relaying the rest of the connection as it is
        self._busy = False  # a request is being answered
        self._response: httptools.HttpResponseParser | None = None
        self._close_after = False
        self._eof = False
        self._stopping = False
        self._closed = False
        self._idle: asyncio.TimerHandle | None = None
        self._idle_since: float | None = None
        # Since when the connection waits for the head of its next request (None while one
        # is being answered): a head not whole --header-timeout seconds later closes it.
        self._head_since: float | None = None

    # --- the client's socket
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        no_delay(self.transport)
        self._relay.clients.add(self)
        self._wait_idle()

    def data_received(self, data: bytes) -> None:
        if self._piping:
            self._to_leader(data)
            return
        self._buffer += data
        self._cancel_idle()
        if len(self._buffer) > _BUFFERED_BYTES:
            # Requests sent ahead faster than they are answered wait in the client's socket.
            self.pause_reading()
        self._next()

    def eof_received(self) -> bool:
        if self._piping and self._leader is not None and self._leader.transport is not None:
            # A client may shut down its sending side and still read the reply.
            if self._leader.transport.can_write_eof():
                self._leader.transport.write_eof()
            return True
        self._eof = True
        return self._busy  # when busy, closed once the request in hand is answered

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._idle is not None:
            self._idle.cancel()
        self._relay.clients.discard(self)
        if self._connecting is not None:
            self._connecting.cancel()
        leader = self._leader
        if leader is not None and leader.transport is not None:
            if exc is not None:
                reset(leader.transport)
            else:
                leader.transport.close()

    def pause_writing(self) -> None:
        if self._leader is not None and self._leader.transport is not None:
            self._leader.transport.pause_reading()

    def resume_writing(self) -> None:
        if self._leader is not None and self._leader.transport is not None:
            self._leader.transport.resume_reading()

    def pause_reading(self) -> None:
        if self.transport is not None and not self._closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self._closed:
            self.transport.resume_reading()

    # --- one request at a time
    def _next(self) -> None:
        while not (self._busy or self._piping or self._closed):
            if len(self._buffer) <= _BUFFERED_BYTES:
                self.resume_reading()
            request = _next_request(self._buffer, self._parser)
            if request is None:
                if self._eof:
                    self._close()
                else:
                    self._wait_idle()
                return
            if request is _UNUSUAL:
                self._pipe_from_here()
                return
            assert isinstance(request, _Request)
            self._busy = True
            self._head_since = None
            if request.offload:
                self._relay.exchanges.exchange(request.authorization, request.body,
                                               functools.partial(self._offloaded, request))
            else:
                self._forward(request.raw)

    def _offloaded(self, request: _Request, reply: Reply | ChannelLost) -> None:
        try:
            self._write_offloaded(request, reply)
        except Exception:
            # A bug here never leaves a client waiting (nor stops the channel's other replies).
            log.exception("an offloaded request failed")
            if self.transport is not None and not self._closed:
                reset(self.transport)

    def _write_offloaded(self, request: _Request, reply: Reply | ChannelLost) -> None:
        if self._closed:
            return
        if isinstance(reply, ChannelLost):
            # The leader died with the request in hand: the connection goes as it would have
            # on its own socket.
            assert self.transport is not None
            reset(self.transport)
            return
        if reply is None:  # declined: the wire is the leader's business
            self._forward(request.raw)
            return
        status, headers, body = reply
        assert self.transport is not None
        self.transport.write(b"".join((_status_line(status), self._relay.default.lines(),
                                       headers, b"\r\n", body)))
        self._done()

    def _forward(self, raw: bytes) -> None:
        self._response = httptools.HttpResponseParser(self)
        self._close_after = False
        self._to_leader(raw)

    def _done(self) -> None:
        self._busy = False
        if self._close_after or self._stopping:
            self._close()
            return
        if not (self._buffer or self._eof):
            self._wait_idle()  # the usual case: the next request has not come yet
            return
        asyncio.get_running_loop().call_soon(self._next)

    def _pipe_from_here(self) -> None:
        self._piping = True
        self._head_since = None  # the leader's own header timeout takes over
        self._cancel_idle()
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            self._to_leader(data)
        self.resume_reading()  # the leader's connection pauses it when it is full

    # --- the leader's replies to relayed requests (httptools' response parser calls these)
    def on_headers_complete(self) -> None:
        assert self._response is not None
        self._close_after = not self._response.should_keep_alive()

    def on_message_complete(self) -> None:
        self._response = None
        self._done()

    def from_leader(self, data: bytes) -> None:
        if self._closed or self.transport is None:
            return
        self.transport.write(data)
        if self._piping:
            return
        if self._response is None:  # bytes nobody asked for: the leader's, as they are
            self._pipe_from_here()
            return
        try:
            self._response.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            # An upgrade, or a reply the leader spoiled on purpose: relayed as it is.
            self._response = None
            self._pipe_from_here()

    def leader_lost(self, leader: _Leader, exc: Exception | None) -> None:
        if leader is not self._leader:
            return
        self._leader = None
        if not (self._piping or self._response is not None):
            return  # an idle connection the leader let go: the next relayed request opens one
        if self.transport is not None and not self._closed:
            if exc is not None:
                reset(self.transport)
            else:
                self.transport.close()

    def _to_leader(self, data: bytes) -> None:
        if self._leader is not None and self._leader.transport is not None:
            self._leader.transport.write(data)
            return
        self._early.append(data)
        if self._connecting is None:
            self._connecting = self._relay.spawn(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, leader = await loop.create_connection(lambda: _Leader(self), *self._relay.leader)
        except OSError as exc:
            # The leader's socket is the supervisor's too, and outlives a leader that died: a
            # connection waits in its backlog for the next one, so this is rare (shutdown).
            log.warning("cannot reach the leader worker: %s", exc)
            if self.transport is not None and not self._closed:
                self.transport.abort()
            return
        finally:
            self._connecting = None
        assert leader.transport is not None
        if self._closed:
            leader.transport.close()
            return
        self._leader = leader
        for data in self._early:
            leader.transport.write(data)
        self._early.clear()

    def shut_down(self) -> None:
        """As uvicorn at shutdown: closed now when idle, else once the request in hand is
        answered (a relayed connection is closed by the leader's own shutdown)."""
        self._stopping = True
        if not (self._busy or self._piping):
            self._close()

    # --- keep-alive, as uvicorn's: an idle connection is closed after a while, and one that
    # takes longer than the header timeout to send a head (as the leader's protocol does). One
    # timer per connection, set again only when it finds the connection was busy since: a
    # timer made and cancelled per request costs a follower several percent of its time
    # (measured).
    def _wait_idle(self) -> None:
        if self._busy or self._piping or self._closed:
            return
        loop = asyncio.get_running_loop()
        self._idle_since = loop.time()
        if self._head_since is None:
            self._head_since = self._idle_since
        if self._idle is None:
            self._idle = loop.call_at(self._due(), self._idle_over)

    def _cancel_idle(self) -> None:
        self._idle_since = None

    def _due(self) -> float:
        assert self._idle_since is not None and self._head_since is not None
        return min(self._idle_since + self._relay.keep_alive,
                   self._head_since + self._relay.header_timeout)

    def _idle_over(self) -> None:
        self._idle = None
        if self._idle_since is None or self._head_since is None:
            return  # busy: idle again later, it sets the timer again
        due = self._due()
        loop = asyncio.get_running_loop()
        if loop.time() >= due:
            self._close()
        else:
            self._idle = loop.call_at(due, self._idle_over)

    def _close(self) -> None:
        if self.transport is not None and not self._closed:
            self.transport.close()


class Relay:
    """Accepts on ``listener``; relays to the leader's ``leader`` (host, port) and offloads to
    its Unix socket ``exchanges``, keeping up to ``reused`` reusable answers."""

    def __init__(self, listener: socket.socket, leader: tuple[str, int],
                 exchanges: str, keep_alive: float, reused: int,
                 header_timeout: float = 10.0) -> None:
        self._listener = listener
        self.leader = leader
        self.exchanges = ExchangeClient(exchanges, reused)
        self.keep_alive = keep_alive
        self.header_timeout = header_timeout
        self.default = _DefaultHeaders()
        self.clients: set[_Client] = set()
        self._running: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Client(self), sock=self._listener)

    def spawn(self, work: Coroutine[None, None, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def close(self, grace: float) -> None:
        """Stop accepting; connections still open after ``grace`` seconds are cut."""
        if self._server is None:
            return
        self._server.close()
        for client in list(self.clients):
            client.shut_down()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.clients and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for task in list(self._running):
            task.cancel()
        for client in list(self.clients):
            if client.transport is not None:
                client.transport.abort()
        self.exchanges.close()

