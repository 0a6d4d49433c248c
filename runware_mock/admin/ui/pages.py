"""The dashboard under ``/__admin/ui``: HTML pages rendered on the server (Jinja2), made live by
a vendored htmx and one small script listening to server-sent events (``live.py``).

Every URL in a page is relative to the page, so the dashboard works wherever it is reached:
on 127.0.0.1, or behind a proxy at ``--public-url``, path prefix included.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles

from runware_mock.admin.api import PREFIX
from runware_mock.admin.guard import AdminGuard
from runware_mock.admin.inspected import Inspected
from runware_mock.admin.params import JOURNAL_FILTERS, AdminInputError, choice, journal_query
from runware_mock.admin.ui import access, actions
from runware_mock.admin.ui.listing import (
    TASK_FILTERS,
    TaskCounts,
    newest_first,
    page_of,
    task_filter,
    task_row,
)
from runware_mock.admin.ui.live import Monitor
from runware_mock.admin.ui.timeline import shown, timeline
from runware_mock.admin.views import TASK_STATES, task_json
from runware_mock.delivery.log import UPLOAD, WEBHOOK
from runware_mock.engine.lifecycle import TaskNotFound
from runware_mock.faults.fault_kinds import KINDS
from runware_mock.faults.rules import FIRING_FIELDS, MATCH_FIELDS
from runware_mock.faults.wire import transport_of
from runware_mock.transport.journal import KINDS as JOURNAL_KINDS
from runware_mock.transport.journal import TRANSPORTS

_HERE = Path(str(resources.files(__package__)))
_TEMPLATES = Environment(loader=FileSystemLoader(_HERE / "templates"),
                         autoescape=select_autoescape(("html",)), trim_blocks=True,
                         lstrip_blocks=True)
_TEMPLATES.filters["clock"] = lambda seconds: time.strftime("%H:%M:%S", time.localtime(seconds))


def dashboard_routes() -> list[BaseRoute]:
    """``/__admin/ui`` and what is under it, behind the admin guard; before the admin mount."""
    router = Router(routes=_ROUTES)
    return [Route(access.UI_PREFIX, _to_folder, methods=["GET"]),
            Mount(access.UI_PREFIX, app=AdminGuard(router, f"{PREFIX}/openapi.json"))]


async def _to_folder(request: Request) -> Response:
    return RedirectResponse("ui/", status_code=307)


def monitor(request: Request) -> Monitor:
    """The app's monitor, made on the first dashboard request."""
    services: Inspected = request.app.state.services
    found: Monitor | None = getattr(request.app.state, "dashboard_monitor", None)
    if found is None or found.services is not services:
        found = Monitor(services)
        request.app.state.dashboard_monitor = found
    return found


