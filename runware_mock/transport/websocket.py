"""The WebSocket transport: ``/v1``, a JSON array of tasks per client frame, one JSON object
per server frame.

A socket is anonymous until an authentication task succeeds, but pings are answered at any
time: runware 0.5.x pings in the same millisecond as it authenticates. Frames that change no
socket state are handled concurrently, so a slow upload never delays a pong, and one writer
sends every outgoing frame, so frames never interleave. A reply goes to the socket that asked;
a pushed result goes to the session, which keeps it while no socket is attached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.websockets import WebSocket, WebSocketDisconnect

from runware_mock.contract.errors import ApiError, error
from runware_mock.faults import FaultSpecError, Rule, header_rules
from runware_mock.faults.answers import error_reply, fault_header_error, malformed, truncated
from runware_mock.faults.injector import Fault
from runware_mock.faults.wire import reset, transport_of
from runware_mock.handling.task_type import Context
from runware_mock.protocol import jsoncodec
from runware_mock.protocol.envelope import Reply, failed
from runware_mock.settings import Settings
from runware_mock.transport.buffers import ABNORMAL_CLOSES, collect_soon
from runware_mock.transport.cross_site import cross_site_refusal
from runware_mock.transport.journal import Journal
from runware_mock.transport.request_path import WEBSOCKET, Request, RequestPath, Sender
from runware_mock.transport.sessions import Frame, ResultPush, Session, SessionRegistry

log = logging.getLogger("runware_mock.websocket")

TRANSPORT = WEBSOCKET
_SEND_FAILURES = (WebSocketDisconnect, RuntimeError, OSError)

FollowUp = Callable[[], None]


class SocketServices(Protocol):
    """What a socket reads of the app's services besides its request path."""

    settings: Settings
    sessions: SessionRegistry
    push: ResultPush
    journal: Journal


async def websocket_tasks(websocket: WebSocket) -> None:
    services: SocketServices = websocket.app.state.services
    if cross_site_refusal(websocket.headers.get("origin"), websocket.headers.get("sec-fetch-site"),
                          services.settings) is not None:
        await websocket.close(code=1008)  # before accepting: the handshake is answered 403
        return
    await websocket.accept()
    try:
        # The handshake's X-Mock-Fault rules apply to every frame of the connection.
        header = tuple(header_rules(websocket.headers.getlist("x-mock-fault"), "handshake"))
    except FaultSpecError as exc:
        await _refuse_fault_header(websocket, exc)
        return
    await Connection(websocket, websocket.app.state.request_path, services, header).serve()


async def _refuse_fault_header(websocket: WebSocket, exc: FaultSpecError) -> None:
    with contextlib.suppress(*_SEND_FAILURES):
        await websocket.send_text(_text(failed(fault_header_error(exc)).body()))
        await websocket.close(code=1008, reason="invalid X-Mock-Fault header")


@dataclass(frozen=True)
class Outgoing:
    """A reply, already encoded, or a pushed frame, kept whole to go back to the session.
    A transport fault may hold it back (``delay`` seconds), send it ``copies`` times, or close
    the socket after it (``close``: code and reason)."""

    text: str | None
    pushed: Frame | None = None
    delay: float = 0.0
    copies: int = 1
    close: tuple[int, str] | None = None


class SocketOutbox:
    """The frames waiting for one socket's writer, in order.

    Pushed frames that the socket never sent are handed back to the session on close, so a
    resumed session replays them; replies are not, since the client resends what it still
    needs (and a resent task is answered conflictTaskUUID, which the SDKs take as an ack).
    """

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Outgoing | None] = asyncio.Queue()
        self._open = True

    def offer(self, frame: Frame) -> bool:
        return self._put(Outgoing(None, pushed=frame))

    def reply(self, outgoing: Outgoing) -> bool:
        return self._put(outgoing)

    def close(self) -> None:
        if self._open:
            self._open = False
            self._queue.put_nowait(None)

    async def next(self) -> Outgoing | None:
        return await self._queue.get()

    def _put(self, outgoing: Outgoing) -> bool:
        if not self._open:
            return False
        self._queue.put_nowait(outgoing)
        return True


