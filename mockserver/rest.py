"""The REST transport: ``POST /v1`` with a JSON array of tasks."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from contract.errors import error
from mockserver.handlers import Context
from mockserver.protocol import Reply, failed
from mockserver.services import Services


async def post_tasks(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    tasks, problem = parse_task_array(await request.body())
    if problem is not None:
        return respond(problem)
    key = _api_key(request, tasks)
    if not services.authenticator.accepts(key):
        if all(isinstance(t, dict) and t.get("taskType") == "ping" for t in tasks):
            # Keep-alive needs no key, as on the WebSocket before authentication.
            return respond(await services.dispatcher.run(tasks, Context("", "rest")))
        return respond(failed(services.authenticator.rejection(key)))
    return respond(await services.dispatcher.run(tasks, Context(str(key), "rest")))


def parse_task_array(raw: bytes | str) -> tuple[list[Any], Reply | None]:
    """The body must be a non-empty JSON array (of task objects, checked one by one later)."""
    try:
        tasks = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return [], failed(error("invalidJSON", f"The request body is not valid JSON: {exc}."))
    if not isinstance(tasks, list) or not tasks:
        return [], failed(error("invalidRequestFormat",
                                "The request body must be a non-empty JSON array of task objects, "
                                'e.g. [{"taskType": "ping", "ping": true}].'))
    return tasks, None


def respond(reply: Reply) -> JSONResponse:
    return JSONResponse(reply.body(), status_code=reply.http_status())


def _api_key(request: Request, tasks: list[Any]) -> Any:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    first = tasks[0]
    if isinstance(first, dict) and first.get("taskType") == "authentication":
        return first.get("apiKey")
    return None
