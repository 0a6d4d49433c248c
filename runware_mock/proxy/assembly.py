"""The proxy's ASGI app: ``POST /v1`` and the WebSocket ``/v1`` relayed to the upstream, the
drift report at ``/__admin/drift`` and ``/__admin/ui/drift``, and everything else (the admin
API, the dashboard, media) served by the in-process emulator the exchanges are compared with."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from runware_mock.admin.guard import refusal
from runware_mock.admin.ui.access import denied, given_token, token_matches
from runware_mock.app import KEEP_ALIVE
from runware_mock.protocol.jsoncodec import JSONResponse
from runware_mock.proxy.observer import Observer
from runware_mock.proxy.recorder import Recorder
from runware_mock.proxy.relay_rest import RestRelay
from runware_mock.proxy.relay_websocket import WebSocketRelay
from runware_mock.proxy.report import DriftReport
from runware_mock.proxy.shadow import Shadow
from runware_mock.proxy.upstream_http import UpstreamPool
from runware_mock.replay.cassette import CassetteWriter
from runware_mock.settings import Settings

log = logging.getLogger("runware_mock.proxy")

DEFAULT_WS = {"https://api.runware.ai/v1": "wss://ws-api.runware.ai/v1"}
# Seconds the drift checks still have at shutdown for the exchanges already relayed.
SETTLE_SECONDS = 10.0
CONNECT_SECONDS = 30.0
Endpoint = Callable[[Request], Awaitable[Response]]
# runware 0.5 streams text to "/" when its WebSocket URL is ws://localhost:8080.
_REST = ("/v1", "/v1/", "/")
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)


def upstream_ws_url(settings: Settings) -> str:
    if settings.upstream_ws:
        return settings.upstream_ws
    upstream = settings.upstream.rstrip("/")
    return DEFAULT_WS.get(upstream) or upstream.replace("http", "ws", 1)


def report_path(settings: Settings) -> Path:
    if settings.drift_report is not None:
        return settings.drift_report
    return (settings.record or Path.cwd()) / "drift.jsonl"


def create_proxy_app(settings: Settings, report: DriftReport) -> _RestFirst:
    """``report`` is filled as exchanges are checked; the caller prints it at exit."""
    upstream = settings.upstream.rstrip("/")
    relays: dict[str, object] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        read_timeout = max(600.0, settings.sync_timeout)
        pool = UpstreamPool(upstream, KEEP_ALIVE - 1, CONNECT_SECONDS, read_timeout)
        async with Shadow.running(settings) as shadow, httpx.AsyncClient(
                timeout=httpx.Timeout(CONNECT_SECONDS, read=read_timeout)) as http:
            recorder = None
            if settings.record is not None:
                writer = await asyncio.to_thread(
                    CassetteWriter, settings.record, settings.record_max_mb * 1024 * 1024)
                recorder = Recorder(writer, http)
            observer = Observer(shadow.post, shadow.finished, report, recorder)
            app.state.shadow = shadow  # every URL but the relayed ones is the emulator's
            relays["rest"] = RestRelay(pool, upstream, observer, settings.max_body_bytes)
            relays["websocket"] = WebSocketRelay(upstream_ws_url(settings), observer,
                                                 settings.ws_max_bytes)
            worker = asyncio.create_task(observer.run())
            try:
                yield
            finally:
                await observer.settled(SETTLE_SECONDS)
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
                await asyncio.to_thread(report.save)
                await pool.close()

    async def websocket(socket: object) -> None:
        await relays["websocket"](socket)  # type: ignore[operator]

    @_guarded(settings)
    async def drift_json(request: Request) -> Response:
        return JSONResponse(report.to_json())

    @_guarded(settings)
    async def drift_page(request: Request) -> Response:
        page = _TEMPLATES.get_template("drift.html").render(report=report.to_json(),
                                                            upstream=upstream)
        return HTMLResponse(page)

    async def emulator(scope: Scope, receive: Receive, send: Send) -> None:
        await scope["app"].state.shadow.app(scope, receive, send)

    routes = [
        WebSocketRoute("/v1", websocket),
        WebSocketRoute("/v1/", websocket),
        Route("/__admin/drift", drift_json, methods=["GET"]),
        Route("/__admin/ui/drift", drift_page, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.router.default = emulator  # every other URL: the emulator's own (admin, dashboard)
    return _RestFirst(app, relays)


def _guarded(settings: Settings) -> Callable[[Endpoint], Endpoint]:
    """The admin API's checks (host, cross-site requests, --admin-token) for the drift
    report: its examples hold the requests' content."""
    def guard(endpoint: Endpoint) -> Endpoint:
        async def checked(request: Request) -> Response:
            problem = refusal(request.scope, settings)
            if problem is not None:
                return JSONResponse({"errors": [problem.to_json()]}, problem.status)
            if not token_matches(given_token(request.headers), settings.admin_token):
                return denied()
            return await endpoint(request)

        return checked

    return guard


class _RestFirst:
    """``POST /v1`` straight to the relay, before Starlette's routing and middleware: nearly
    every request is one, and the proxy's cost is what it adds to each. ``state`` is the
    Starlette app's."""

    def __init__(self, app: Starlette, relays: dict[str, object]) -> None:
        self.app = app
        self._relays = relays

    @property
    def state(self) -> Any:
        return self.app.state

    @property
    def router(self) -> Any:
        return self.app.router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in _REST:
            await self._relays["rest"](scope, receive, send)  # type: ignore[operator]
        else:
            await self.app(scope, receive, send)
