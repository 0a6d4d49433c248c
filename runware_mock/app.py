"""The Starlette application: routes, and the lifespan that owns the emulator's services."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from collections.abc import AsyncIterator
from types import FrameType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runware_mock import datadir
from runware_mock.admin.api import admin_mount, public_health
from runware_mock.admin.metrics import metrics, registry_for
from runware_mock.admin.ui.pages import dashboard_routes
from runware_mock.contract import schemas
from runware_mock.contract.errors import error
from runware_mock.faults.wire import RawTransport
from runware_mock.protocol.jsoncodec import JSONResponse
from runware_mock.services import Services, open_store
from runware_mock.settings import Settings
from runware_mock.store.health import disk_trouble
from runware_mock.transport.file_downloads import serve_file, unwritable_response
from runware_mock.transport.http_connections import http_protocol
from runware_mock.transport.offload import ExchangeServer
from runware_mock.transport.request_limits import TransportLimits
from runware_mock.transport.request_path import RequestPath
from runware_mock.transport.rest import RestTransport, relayed_exchange, reused_answer
from runware_mock.transport.websocket import websocket_tasks

log = logging.getLogger("runware_mock")

# Seconds an idle HTTP connection is kept open (uvicorn's default; a follower worker's too).
KEEP_ALIVE = 5.0


def create_app(settings: Settings | None = None, *, claim: datadir.Claim | None = None,
               exchanges: socket.socket | None = None,
               private_port: int | None = None) -> RawTransport:
    """The Starlette app, wrapped so fault injection can reach the raw connection;
    ``create_app(...).state`` is the Starlette app's.

    While it runs, the app holds its data dir: the ``claim`` given (taken before the port was
    bound; its settings are then the ones served) or one its lifespan takes, which raises
    ``datadir.DataDirInUse`` when another server holds the dir. Either is released on
    shutdown. ``exchanges``: the leader of several workers answers its followers' offloaded
    requests on this listening socket (``transport.offload``), and takes their relayed
    connections on ``private_port``, which its own requests never reach (``media.targets``)."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        held = claim or datadir.claim(settings)
        try:
            async with running(app, held.settings):
                yield
        finally:
            # Last, off the loop: an ephemeral dir is removed once nothing writes to it.
            await asyncio.to_thread(held.release)

    @contextlib.asynccontextmanager
    async def running(app: Starlette, settings: Settings) -> AsyncIterator[None]:
        database = await asyncio.to_thread(open_store, settings)
        await database.start()
        services = await asyncio.to_thread(Services.build, settings, database)
        if private_port is not None:
            services.media.targets.private_ports.add(private_port)
        await services.recover()
        services.serve_owner_models()
        app.state.services = services
        app.state.metrics = registry_for(services)
        path = app.state.request_path = request_path(services, TransportLimits.of(settings))
        # The leader of several workers answers its followers' offloaded POST /v1 here.
        offload = ExchangeServer(functools.partial(relayed_exchange, path, services),
                                 functools.partial(reused_answer, path, services))
        app.state.offload = offload
        sweeper = asyncio.create_task(_sweep_forever(services, offload))
        if exchanges is not None:
            await offload.start(exchanges)
        try:
            yield
        finally:
            await offload.close(settings.shutdown_timeout)
            sweeper.cancel()
            services.stop_owner_models()
            await services.delivery.close()
            await services.engine.close()
            await services.media.close()  # renders queued or running on demand
            await database.close()

    routes = [
        # First: the router tries routes in order, and nearly every request is one of these.
        Route("/v1", RestTransport(), methods=["POST"]),
        Route("/v1/", RestTransport(), methods=["POST"]),
        # runware 0.5 streams text to "/" when its WebSocket URL is ws://localhost:8080.
        Route("/", RestTransport(), methods=["POST"]),
        *dashboard_routes(),  # /__admin/ui: before the admin mount, whose catch-all takes it
        admin_mount(),  # before the catch-all file route, which would take /__admin/x
        Route("/metrics", metrics, methods=["GET"]),
        Route("/__health", public_health, methods=["GET"]),
        WebSocketRoute("/v1", websocket_tasks),
        WebSocketRoute("/v1/", websocket_tasks),
        # Before the catch-all file route, which would take /schemas/x.json for a media kind.
        Route("/schemas/{name:str}", serve_schema, methods=["GET"]),
        Route("/{kind:str}/{name:str}", serve_file, methods=["GET", "HEAD"]),
    ]
    return RawTransport(_replaying(settings, Starlette(
        routes=routes, lifespan=lifespan, middleware=[Middleware(_NoticeChanges)],
        exception_handlers={Exception: _internal_error, 404: _not_found,
                            405: _not_allowed})))


def request_path(services: Services, limits: TransportLimits) -> RequestPath:
    """The one path of every task array (``transport.request_path``), from the services."""
    return RequestPath(services.dispatcher, services.authenticator, services.faults,
                       services.journal, services.tasks.task_types, limits)


