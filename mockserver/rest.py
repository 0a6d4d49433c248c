"""The REST transport: ``POST /v1`` with a JSON array of tasks."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockserver.faults import TRANSPORT, Fault, FaultSpecError, header_rules
from mockserver.faults.answers import fault_header_error
from mockserver.faults.rest_faults import spoiled_response, stopping_response
from mockserver.faults.traffic import request_traffic
from mockserver.handlers import Context
from mockserver.protocol import Reply, failed, parse_task_array
from mockserver.services import Services


async def post_tasks(request: Request) -> Response:
    services: Services = request.app.state.services
    raw = await request.body()
    tasks, problem = parse_task_array(raw)
    key = _api_key(request, tasks)
    context, header_problem = _fault_context(request)
    problem = header_problem or problem
    fault = None if problem is not None else _transport_fault(services, tasks, key, context)
    if fault is not None and not fault.kind.processed:
        response = await stopping_response(fault, tasks, request)
        _journal(services, key, tasks, raw, response, [fault])
        return response
    reply = problem if problem is not None else await _answer(services, tasks, key, context)
    response = respond(reply)
    fired = [*([fault] if fault is not None else []), *context.fired]
    _journal(services, key, tasks if problem is None else None, raw, response, fired)
    return response if fault is None else await spoiled_response(fault, response)


def _fault_context(request: Request) -> tuple[Context, Reply | None]:
    """The request's context with its X-Mock-Fault rules, or the error a bad header gets."""
    headers = request.headers
    if "x-mock-fault" not in headers:
        return Context("", "rest"), None
    try:
        rules = header_rules(headers.getlist("x-mock-fault"))
    except FaultSpecError as exc:
        return Context("", "rest"), failed(fault_header_error(exc))
    return Context("", "rest", header_faults=tuple(rules)), None


def _transport_fault(services: Services, tasks: list[Any], key: Any,
                     context: Context) -> Fault | None:
    if not services.faults.armed(context.header_faults):
        return None
    return services.faults.pick(TRANSPORT, request_traffic(tasks, key, "rest"),
                                context.header_faults)


def _journal(services: Services, key: Any, tasks: list[Any] | None, raw: bytes,
             response: Response, fired: list[Fault]) -> None:
    """What the emulator meant to answer; a connection it dropped answered nothing."""
    answered = isinstance(response, JSONResponse)
    services.journal.record("rest", "request", api_key=key,
                            status=response.status_code if answered else None,
                            tasks=tasks, raw_tasks=raw,
                            raw_reply=bytes(response.body) if answered else None,
                            faults=[fault.to_json() for fault in fired])


async def _answer(services: Services, tasks: list[Any], key: Any, context: Context) -> Reply:
    if not services.authenticator.accepts(key):
        if all(isinstance(t, dict) and t.get("taskType") == "ping" for t in tasks):
            # Keep-alive needs no key, as on the WebSocket before authentication.
            return await services.dispatcher.run(tasks, context)
        return failed(services.authenticator.rejection(key))
    # Built directly: dataclasses.replace costs more than the rest of a poll's dispatch.
    owned = Context(str(key), context.transport, context.session_uuid, context.header_faults,
                    context.fired)
    return await services.dispatcher.run(tasks, owned)


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
