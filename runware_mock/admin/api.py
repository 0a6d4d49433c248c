"""The admin API under ``/__admin``: inspect and drive one emulator, JSON in and out.

It is served by the same server, on the same host and port, as the emulated API. When
``admin_token`` is set every endpoint but ``health`` and ``openapi.json`` requires it. Admin
calls are not written to the journal: the journal is what the client under test sent.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route, Router

from runware_mock.admin import accounts
from runware_mock.admin import openapi as admin_openapi
from runware_mock.admin.guard import AdminGuard
from runware_mock.admin.inspected import Inspected
from runware_mock.admin.params import (
    JOURNAL_FILTERS,
    AdminInputError,
    choice,
    count_param,
    error_code_field,
    flag,
    journal_query,
    json_object,
    message_field,
    positive_int,
    reject_unknown,
    seconds_field,
)
from runware_mock.admin.views import TASK_STATES, journal_entry_json, task_json, task_state
from runware_mock.contract.errors import error
from runware_mock.delivery.log import UPLOAD, WEBHOOK
from runware_mock.engine.lifecycle import Task, TaskFinished, TaskNotFound
from runware_mock.faults import FaultSpecError
from runware_mock.faults.fault_kinds import KINDS
from runware_mock.protocol.jsoncodec import JSONResponse
from runware_mock.store.health import StoreHealth
from runware_mock.transport.journal import Expectation

PREFIX = "/__admin"
DEFAULT_FAIL_CODE = "timeoutProvider"
DEFAULT_FAIL_MESSAGE = "The provider did not return a result in time (failed by the admin API)."
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

Handler = Callable[[Request, Inspected], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def admin_mount() -> Mount:
    """The admin routes, behind the guard that keeps web pages out (see ``guard``)."""
    router = Router(routes=[*_ROUTES, Route("/{rest:path}", _unknown, methods=_ALL_METHODS)])
    return Mount(PREFIX, app=AdminGuard(router, f"{PREFIX}/openapi.json"))


def _endpoint(handler: Handler, *, public: bool = False) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        services: Inspected = request.app.state.services
        if not public and not _authorized(request, services.settings.admin_token):
            return _problem("invalidAdminToken", "The admin API needs the token set with "
                            "--admin-token: send 'Authorization: Bearer <token>' or "
                            "'X-Admin-Token: <token>'.", None, headers={"WWW-Authenticate":
                                                                       "Bearer"})
        try:
            response = await handler(request, services)
            if request.method != "GET":
                # A change answered is a change kept (a failed task, a rule, the clock).
                await services.database.committed()
            return response
        except AdminInputError as exc:
            return _problem("invalidAdminRequest", str(exc), exc.parameter)
        except TaskNotFound as exc:
            return _problem("taskNotFound", f"No task with taskUUID {exc} (never submitted, "
                            "expired or reset).", "taskUUID")
        except TaskFinished as exc:
            return _problem("taskAlreadyFinished", f"Task {exc} has no generation left "
                            "processing: it cannot be completed or failed now.", "taskUUID")

    return endpoint


def _authorized(request: Request, token: str) -> bool:
    if not token:
        return True
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    given = credentials.strip() if scheme.lower() == "bearer" else ""
    given = given or request.headers.get("x-admin-token", "")
    return hmac.compare_digest(given.encode(), token.encode())


def _problem(code: str, message: str, parameter: str | None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    problem = error(code, message, parameter=parameter,
                    documentation=f"{PREFIX}/openapi.json")
    return JSONResponse({"errors": [problem.to_json()]}, status_code=problem.status,
                        headers=headers)


async def health(request: Request, services: Inspected) -> Response:
    engine, journal = services.engine, services.journal
    store = await services.database.probe()
    return JSONResponse({
        "status": _status(store),
        "store": store.to_json(),
        "baseURL": services.settings.base_url,
        "tasks": engine.count(),
        # Every task still processing is loaded (only finished ones stay cold).
        "processing": sum(1 for task in engine.loaded() if not task.finished),
        "journal": {"kept": len(journal), "recorded": journal.recorded, "limit": journal.limit},
        "deliveriesPending": services.delivery.log.pending(),
        "renders": _renders(services),
        "clock": services.clock.now(),
    }, status_code=200 if store.writable else 503)


async def public_health(request: Request) -> Response:
    """``GET /__health``: whether the emulator can take tasks now, for a container's
    HEALTHCHECK or a load balancer; outside ``/__admin``, so it needs no admin token. 503
    while the data dir is not writable (every task is refused then)."""
    services: Inspected = request.app.state.services
    store = await services.database.probe()
    return JSONResponse({"status": _status(store), "store": store.to_json()},
                        status_code=200 if store.writable else 503)


def _status(store: StoreHealth) -> str:
    return "ok" if store.writable else "storeNotWritable"


def _renders(services: Inspected) -> dict[str, int]:
    """Files made on demand: being made, queued, made so far, refused; outputs not made yet."""
    backlog = services.media.render_backlog()
    return {"running": backlog.running, "queued": backlog.queued, "made": backlog.made,
            "refused": backlog.refused, "pendingFiles": services.media.pending_files()}


async def openapi(request: Request, services: Inspected) -> Response:
    return JSONResponse(admin_openapi.spec())


async def journal(request: Request, services: Inspected) -> Response:
    params = request.query_params
    reject_unknown(params, (*JOURNAL_FILTERS, "limit"))
    entries = services.journal.entries(journal_query(params), positive_int(params, "limit"))
    return JSONResponse({"entries": [journal_entry_json(entry, services.engine)
                                     for entry in entries],
                         "count": len(entries), "kept": len(services.journal),
                         "recorded": services.journal.recorded,
                         "limit": services.journal.limit})


async def journal_count(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, JOURNAL_FILTERS)
    return JSONResponse({"count": services.journal.count(journal_query(request.query_params))})


async def journal_verify(request: Request, services: Inspected) -> Response:
    params = request.query_params
    reject_unknown(params, (*JOURNAL_FILTERS, "count", "atLeast", "atMost"))
    expected = Expectation(count_param(params, "count"), count_param(params, "atLeast"),
                           count_param(params, "atMost"))
    if expected.exactly is not None and (expected.at_least, expected.at_most) != (None, None):
        raise AdminInputError("count", "Give count alone, or atLeast and/or atMost.")
    found = services.journal.count(journal_query(params))
    if not expected.holds(found):
        return _problem("journalVerificationFailed", f"Expected {expected.describe()} matching "
                        f"journal entries, found {found}.", None)
    return JSONResponse({"verified": True, "count": found, "expected": expected.describe()})


async def forget_journal(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, ())
    services.journal.clear()
    return JSONResponse({"reset": "journal"})


async def tasks(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, ("state",))
    state = choice(request.query_params, "state", TASK_STATES)
    found = [_task_json(task, services) for task in services.engine.tasks()
             if state is None or task_state(task) == state]
    return JSONResponse({"tasks": found, "count": len(found)})


async def task(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, ())
    found = services.engine.find(request.path_params["taskUUID"])
    return JSONResponse(_task_json(found, services))


async def complete(request: Request, services: Inspected) -> Response:
    """Skip the latency; with ``wait`` (the default) answer once the task has finished."""
    reject_unknown(request.query_params, ("wait",))
    wait = flag(request.query_params, "wait", default=True)
    found = services.engine.complete_now(request.path_params["taskUUID"])
    if wait:
        await services.engine.wait_finished(found)
    return JSONResponse(_task_json(found, services), status_code=200 if wait else 202)


async def fail(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, ())
    body = await json_object(request)
    reject_unknown(body, ("code", "message"))
    found = services.engine.fail_now(request.path_params["taskUUID"],
                                     error_code_field(body, DEFAULT_FAIL_CODE),
                                     message_field(body, DEFAULT_FAIL_MESSAGE))
    return JSONResponse(_task_json(found, services))


async def deliveries(request: Request, services: Inspected) -> Response:
    params = request.query_params
    reject_unknown(params, ("taskUUID", "kind"))
    task_uuid = params.get("taskUUID")
    attempts = services.delivery.log.attempts(task_uuid, choice(params, "kind", (WEBHOOK, UPLOAD)))
    return JSONResponse({"attempts": [attempt.to_json() for attempt in attempts],
                         "count": len(attempts),
                         "pending": services.delivery.log.pending(task_uuid)})


async def clock(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, ())
    return JSONResponse({"now": services.clock.now()})


async def advance(request: Request, services: Inspected) -> Response:
    body = await json_object(request)
    reject_unknown(body, ("seconds",))
    reject_unknown(request.query_params, ("seconds",))
    seconds = seconds_field(body, request.query_params)
    services.clock.advance(seconds)
    services.meta.save_clock_advance(services.clock.advanced)
    return JSONResponse({"advancedBy": seconds, "now": services.clock.now()})


async def reset(request: Request, services: Inspected) -> Response:
    """Forget every task (stopping those running), every delivery and the journal."""
    reject_unknown(request.query_params, ())
    await services.delivery.reset()
    await services.engine.reset()
    services.journal.clear()
    return JSONResponse({"reset": "everything"})


async def faults(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, ())
    rules = services.faults.rules()
    return JSONResponse({"rules": [rule.to_json() for rule in rules], "count": len(rules),
                         "kinds": [kind.name for kind in KINDS]})


async def add_fault(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, ())
    try:
        rule = services.faults.add(await json_object(request))
    except FaultSpecError as exc:
        raise AdminInputError(exc.parameter, str(exc)) from None
    return JSONResponse(rule.to_json(), status_code=201)


async def clear_faults(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, ())
    return JSONResponse({"cleared": services.faults.clear()})


async def delete_fault(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, ())
    rule_id = request.path_params["id"]
    if not services.faults.remove(rule_id):
        return _problem("faultRuleNotFound", f"No fault rule with id {rule_id!r}; "
                        f"GET {PREFIX}/faults lists them.", "id")
    return JSONResponse({"deleted": rule_id})


def _task_json(found: Task, services: Inspected) -> dict[str, Any]:
    return task_json(found, services.engine, services.reporter, services.delivery.log,
                     services.clock.now())


async def _unknown(request: Request) -> Response:
    allowed = sorted({method for route in _ROUTES
                      if route.matches(request.scope)[0] == Match.PARTIAL
                      for method in getattr(route, "methods", None) or ()})
    if allowed:
        return _problem("methodNotAllowed", f"{request.method} is not allowed on "
                        f"{request.url.path}; use {', '.join(allowed)}.", None)
    return _problem("notFound", f"No admin endpoint at {request.url.path}. The endpoints are "
                    f"listed in {PREFIX}/openapi.json.", None)


_ROUTES: list[BaseRoute] = [
    Route("/health", _endpoint(health, public=True), methods=["GET"]),
    Route("/openapi.json", _endpoint(openapi, public=True), methods=["GET"]),
    Route("/journal", _endpoint(journal), methods=["GET"]),
    Route("/journal", _endpoint(forget_journal), methods=["DELETE"]),
    Route("/journal/count", _endpoint(journal_count), methods=["GET"]),
    Route("/journal/verify", _endpoint(journal_verify), methods=["GET"]),
    Route("/tasks", _endpoint(tasks), methods=["GET"]),
    Route("/tasks/{taskUUID}", _endpoint(task), methods=["GET"]),
    Route("/tasks/{taskUUID}/complete", _endpoint(complete), methods=["POST"]),
    Route("/tasks/{taskUUID}/fail", _endpoint(fail), methods=["POST"]),
    Route("/deliveries", _endpoint(deliveries), methods=["GET"]),
    Route("/clock", _endpoint(clock), methods=["GET"]),
    Route("/clock/advance", _endpoint(advance), methods=["POST"]),
    Route("/reset", _endpoint(reset), methods=["POST"]),
    Route("/faults", _endpoint(faults), methods=["GET"]),
    Route("/faults", _endpoint(add_fault), methods=["POST"]),
    Route("/faults", _endpoint(clear_faults), methods=["DELETE"]),
    Route("/faults/{id}", _endpoint(delete_fault), methods=["DELETE"]),
    Route("/accounts/{apiKey}", _endpoint(accounts.account), methods=["GET"]),
    Route("/accounts/{apiKey}/balance", _endpoint(accounts.set_balance), methods=["PUT"]),
]
