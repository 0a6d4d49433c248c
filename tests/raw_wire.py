"""Raw clients for hostile-input tests: one keep-alive HTTP/1.1 connection that tells whether the
server kept it open, and hostile HTTP origins (slow, redirecting) on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def codes(self) -> list[str]:
        return [problem["code"] for problem in self.json().get("errors", [])]


class KeepAlive:
    """One HTTP/1.1 connection, reused for every request; ``reused`` says whether the last
    request went over the same socket as the one before."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self._socket: socket.socket | None = None
        self.reused = False

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> Answer:
        return self.request("POST", path, body, headers)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        sent = {"Content-Type": "application/json", **(headers or {})}
        self.connection.request(method, path, body=body, headers=sent)
        self.reused = self._socket is not None and self.connection.sock is self._socket
        response = self.connection.getresponse()
        answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                        response.read())
        self._socket = self.connection.sock
        return answer

    def ping(self, key: str = "test-key") -> Answer:
        return self.post("/v1", b'[{"taskType":"ping","ping":true}]',
                         {"Authorization": f"Bearer {key}"})

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


class RawOrigin:
    """A TCP server on 127.0.0.1 that answers every connection with ``script``: a list of
    (bytes, seconds to wait after them). It stops writing once closed."""

    def __init__(self, script: list[tuple[bytes, float]]) -> None:
        self._script = script
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._closed = threading.Event()
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            try:
                connection.recv(65536)  # the request head (and small body): not looked at
                for chunk, pause in self._script:
                    if self._closed.is_set():
                        return
                    connection.sendall(chunk)
                    self._closed.wait(pause)
            except OSError:
                return

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._closed.set()
        self._listener.close()


def dribbling(head: bytes, byte_every: float, seconds: float) -> list[tuple[bytes, float]]:
    """``head`` at once, then one byte every ``byte_every`` seconds for ``seconds``."""
    count = int(seconds / byte_every)
    return [(head, 0.0), *[(b"x", byte_every) for _ in range(count)]]


def wait_until(predicate: Any, timeout: float = 30.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)
