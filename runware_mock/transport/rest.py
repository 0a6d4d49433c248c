"""The REST transport: ``POST /v1`` with a JSON array of tasks.

``RestTransport`` is a plain ASGI endpoint, not a request/response function: every client
request comes through here, and that plumbing is not free (measured on the 2-core machine, an
endpoint returning a fixed body answers 29,800 req/s as plain ASGI, 22,400 as a function).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from runware_mock.contract.errors import error
from runware_mock.engine.lifecycle import TaskEngine, TaskNotFound
from runware_mock.faults import FaultInjector
from runware_mock.faults.rest_faults import spoiled_response, stopping_response
from runware_mock.faults.wire import NoAnswer
from runware_mock.protocol import jsoncodec
from runware_mock.protocol.envelope import Reply, failed
from runware_mock.protocol.jsoncodec import JSONResponse
from runware_mock.settings import Settings
from runware_mock.store.database import Database
from runware_mock.store.health import RETRY_AFTER, disk_trouble, refusal
from runware_mock.transport.cross_site import cross_site_refusal
from runware_mock.transport.request_path import REST, RequestPath, Sender, rest_sender

log = logging.getLogger("runware_mock.rest")


class RestTransport:
    """The ASGI endpoint of ``POST /v1``; the app's request path and services are found
    through the scope."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["app"].state
        path: RequestPath = state.request_path
        services: RestServices = state.services
        limits = path.limits
        headers = _RequestHeaders.of(scope)
        if headers.browser is not None:
            refusal = cross_site_refusal(*headers.browser, services.settings)
            if refusal is not None:
                await respond(failed(refusal))(scope, receive, send)
                return
        too_large = headers.length > limits.body_bytes
        raw = _TOO_LARGE if too_large else await _read_body(receive, limits.body_bytes,
                                                              headers.length)
        if raw is None:
            return  # the client left before sending its whole body: nobody to answer
        if isinstance(raw, bytes | bytearray):
            response = await _answered(path, services.database, raw, headers.sender(),
                                       receive)
        else:
            # The rest is not read: the server drains it unbuffered, and the connection stays
            # usable for the client's next request.
            response = respond(failed(error(
                "payloadTooLarge", f"The request body is over {limits.body_bytes} bytes.")))
            path.journal_unread(headers.authorization,
                                f"[a body over {limits.body_bytes} bytes, not read]",
                                response.status_code, bytes(response.body))
        await response(scope, receive, send)


class RestServices(Protocol):
    """What the endpoint reads of the app's services besides its request path."""

    settings: Settings
    database: Database


class Offloaded(Protocol):
    """What the leader reads to answer a follower's offloaded request (``transport.offload``)."""

    faults: FaultInjector
    engine: TaskEngine
    database: Database


async def relayed_exchange(path: RequestPath, services: Offloaded, authorization: str,
                           raw: bytes) -> tuple[int, bytes, bytes, bool] | None:
    """A ``POST /v1`` a follower worker parsed (``transport.offload``): its status, header
    lines and body, as this endpoint answers them, and whether the follower may reuse the
    answer; None when the answer is the wire's business (a fault rule or profile armed, a body
    over the limit, a stream), and the follower relays the request byte for byte instead."""
    if len(raw) > path.limits.body_bytes or services.faults.armed():
        return None
    response = await _answered(path, services.database, raw, Sender(REST, authorization),
                               _nothing_to_receive)
    # A follower relays every body that could ask for a stream (any with "stream" or a \u
    # escape in it), so an offloaded answer is never one.
    assert not isinstance(response, StreamingResponse)
    lines = b"".join(name + b": " + value + b"\r\n" for name, value in response.raw_headers)
    return (response.status_code, lines, bytes(response.body),
            _finished_polls(services.engine, raw, path.key_of(authorization)))


def reused_answer(path: RequestPath, services: Offloaded, authorization: str, raw: bytes,
                  status: int, answer: bytes) -> bool:
    """Journal an answer a follower gives again (``relayed_exchange`` said it may); False
    when a fault is armed since, and the request is the wire's business."""
    if services.faults.armed():
        return False
    path.journal_reused(authorization, raw, status, answer)
    return True


