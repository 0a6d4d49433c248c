"""Transport faults on one REST request: answers that stop it, and answers that spoil it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive

from runware_mock.faults.answers import error_reply, malformed
from runware_mock.faults.injector import Fault
from runware_mock.faults.wire import (
    DribbledResponse,
    EmptyResponse,
    ResetResponse,
    TruncatedResponse,
)
from runware_mock.protocol.jsoncodec import JSONResponse


async def stopping_response(fault: Fault, tasks: list[Any], receive: Receive) -> Response:
    """The answer of a request that is not processed (``fault.kind.processed`` is false)."""
    if fault.name == "http_error":
        reply = error_reply(fault, tasks)
        headers = {} if fault["retryAfter"] is None else {"Retry-After": str(fault["retryAfter"])}
        return JSONResponse(reply.body(), status_code=int(fault["status"]), headers=headers)
    if fault.name == "hang":
        await _until_client_gives_up(receive, float(fault["seconds"]))
        return EmptyResponse()
    if fault.name == "reset":
        return ResetResponse()
    return EmptyResponse()


async def spoiled_response(fault: Fault, response: Response) -> Response:
    """The answer of a processed request, delayed or damaged on the way out."""
    if fault.name == "latency":
        await asyncio.sleep(float(fault["delaySeconds"]))
        return response
    if isinstance(response, StreamingResponse):
        return response  # a stream of events has no body to spoil (stream_cut cuts one)
    if fault.name == "malformed":
        return Response(malformed(bytes(response.body)), status_code=response.status_code,
                        media_type=response.media_type)
    if fault.name == "truncated":
        return TruncatedResponse(response, float(fault["fraction"]))
    if fault.name == "dribble":
        return DribbledResponse(response, int(fault["chunk"]), float(fault["interval"]))
    return response


async def _until_client_gives_up(receive: Receive, seconds: float) -> None:
    """The body has been read, so the next message is the disconnect, whenever it comes."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
