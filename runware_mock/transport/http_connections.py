"""uvicorn's HTTP/1.1 protocol (httptools), with two rules of connection hygiene it lacks.

- **A header timeout.** uvicorn times a connection out only once it has answered a request
  (keep-alive), and any byte received stops that timer: a connection that never sends a byte,
  or sends a request head a byte at a time, is held for ever, and enough of them take every
  descriptor the process has (1,100 silent connections under ``ulimit -n 1024`` failed every
  valid request). Here a connection has ``--header-timeout`` seconds to send each request's
  head, from its opening or from the previous answer; then it is closed.
- **Answers in order before a 400.** uvicorn answers bytes it cannot parse with a 400 and closes
  at once, dropping the answers of the valid requests read before them on the same connection
  (garbage after a request, a spoiled pipelined one). Here the 400 waits until they are
  answered, as a follower worker answers (``transport.relay``).

Everything else (the parser and its rules, WebSockets, flow control) is uvicorn's own.
"""

from __future__ import annotations

import asyncio
from functools import cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused: str | None = None  # the 400 waiting for earlier answers
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing() or self._answering():
            return
        if self._refused is not None:
            super().send_400_response(self._refused)
            return
        self._await_head()

    def send_400_response(self, msg: str) -> None:
        if self._answering():
            self._refused = msg
            return
        super().send_400_response(msg)

    def _answering(self) -> bool:
        """Whether a request read whole is still being answered (or waits its turn)."""
        cycle = self.cycle
        return bool(self.pipeline) or (
            cycle is not None and not cycle.response_complete and not cycle.more_body)

    def _await_head(self) -> None:
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_too_late)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_late(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


@cache
def http_protocol(header_timeout: float) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for uvicorn's ``http`` option."""
    return type("HttpProtocol", (GuardedHttpToolsProtocol,), {"header_timeout": header_timeout})