def _replaying(settings: Settings, app: Starlette) -> ASGIApp:
    """With ``--replay``, the cassette's requests are answered before the emulator sees them."""
    if settings.replay is None:
        return app
    from runware_mock.replay.layer import Cassette, ReplayLayer

    return ReplayLayer(app, Cassette(settings.replay), settings.base_url, settings.replay_strict)


_READS = ("GET", "HEAD", "OPTIONS")
_REST_PATHS = ("/v1", "/v1/", "/")


class _NoticeChanges:
    """Any request that may change what answers depend on (an admin or dashboard action: any
    but a read or ``POST /v1``) moves the offload revision on once, before its response starts
    (or once handled, when none did), so no follower gives an answer made before it again."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READS or (
                scope["method"] == "POST" and scope["path"] in _REST_PATHS):
            await self._app(scope, receive, send)
            return
        offload: ExchangeServer = scope["app"].state.offload
        noticed = False

        async def send_noticed(message: Message) -> None:
            nonlocal noticed
            if message["type"] == "http.response.start" and not noticed:
                noticed = True
                offload.changed()
            await send(message)

        try:
            await self._app(scope, receive, send_noticed)
        finally:
            if not noticed:
                offload.changed()


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the emulator, wherever it is served from."""
    return {"host": settings.host, "port": settings.port, "ws": "websockets-sansio",
            "timeout_keep_alive": KEEP_ALIVE,
            # uvicorn's httptools protocol, with a header timeout and a 400 that waits for the
            # answers before it (``transport.http_connections``).
            "http": http_protocol(settings.header_timeout),
            "ws_max_size": settings.ws_max_bytes,
            # Requests still held after this (faults, slow clients) are cancelled: shutdown
            # takes at most about this long whatever they wait for.
            "timeout_graceful_shutdown": settings.shutdown_timeout,
            # The emulator builds its URLs from its settings, never from X-Forwarded-* headers,
            # which the proxy middleware would otherwise read on every request from 127.0.0.1.
            "proxy_headers": False}


class PromptServer(uvicorn.Server):
    """A uvicorn server that stops as soon as it is told to (Ctrl-C, SIGTERM, a ServerThread's
    ``stop``): uvicorn's own loop looks for the request every tenth of a second and its
    shutdown sleeps another tenth, which a test suite starting an emulator per test (the
    pytest plugin's users', this project's) paid a thousand times over."""

    _loop: asyncio.AbstractEventLoop | None = None
    _woken: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
        ticks = 0
        # uvicorn's on_tick, as its own loop calls it: the Date header, max requests, exit.
        while not await self.on_tick(ticks):
            ticks = (ticks + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown, in its order, looking every hundredth of a second where uvicorn
        sleeps a tenth: connections are told to close, then awaited (those still busy after
        the graceful timeout cancelled), then the lifespan's shutdown."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                while (self.server_state.connections or self.server_state.tasks) \
                        and not self.force_exit:
                    await asyncio.sleep(0.01)
        except TimeoutError:
            logging.getLogger("uvicorn.error").error(
                "Cancel %s running task(s), timeout graceful shutdown exceeded",
                len(self.server_state.tasks))
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)  # SIGINT or SIGTERM, on the loop's own thread
        self._wake()

    def exit_now(self) -> None:
        """From any thread: stop, as setting ``should_exit`` does, without waiting for a tick."""
        self.should_exit = True
        self._wake()

    def _wake(self) -> None:
        if self._loop is not None and self._woken is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                # Thread-safe, and safe in a signal handler: it writes to the loop's pipe.
                self._loop.call_soon_threadsafe(self._woken.set)


async def serve_schema(request: Request) -> Response:
    name = request.path_params["name"].removesuffix(".json")
    if name not in schemas.names():
        return await _not_found(request, None)
    return JSONResponse(schemas.load(name), media_type="application/schema+json")


async def _sweep_forever(services: Services, offload: ExchangeServer) -> None:
    while True:
        await asyncio.sleep(services.settings.sweep_interval)
        if services.engine.sweep(keep=services.delivery.log.delivering()):
            offload.changed()  # a task forgotten is not found any more
        services.media.store.sweep(services.clock.now())
        await services.media.enforce_disk_budget(services.clock.now())
        services.delivery.log.keep_only(services.engine.task_uuids())
        services.sessions.sweep()
        services.push.keep_only(services.engine.task_uuids())


async def _internal_error(request: Request, exc: Exception) -> Response:
    if disk_trouble(exc):  # not a bug: something it had to write found no room
        return unwritable_response(request.app.state.services.database.health, exc)
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    problem = error("internalServerError", f"The emulator failed: {exc.__class__.__name__}.")
    return JSONResponse({"errors": [problem.to_json()]}, status_code=500)


async def _not_found(request: Request, exc: Exception | None) -> Response:
    problem = error("notFound", f"Nothing at {request.url.path}. The API is POST /v1.")
    return JSONResponse({"errors": [problem.to_json()]}, status_code=404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    problem = error("methodNotAllowed", f"{request.method} is not allowed on {request.url.path}.")
    return JSONResponse({"errors": [problem.to_json()]}, status_code=405)
