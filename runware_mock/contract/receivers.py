"""Real HTTP servers on 127.0.0.1 for contract tests: a ``Receiver`` records every request it
gets (a webhook endpoint or a presigned upload URL), a ``MediaHost`` serves media samples for
the URL form of task inputs.

    with Receiver() as hook:
        submit({..., "webhookURL": hook.url})
        body = hook.wait_for(1)[0].json()
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LocalServer:
    """A threading HTTP server on a free port of 127.0.0.1; a subclass implements ``answer``
    (method, path, lower-case headers, body -> status, content type, content)."""

    def __init__(self) -> None:
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name=type(self).__name__)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def answer(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, str, bytes]:
        raise NotImplementedError

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if len(body) < length:
                    return  # torn: the sender died or hung up mid-body; nothing was sent
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, content_type, content = server.answer(self.command, self.path,
                                                              headers, body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(content)
                except OSError:
                    pass  # the client gave up waiting: nothing left to answer

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class Receiver(LocalServer):
    """Records every request; answers ``statuses`` in order, then ``default``, each after
    ``delay`` seconds (longer than the sender's timeout, it makes the sender time out)."""

    def __init__(self, statuses: Iterable[int] = (), default: int = 200,
                 delay: float = 0.0) -> None:
        super().__init__()
        self._script = list(statuses)
        self._default = default
        self._delay = delay
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.requests: list[Received] = []

    @property
    def url(self) -> str:
        """A URL to give the emulator, e.g. as ``webhookURL`` (any path is accepted)."""
        return f"{self.base_url}/receiver"

    def respond_with(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (e.g. 500 to make a sender retry)."""
        with self._lock:
            self._script.extend(statuses)

    def wait_for(self, count: int = 1, timeout: float = 30.0) -> list[Received]:
        """The first ``count`` requests, once they have arrived."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} requests at {self.url}, "
                                         f"got {len(self.requests)}")
                self._arrived.wait(remaining)
            return list(self.requests[:count])

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def answer(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, str, bytes]:
        with self._arrived:
            self.requests.append(Received(method, path, headers, body))
            status = self._script.pop(0) if self._script else self._default
            self._arrived.notify_all()
        if self._delay:
            time.sleep(self._delay)
        return status, "text/plain", b"ok"


class MediaHost(LocalServer):
    """Serves media by name at ``/media/<name>``: the samples of
    ``runware_mock.contract.samples`` by default, or whatever ``lookup`` returns (``None``: 404)."""

    def __init__(self, lookup: Callable[[str], tuple[str, bytes] | None] | None = None) -> None:
        super().__init__()
        self._lookup = lookup or _sample_lookup

    def url_for(self, name: str) -> str:
        return f"{self.base_url}/media/{name}"

    def missing_url(self) -> str:
        return f"{self.base_url}/media/missing-file.jpg"

    def answer(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, str, bytes]:
        name = unquote(path.split("?", 1)[0].removeprefix("/media/"))
        found = self._lookup(name) if method in ("GET", "HEAD") else None
        if found is None:
            return 404, "text/plain", b"not found"
        mime, content = found
        return 200, mime, content


def _sample_lookup(name: str) -> tuple[str, bytes] | None:
    from runware_mock.contract.samples import by_name

    try:
        sample = by_name(name)
    except KeyError:
        return None
    return sample.mime, sample.content
