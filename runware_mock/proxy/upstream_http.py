"""The relay's HTTP/1.1 client: kept-alive connections to the upstream, each an asyncio
protocol whose answers httptools parses (the parser uvicorn serves with, already installed).

httpx and httpcore were measured first: their layers (anyio, h11, the pool's bookkeeping) cost
the proxy about a millisecond of CPU per request on the 2-core machine, three times what the
emulator spends answering it. The relay needs little of them: one method, bytes in, bytes out
as they arrive, a body already de-chunked."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools


class UpstreamError(Exception):
    """The upstream could not be reached, or broke off its answer."""


@dataclass
class UpstreamResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    _connection: _Connection = field(repr=False)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (de-chunked); the connection goes back to the pool after."""
        while True:
            chunk = await self._connection.next_chunk()
            if chunk is None:
                return
            yield chunk


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._headers: list[tuple[bytes, bytes]] = []
        self._head: asyncio.Future[UpstreamResponse] | None = None
        self._body: asyncio.Queue[bytes | Exception | None] = asyncio.Queue()
        self.complete = False
        self.keep_alive = False
        self.answered = False  # a byte of the answer arrived

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.answered = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"the upstream's answer is not HTTP: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.complete:
            reason = f": {exc}" if exc else ""
            self._fail(UpstreamError(f"the upstream closed the connection{reason}"))

    # -- httptools callbacks --------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        if 100 <= self.parser.get_status_code() < 200:
            self._headers = []  # an interim answer (103 Early Hints...): the final one follows
            return
        if self._head is not None and not self._head.done():
            self._head.set_result(UpstreamResponse(self.parser.get_status_code(), self._headers,
                                                   self))

    def on_body(self, body: bytes) -> None:
        self._body.put_nowait(body)

    def on_message_complete(self) -> None:
        if 100 <= self.parser.get_status_code() < 200:
            return
        self.complete = True
        # Asked now: the parser forgets it once the message is over.
        self.keep_alive = self.parser.should_keep_alive()
        self._body.put_nowait(None)

    # -- the client's side ----------------------------------------------------------------

    def send(self, request: bytes) -> asyncio.Future[UpstreamResponse]:
        self._headers, self.complete, self.keep_alive, self.answered = [], False, False, False
        self._body = asyncio.Queue()
        self._head = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(request)
        return self._head

    async def next_chunk(self) -> bytes | None:
        chunk = await self._body.get()
        if isinstance(chunk, Exception):
            raise chunk
        return chunk

    @property
    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True

    def _fail(self, problem: Exception) -> None:
        if self._head is not None and not self._head.done():
            self._head.set_exception(problem)
        self._body.put_nowait(problem)


class UpstreamPool:
    """``async with pool.post(headers, body) as response``: one request on a kept-alive
    connection (a new one when none is idle), given back once its answer was read whole."""

    def __init__(self, url: str, keep_alive: float, connect_timeout: float,
                 read_timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream: not an http(s) URL: {url!r}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default = (parts.scheme, self._port) in (("http", 80), ("https", 443))
        self._host_header = (parts.netloc if not default else parts.hostname).encode()
        self._keep_alive = keep_alive
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._idle: list[_Connection] = []

    async def post(self, headers: list[tuple[bytes, bytes]], body: bytes,
                   query: bytes = b"") -> UpstreamResponse:
        """The answer's status and headers; read its ``chunks()`` to the end."""
        target = self._target.encode() + (b"?" + query if query else b"")
        lines = [b"POST ", target, b" HTTP/1.1\r\nhost: ", self._host_header,
                 b"\r\ncontent-length: ", str(len(body)).encode(), b"\r\n"]
        for name, value in headers:
            lines += [name, b": ", value, b"\r\n"]
        request = b"".join([*lines, b"\r\n", body])
        connection, reused = await self._connection()
        try:
            async with asyncio.timeout(self._read_timeout):
                return await connection.send(request)
        except UpstreamError:
            connection.close()
            if reused and not connection.answered:  # closed while idle: the request was lost
                connection, _ = await self._fresh()
                async with asyncio.timeout(self._read_timeout):
                    return await connection.send(request)
            raise
        except TimeoutError as exc:
            connection.close()
            raise UpstreamError("the upstream did not answer in time") from exc

    def give_back(self, response: UpstreamResponse) -> None:
        connection = response._connection
        if connection.reusable:
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.append(connection)
        else:
            connection.close()

    async def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    async def _connection(self) -> tuple[_Connection, bool]:
        now = asyncio.get_running_loop().time()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < self._keep_alive:
                return connection, True
            connection.close()
        return (await self._fresh())[0], False

    async def _fresh(self) -> tuple[_Connection, bool]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    _Connection, self._host, self._port, ssl=self._ssl)
        except (OSError, TimeoutError) as exc:
            raise UpstreamError(f"cannot connect to {self._host}:{self._port}: "
                                f"{exc.__class__.__name__}") from exc
        return connection, False