def _root(request: Request) -> str:
    """The dashboard's folder, relative to the page asked for."""
    mounted = request.scope.get("root_path", "")
    inside = request.scope["path"][len(mounted):].lstrip("/")
    return "../" * inside.count("/") or "./"


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    services: Inspected = request.app.state.services
    html = _TEMPLATES.get_template(template).render(
        root=_root(request), clock=services.clock.now(), wall=time.time(),
        tick_seconds=services.settings.dashboard_tick,
        signed_in=bool(services.settings.admin_token),
        store_problem=services.database.health.problem,
        path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _guarded(render: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        if not access.authorized(request):
            if request.headers.get("hx-request"):
                return access.denied()
            return RedirectResponse(f"{_root(request)}login", status_code=303)
        try:
            return await render(request, request.app.state.services)
        except AdminInputError as exc:
            return _page(request, "problem.html", 400, title="Bad filter",
                         parameter=exc.parameter, message=str(exc))
        except TaskNotFound as exc:
            return _page(request, "problem.html", 404, title="No such task",
                         parameter="taskUUID", message=f"No task with taskUUID {exc} "
                         "(never submitted, expired or reset).")

    return endpoint


# --- pages ------------------------------------------------------------------------------------

async def tasks_page(request: Request, services: Inspected) -> Response:
    params = request.query_params
    matches = task_filter(params)
    held = services.engine.tasks()
    found = newest_first(task for task in held if matches(task))
    page = page_of(found, params, services.settings.dashboard_max_rows)
    now = services.clock.now()
    rows = [task_row(task, services.engine, now) for task in page.rows]
    template = "task_table.html" if request.headers.get("hx-target") == "task-table" \
        else "tasks.html"
    return _page(request, template, view="tasks", page=page, rows=rows,
                 counts=TaskCounts.of(held), held=len(held), states=TASK_STATES,
                 filters={name: params.get(name, "") for name in TASK_FILTERS})


async def task_page(request: Request, services: Inspected) -> Response:
    task = services.engine.find(request.path_params["taskUUID"])
    detail = task_json(task, services.engine, services.reporter, services.delivery.log,
                       services.clock.now())
    results = [_result_view(index, result) for index, result in enumerate(detail["results"])]
    return _page(request, "task.html", view="tasks", task=detail, results=results,
                 events=timeline(task, services), readyAt=task.ready_at,
                 submittedAt=task.submitted_at)


def _result_view(index: int, result: dict[str, Any]) -> dict[str, Any]:
    if result.get("status") == "processing":
        return {"index": index, "pending": True}
    if "code" in result:  # the error that ended it
        return {"index": index, "error": result}
    return {"index": index, "fields": shown(result)}


async def journal_page(request: Request, services: Inspected) -> Response:
    params = {name: value for name, value in request.query_params.items() if value}
    query = journal_query({name: value for name, value in params.items()
                           if name in JOURNAL_FILTERS})
    page = page_of(newest_first(services.journal.entries(query)), params,
                   services.settings.dashboard_max_rows)
    return _page(request, "journal.html", view="journal", page=page,
                 filters={name: params.get(name, "") for name in JOURNAL_FILTERS},
                 transports=TRANSPORTS, kinds=JOURNAL_KINDS,
                 fault_kinds=[kind.name for kind in KINDS], journal=services.journal)


async def deliveries_page(request: Request, services: Inspected) -> Response:
    params = {name: value for name, value in request.query_params.items() if value}
    kind = choice(params, "kind", (WEBHOOK, UPLOAD))
    attempts = services.delivery.log.attempts(params.get("taskUUID"), kind)
    attempts.sort(key=lambda attempt: attempt.time, reverse=True)
    page = page_of(attempts, params, services.settings.dashboard_max_rows)
    return _page(request, "deliveries.html", view="deliveries", page=page,
                 filters={"taskUUID": params.get("taskUUID", ""), "kind": kind or ""},
                 pending=services.delivery.log.pending())


async def faults_page(request: Request, services: Inspected) -> Response:
    return _page(request, "faults.html", view="faults",
                 rules=[rule.to_json() for rule in services.faults.rules()],
                 kinds=KINDS, match_fields=MATCH_FIELDS, firing_fields=FIRING_FIELDS,
                 profiles=actions.shipped_profiles(),
                 fired=sum(services.faults.fired_total.values()))


async def charts_page(request: Request, services: Inspected) -> Response:
    latencies = [round(g.finished_at - task.submitted_at, 3)
                 for task in services.engine.tasks() for g in task.generations
                 if g.finished_at is not None and g.error is None]
    return _page(request, "charts.html", view="charts", latencies=latencies)


async def login_page(request: Request) -> Response:
    return _page(request, "login.html", view="login")


async def events(request: Request) -> Response:
    if not access.authorized(request):
        return access.denied()
    return StreamingResponse(monitor(request).events(_shutdown_watch(request)),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _shutdown_watch(request: Request) -> Callable[[], bool]:
    """Whether the server has begun shutting down: uvicorn then marks the connection's
    response cycle not to be kept alive. An event stream never ends by itself, and uvicorn
    would wait ``--shutdown-timeout`` for it and then log its cancellation as an error; the
    stream ends instead (the page's EventSource reconnects to the next server). Under
    another server, or a connection not kept alive from the start, it never says so."""
    transport = transport_of(request.scope)
    cycle = getattr(transport.get_protocol(), "cycle", None) if transport is not None else None
    if getattr(cycle, "keep_alive", None) is not True:
        return lambda: False
    return lambda: cycle.keep_alive is False


_ROUTES: list[BaseRoute] = [
    Route("/", _guarded(tasks_page), methods=["GET"]),
    Route("/tasks/{taskUUID}", _guarded(task_page), methods=["GET"]),
    Route("/journal", _guarded(journal_page), methods=["GET"]),
    Route("/deliveries", _guarded(deliveries_page), methods=["GET"]),
    Route("/faults", _guarded(faults_page), methods=["GET"]),
    Route("/charts", _guarded(charts_page), methods=["GET"]),
    Route("/events", events, methods=["GET"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", actions.login, methods=["POST"]),
    Route("/logout", actions.logout, methods=["POST"]),
    Route("/profiles", actions.load_shipped_profile, methods=["POST"]),
    Mount("/api", app=access.ApiBridge()),
    Mount("/static", app=StaticFiles(directory=_HERE / "static"), name="static"),
]