class Connection:
    def __init__(self, websocket: WebSocket, path: RequestPath, services: SocketServices,
                 header_faults: tuple[Rule, ...] = ()) -> None:
        self._socket = websocket
        self._path = path
        self._services = services
        self._header_faults = header_faults
        self._outbox = SocketOutbox()
        self._owner: str | None = None
        self._session_uuid: str | None = None
        self._session: Session | None = None
        self._handling: set[asyncio.Task[None]] = set()

    async def serve(self) -> None:
        writer = asyncio.create_task(self._write_until_closed())
        try:
            await self._read_until_closed()
        finally:
            self._outbox.close()
            self._leave_session(await writer)
            # Frames still being handled finish: a task they submit is not lost, and a result
            # they start watching goes to the session's backlog.
            await asyncio.gather(*self._handling, return_exceptions=True)

    # -- reading -------------------------------------------------------------------------

    async def _read_until_closed(self) -> None:
        idle_timeout = self._services.settings.idle_timeout
        while True:
            try:
                async with asyncio.timeout(idle_timeout):
                    message = await self._socket.receive()
            except TimeoutError:
                await self._close_idle(idle_timeout)
                return
            if message["type"] == "websocket.disconnect":
                if message.get("code") in ABNORMAL_CLOSES:
                    collect_soon()  # see transport.buffers: what the refused frame left
                return
            await self._on_frame(_payload(message))

    async def _close_idle(self, idle_timeout: float) -> None:
        with contextlib.suppress(*_SEND_FAILURES):
            await self._socket.close(code=1000, reason=f"idle for {idle_timeout:g} s")

    async def _on_frame(self, raw: str | bytes) -> None:
        try:
            await self._take_frame(raw)
        except Exception as exc:
            # Whatever failed, the client gets an error frame and keeps its socket.
            log.exception("a WebSocket frame failed")
            failure = failed(error("internalServerError", f"The emulator failed: {exc}"))
            self._answer(Request(raw, self._sender(), self._owner, [], failure), failure, [])

    def _sender(self) -> Sender:
        return Sender(TRANSPORT, owner=self._owner, rules=self._header_faults)

    async def _take_frame(self, raw: str | bytes) -> None:
        request = await self._path.receive(raw, self._sender())
        if request.problem is not None:
            self._answer(request, request.problem, [])
        elif request.stopped:
            self._stop(request)
        elif _authenticates(request.tasks) or not any(map(self._path.needs_key, request.tasks)):
            # Inline: an authentication changes who the next frames run as, and a pong is due
            # at once even while other frames are still being handled.
            await self._handle(request)
        else:
            self._spawn(self._handle(request))

    def _stop(self, request: Request) -> None:
        """A frame that a transport fault keeps from being handled."""
        fault = request.fault
        assert fault is not None
        if fault.name == "http_error":
            self._answer(request, error_reply(fault, request.tasks), [])
            return
        self._journal(request, None)
        if fault.name == "reset":
            transport = transport_of(self._socket.scope)
            if transport is not None:
                reset(transport)
            else:
                self._outbox.reply(Outgoing(None, close=(1011, "fault injected: reset")))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        handling = asyncio.create_task(work)
        self._handling.add(handling)
        handling.add_done_callback(self._handling.discard)

    # -- handling ------------------------------------------------------------------------

    async def _handle(self, request: Request) -> None:
        """Run a frame's tasks in order and answer with one frame. Follow-ups (joining a
        session, watching tasks) run after the reply is queued, so a client always sees the
        ack or the authentication reply before anything pushed."""
        follow_ups: list[FollowUp] = []
        try:
            reply = Reply()
            for index, task in enumerate(request.tasks):
                reply.extend(await self._run(request, task, index, follow_ups))
        except Exception as exc:
            log.exception("a WebSocket frame failed")
            reply = failed(error("internalServerError", f"The emulator failed: {exc}"))
        self._answer(request, reply, follow_ups)

    async def _run(self, request: Request, task: Any, index: int,
                   follow_ups: list[FollowUp]) -> Reply:
        if isinstance(task, dict) and task.get("taskType") == "authentication":
            return await self._authenticate(task, index, follow_ups)
        if self._owner is None and self._path.needs_key(task):
            return failed(_not_authenticated(task))
        context = Context(self._owner or "", TRANSPORT, self._session_uuid,
                          header_faults=self._header_faults, fired=request.fired)
        reply = await self._path.run_task(task, index, context)
        task_type = self._path.task_type(task)
        if task_type is not None and task_type.watches_task and self._owner and \
                self._session_uuid:
            follow_ups.append(self._watcher(self._owner, task.get("taskUUID"),
                                            self._session_uuid))
        return reply

    async def _authenticate(self, task: dict[str, Any], index: int,
                            follow_ups: list[FollowUp]) -> Reply:
        keys = self._path.keys
        key = task.get("apiKey")
        if not keys.accepts(key):
            self._owner, self._session_uuid = None, None
            follow_ups.append(lambda: self._leave_session([]))
            return failed(keys.rejection(key))
        session_uuid = self._services.sessions.candidate(key, task.get("connectionSessionUUID"))
        reply = await self._path.run_task(task, index, Context(key, TRANSPORT, session_uuid))
        if reply.errors:
            return reply
        self._owner, self._session_uuid = key, session_uuid
        follow_ups.append(lambda: self._join_session(key, session_uuid))
        return reply

    def _watcher(self, owner: str, task_uuid: object, session_uuid: str) -> FollowUp:
        return lambda: self._services.push.watch(owner, task_uuid, session_uuid)

    # -- sessions ------------------------------------------------------------------------

    def _join_session(self, owner: str, session_uuid: str) -> None:
        sessions = self._services.sessions
        if self._session is not None and self._session.uuid != session_uuid:
            self._leave_session([])
        self._session = sessions.attach(session_uuid, owner, self._outbox)
        sessions.replay(self._session)

    def _leave_session(self, unsent: list[Frame]) -> None:
        if self._session is not None:
            self._services.sessions.detach(self._session, self._outbox, unsent)
            self._session = None

    # -- writing -------------------------------------------------------------------------

    def _answer(self, request: Request, reply: Reply, follow_ups: list[FollowUp]) -> None:
        text = _text(self._path.capped(reply).body())
        self._journal(request, text)
        fault = request.fault
        outgoing = Outgoing(text) if fault is None or request.stopped else _spoiled(text, fault)
        if outgoing is not None:
            self._outbox.reply(outgoing)
        for follow_up in follow_ups:
            follow_up()

    def _journal(self, request: Request, reply_text: str | None) -> None:
        # The owner and session the frame ended with: an authentication changes them.
        self._path.journal(request, reply_text.encode() if reply_text is not None else None,
                           key=self._owner, session=self._session_uuid)

    async def _write_until_closed(self) -> list[Frame]:
        """Send queued frames in order until the outbox closes; returns the pushed frames that
        could not be sent, for the session to keep."""
        unsent: list[Frame] = []
        broken = False
        while (outgoing := await self._outbox.next()) is not None:
            if not broken:
                try:
                    text = await self._send(outgoing)
                except _SEND_FAILURES:
                    broken = True
                    # Reading notices the closed socket and closes the outbox; until then,
                    # stop taking pushes that would only be lost.
                    self._outbox.close()
                else:
                    if outgoing.pushed is not None:
                        self._journal_push(text)
                    if outgoing.close is not None:
                        broken = True  # closed on purpose: what follows goes to the session
                        self._outbox.close()
                    continue
            if outgoing.pushed is not None:
                unsent.append(outgoing.pushed)
        return unsent

    async def _send(self, outgoing: Outgoing) -> str:
        text = outgoing.text if outgoing.text is not None else _text(outgoing.pushed)
        if outgoing.delay:
            # In the writer, so the frames behind it wait too, as on a slow link.
            await asyncio.sleep(outgoing.delay)
        if outgoing.text is not None or outgoing.pushed is not None:
            for _ in range(outgoing.copies):
                await self._socket.send_text(text)
        if outgoing.close is not None:
            await self._socket.close(code=outgoing.close[0], reason=outgoing.close[1])
        return text

    def _journal_push(self, text: str) -> None:
        self._services.journal.record(TRANSPORT, "sent", api_key=self._owner,
                                      raw_reply=text.encode(), session=self._session_uuid)


