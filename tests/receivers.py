"""A scriptable HTTP receiver on 127.0.0.1, standing in for a webhook endpoint or a presigned
upload URL: it answers the statuses it is given, in order, and keeps every request."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, statuses: Iterable[int] = (), default: int = 200,
                 delay: float = 0.0) -> None:
        """Answer ``statuses`` one per request, then ``default``; ``delay`` seconds first."""
        self._script = list(statuses)
        self._default = default
        self._delay = delay
        self._lock = threading.Lock()
        self.requests: list[Received] = []
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            time.sleep(0.02)
        return list(self.requests)

    def _answer(self, received: Received) -> int:
        with self._lock:
            self.requests.append(received)
            return self._script.pop(0) if self._script else self._default

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _receive(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver._answer(Received(self.command, self.path, headers, body))
                if receiver._delay:
                    time.sleep(receiver._delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up waiting (a timeout test): nothing to answer

            do_POST = do_PUT = _receive

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
