"""The proxy's HTTP/1.1 client against small servers on 127.0.0.1 that misbehave on purpose."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from runware_mock.proxy.upstream_http import UpstreamError, UpstreamPool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
CHUNKED = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
           b"transfer-encoding: chunked\r\n\r\n6\r\ndata: \r\n3\r\n1\n\n\r\n0\r\n\r\n")


async def _request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    return head + await reader.readexactly(length)


async def _served(handler: Handler, work: Callable[[UpstreamPool], Awaitable[object]]
                  ) -> tuple[object, int]:
    """What ``work`` returns with a pool on a server running ``handler``, and how many
    connections the server took."""
    connections = 0

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = UpstreamPool(f"http://127.0.0.1:{port}/v1", 5.0, 5.0, 5.0)
    try:
        return await work(pool), connections
    finally:
        await pool.close()
        server.close()


async def _body(pool: UpstreamPool) -> tuple[int, bytes]:
    response = await pool.post([(b"authorization", b"Bearer k")], b"[]")
    body = b"".join([chunk async for chunk in response.chunks()])
    pool.give_back(response)
    return response.status, body


def test_connections_are_kept_alive_and_bodies_read_whole() -> None:
    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                request = await _request(reader)
            except asyncio.IncompleteReadError:
                return
            assert request.startswith(b"POST /v1 HTTP/1.1\r\n") and b"Bearer k" in request
            writer.write(OK)

    async def twice(pool: UpstreamPool) -> list[tuple[int, bytes]]:
        return [await _body(pool), await _body(pool)]

    answers, connections = asyncio.run(_served(keep_alive, twice))
    assert answers == [(200, b"{}"), (200, b"{}")] and connections == 1


def test_a_chunked_answer_is_read_de_chunked() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.write(CHUNKED)
        await writer.drain()

    (status, body), _ = asyncio.run(_served(chunked, _body))
    assert status == 200 and body == b"data: 1\n\n"


def test_an_interim_answer_is_not_taken_for_the_answer() -> None:
    async def early_hints(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n" + OK)
        await writer.drain()

    (status, body), _ = asyncio.run(_served(early_hints, _body))
    assert status == 200 and body == b"{}"


def test_a_connection_the_server_closes_is_not_used_again() -> None:
    async def one_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)  # answers as if kept alive, then closes
        writer.write(OK)
        await writer.drain()

    async def twice(pool: UpstreamPool) -> list[tuple[int, bytes]]:
        # Whether the close reaches the pool before the second request (the connection is
        # not used again) or after it was sent (it is sent again on a new one), it is answered.
        return [await _body(pool), await _body(pool)]

    answers, connections = asyncio.run(_served(one_each, twice))
    assert answers == [(200, b"{}")] * 2 and connections == 2


@pytest.mark.parametrize("answer", [b"not http at all\r\n\r\n", b""])
def test_garbage_or_a_closed_connection_is_an_upstream_error(answer: bytes) -> None:
    async def broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.write(answer)
        await writer.drain()

    with pytest.raises(UpstreamError):
        asyncio.run(_served(broken, _body))


def test_nothing_listening_is_an_upstream_error() -> None:
    async def connect() -> None:
        pool = UpstreamPool("http://127.0.0.1:9/v1", 5.0, 5.0, 5.0)
        await pool.post([], b"[]")

    with pytest.raises(UpstreamError, match="cannot connect"):
        asyncio.run(connect())