def _spoiled(text: str, fault: Fault) -> Outgoing | None:
    """The reply frame as a processed frame's transport fault sends it (None: not at all)."""
    match fault.name:
        case "ws_no_pong":
            return None
        case "malformed":
            return Outgoing(malformed(text.encode()).decode())
        case "truncated":
            return Outgoing(truncated(text.encode(), float(fault["fraction"])).decode("utf-8",
                                                                                   "ignore"))
        case "latency":
            return Outgoing(text, delay=float(fault["delaySeconds"]))
        case "ws_duplicate":
            return Outgoing(text, copies=int(fault["copies"]))
        case "ws_close":
            return Outgoing(text, close=(int(fault["code"]), str(fault["reason"])))
    return Outgoing(text)


def _payload(message: dict[str, Any]) -> str | bytes:
    text = message.get("text")
    return text if text is not None else message.get("bytes") or b""


def _authenticates(tasks: list[Any]) -> bool:
    return any(isinstance(task, dict) and task.get("taskType") == "authentication"
               for task in tasks)


def _not_authenticated(task: Any) -> ApiError:
    scope = task if isinstance(task, dict) else {}
    return error("invalidApiKey", "This socket is not authenticated: send "
                 '[{"taskType": "authentication", "apiKey": "<key>"}] before any other task.',
                 parameter="apiKey", task_type=_str_or_none(scope.get("taskType")),
                 task_uuid=_str_or_none(scope.get("taskUUID")))


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text(value: Any) -> str:
    return jsoncodec.dumps(value).decode()
