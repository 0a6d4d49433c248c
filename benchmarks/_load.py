"""Shared benchmark plumbing: start servers as subprocesses, drive load over keep-alive sockets.

The load generator speaks minimal HTTP/1.1 over raw asyncio streams because a full client
(httpx) would saturate a core before the server does, and the ratios would measure the client.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MakeBody = Callable[[int], bytes]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def process(args: list[str], port: int,
            timeout: float = 30.0) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout)
        yield child
    finally:
        child.terminate()
        child.wait(timeout=20)


def emulator(port: int, data_dir: str | None, *extra: str) -> list[str]:
    """``runware-mock serve`` on ``data_dir`` (durable), or on a temporary one (None:
    ``--ephemeral``)."""
    where = ["--data-dir", data_dir] if data_dir is not None else ["--ephemeral"]
    return [sys.executable, "-m", "runware_mock", "serve", "--port", str(port), *where,
            "--log-level", "warning", *extra]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def request_bytes(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
             "Content-Type: application/json", f"Content-Length: {len(body)}",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)


async def _worker(port: int, path: str, make_body: MakeBody, headers: dict[str, str],
                  deadline: float, counter: list[int], first: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sequence = first
    try:
        while time.monotonic() < deadline:
            writer.write(request_bytes(port, path, make_body(sequence), headers))
            status, _ = await read_response(reader)
            if status != 200:
                raise RuntimeError(f"unexpected HTTP {status}")
            counter[0] += 1
            sequence += 1
    finally:
        writer.close()


def measure(port: int, make_body: MakeBody, *, seconds: float = 5.0, connections: int = 16,
            path: str = "/v1", headers: dict[str, str] | None = None) -> float:
    """Requests per second over ``connections`` keep-alive connections for ``seconds``."""
    headers = headers or {"Authorization": "Bearer bench"}

    async def run() -> float:
        counter = [0]
        start = time.monotonic()
        deadline = start + seconds
        await asyncio.gather(*(
            _worker(port, path, make_body, headers, deadline, counter, i * 10_000_000)
            for i in range(connections)))
        return counter[0] / (time.monotonic() - start)

    return asyncio.run(run())


def fixed(body: object) -> MakeBody:
    encoded = json.dumps(body).encode()
    return lambda _: encoded