def _finished_polls(engine: TaskEngine, raw: bytes, key: Any) -> bool:
    """Whether ``raw`` is a getResponse of finished tasks of the key only: its answer stays
    the same until an admin change, a fault armed or a task forgotten, which move the
    offload channel's revision on."""
    if b"getResponse" not in raw or key is None:
        return False
    try:
        tasks = jsoncodec.loads(raw)
    except ValueError:
        return False
    if not isinstance(tasks, list) or not tasks:
        return False
    for task in tasks:
        if not (isinstance(task, dict) and task.get("taskType") == "getResponse"
                and isinstance(task.get("taskUUID"), str)):
            return False
        try:
            if not engine.get(key, task["taskUUID"]).finished:
                return False
        except TaskNotFound:
            return False
    return True


async def _answered(path: RequestPath, store: Database, raw: bytes | bytearray, sender: Sender,
                    receive: Receive) -> Response:
    try:
        return await _exchange(path, raw, sender, receive)
    except Exception as exc:
        if disk_trouble(exc):  # not a bug: something it had to write found no room
            return respond(failed(refusal(store.health, exc)))
        # A bug is answered as one, on a connection that stays usable: an exception left to
        # the server would close it under the client's next request.
        log.exception("a REST request failed")
        return respond(failed(error(
            "internalServerError", f"The emulator failed: {exc.__class__.__name__}.")))


async def _nothing_to_receive() -> dict[str, Any]:
    # Only a stalled answer (a fault) listens for the client leaving, and none is armed.
    return {"type": "http.disconnect"}


# Not frozen: a frozen dataclass takes four times as long to build, once per request.
@dataclass(slots=True)
class _RequestHeaders:
    authorization: str
    faults: tuple[str, ...]
    # The Content-Length the client declared (0 when none, or chunked).
    length: int = 0
    # Origin and Sec-Fetch-Site, when a browser sent either (``cross_site``).
    browser: tuple[str | None, str | None] | None = None

    @classmethod
    def of(cls, scope: Scope) -> _RequestHeaders:
        """ASGI header names are lowercase bytes; the first Authorization counts."""
        authorization: str | None = None
        faults: list[str] = []
        length = 0
        origin = fetch_site = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"x-mock-fault":
                faults.append(value.decode("latin-1"))
            elif name == b"content-length" and value.isdigit():
                length = int(value)
            elif name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"sec-fetch-site":
                fetch_site = value.decode("latin-1")
        browser = None if origin is None and fetch_site is None else (origin, fetch_site)
        return cls(authorization or "", tuple(faults), length, browser)

    def sender(self) -> Sender:
        return rest_sender(self.authorization, self.faults)


_TOO_LARGE = object()
# Bodies declared larger than this are read into a buffer of their declared size.
_PREALLOCATED = 1024 * 1024


async def _read_body(receive: Receive, most: int, declared: int = 0) -> bytes | object | None:
    """The body; ``_TOO_LARGE`` once it grows past ``most`` bytes (the rest is not read); None
    when the client left. A large body whose length was declared is copied into a buffer of
    that size as it arrives: joining megabytes of chunks at the end would hold the event loop
    for milliseconds of copying and page faults at once."""
    chunks: list[bytes] = []
    buffer = bytearray(declared) if declared > _PREALLOCATED else None
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if size + len(chunk) > most:
            return _TOO_LARGE
        if buffer is not None and size + len(chunk) <= len(buffer):
            buffer[size:size + len(chunk)] = chunk
        else:
            chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    if buffer is not None and not chunks and size == len(buffer):
        return buffer
    if buffer is not None:
        chunks.insert(0, bytes(buffer[:min(size, len(buffer))]))
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _exchange(path: RequestPath, raw: bytes | bytearray, sender: Sender,
                    receive: Receive) -> Response:
    request = await path.receive(raw, sender)
    fault = request.fault
    if request.stopped:
        assert fault is not None
        response = await stopping_response(fault, request.tasks, receive)
    else:
        response = respond(await path.answer(request))
    # What the emulator meant to answer; a connection it dropped answered nothing, and a
    # stream's events are not kept.
    answered = not isinstance(response, NoAnswer)
    streamed = isinstance(response, StreamingResponse)
    path.journal(request, bytes(response.body) if answered and not streamed else None,
                 status=response.status_code if answered else None, streamed=streamed)
    return response if fault is None or request.stopped else \
        await spoiled_response(fault, response)


def respond(reply: Reply) -> Response:
    if reply.events is not None:
        # Each event is one write (one body message), so no UTF-8 character is ever split
        # between two network chunks.
        return StreamingResponse(reply.events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    status = reply.http_status()
    # A 503 (the data dir full: nothing was kept) says when to try again, as Runware's do.
    headers = {"Retry-After": str(RETRY_AFTER)} if status == 503 else None
    return JSONResponse(reply.body(), status, headers=headers)

