"""``POST /v1`` through the proxy: the request forwarded to the upstream with the client's own
headers (its key among them), the answer sent back as it arrives, byte for byte: status,
headers (but the hop-by-hop ones), body chunks (server-sent events one by one)."""

from __future__ import annotations

import logging

from starlette.types import Receive, Scope, Send

from runware_mock.contract.errors import error
from runware_mock.protocol import jsoncodec
from runware_mock.proxy.observer import Observer
from runware_mock.proxy.upstream_http import UpstreamError, UpstreamPool, UpstreamResponse

log = logging.getLogger("runware_mock.proxy")

# RFC 9110 7.6.1: meant for one connection, never forwarded.
HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate",
                        b"proxy-authorization", b"te", b"trailer", b"transfer-encoding",
                        b"upgrade", b"host", b"content-length"})


# The body is read whole before it is forwarded: no 100 Continue is to be waited for.
_NOT_FORWARDED = HOP_BY_HOP | {b"expect"}


def forwarded_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The client's request headers the upstream is sent.
    Without an Accept-Encoding of the client's, the upstream is asked for the body as is
    (a client library would otherwise ask for gzip, which the client did not)."""
    kept = [(name, value) for name, value in headers if name.lower() not in _NOT_FORWARDED]
    if not any(name.lower() == b"accept-encoding" for name, _ in kept):
        kept.append((b"accept-encoding", b"identity"))
    return kept


def answer_headers(headers: list[tuple[bytes, bytes]], streamed: bool
                   ) -> list[tuple[bytes, bytes]]:
    """The upstream's answer headers the client is sent: all but the hop-by-hop ones (the
    length is kept for a body sent whole, so the client reads it as the upstream sent it)."""
    skipped = HOP_BY_HOP - ({b"content-length"} if not streamed else set())
    return [(name, value) for name, value in headers if name.lower() not in skipped]


class RestRelay:
    def __init__(self, pool: UpstreamPool, upstream: str, observer: Observer,
                 max_body_bytes: int) -> None:
        self._pool = pool
        self._upstream = upstream
        self._observer = observer
        self._most = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        if body is None:
            return  # the client left before sending its body
        try:
            response = await self._pool.post(forwarded_headers(scope["headers"]), body,
                                             scope.get("query_string", b""))
        except UpstreamError as exc:
            await _unreachable(send, self._upstream, exc)
            return
        try:
            await self._relay(scope, body, response, send)
        except UpstreamError as exc:
            log.warning("the upstream's answer broke off: %s", exc)  # so does the client's
        finally:
            self._pool.give_back(response)

    async def _relay(self, scope: Scope, body: bytes, response: UpstreamResponse,
                     send: Send) -> None:
        streamed = not any(name.lower() == b"content-length" for name, _ in response.headers)
        await send({"type": "http.response.start", "status": response.status,
                    "headers": answer_headers(response.headers, streamed)})
        chunks: list[bytes] = []
        async for chunk in response.chunks():
            chunks.append(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if len(body) <= self._most:
            # Before the answer's end: a client that has it finds the exchange counted.
            self._observe(scope, body, response, b"".join(chunks))
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _observe(self, scope: Scope, body: bytes, response: UpstreamResponse, answer: bytes
                 ) -> None:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                   for name, value in response.headers}
        authorization = next((value.decode("latin-1") for name, value in scope["headers"]
                              if name == b"authorization"), "")
        self._observer.rest(authorization, body, response.status, headers, answer)


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _unreachable(send: Send, upstream: str, exc: Exception) -> None:
    problem = error("badGateway", f"runware-mock proxy cannot reach the upstream {upstream}: "
                    f"{exc.__class__.__name__}.")
    body = jsoncodec.dumps({"errors": [problem.to_json()]})
    await send({"type": "http.response.start", "status": 502,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
