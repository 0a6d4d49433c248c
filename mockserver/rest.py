"""The REST transport: ``POST /v1`` with a JSON array of tasks."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from mockserver.handlers import Context
from mockserver.protocol import Reply, failed, parse_task_array
from mockserver.services import Services


async def post_tasks(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    raw = await request.body()
    tasks, problem = parse_task_array(raw)
    key = _api_key(request, tasks)
    reply = problem if problem is not None else await _answer(services, tasks, key)
    response = respond(reply)
    services.journal.record("rest", "request", api_key=key, status=response.status_code,
                            tasks=tasks if problem is None else None, raw_tasks=raw,
                            raw_reply=bytes(response.body))
    return response


async def _answer(services: Services, tasks: list[Any], key: Any) -> Reply:
    if not services.authenticator.accepts(key):
        if all(isinstance(t, dict) and t.get("taskType") == "ping" for t in tasks):
            # Keep-alive needs no key, as on the WebSocket before authentication.
            return await services.dispatcher.run(tasks, Context("", "rest"))
        return failed(services.authenticator.rejection(key))
    return await services.dispatcher.run(tasks, Context(str(key), "rest"))


def respond(reply: Reply) -> JSONResponse:
    return JSONResponse(reply.body(), status_code=reply.http_status())


def _api_key(request: Request, tasks: list[Any]) -> Any:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    first = tasks[0] if tasks else None
    if isinstance(first, dict) and first.get("taskType") == "authentication":
        return first.get("apiKey")
    return None
