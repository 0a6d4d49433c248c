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
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from runware_mock.contract.errors import ApiError, error
from runware_mock.faults import TRANSPORT as TRANSPORT_FAULTS
from runware_mock.faults import Fault, FaultSpecError, Rule, header_rules
from runware_mock.faults.answers import error_reply, fault_header_error, malformed, truncated
from runware_mock.faults.traffic import request_traffic
from runware_mock.faults.wire import reset, transport_of
from runware_mock.handling.task_type import Context
from runware_mock.protocol import jsoncodec
from runware_mock.protocol.envelope import Reply, failed, read_task_array
from runware_mock.services import Services
from runware_mock.transport.buffers import ABNORMAL_CLOSES, collect_soon
from runware_mock.transport.cross_site import cross_site_refusal
from runware_mock.transport.request_limits import TransportLimits
from runware_mock.transport.sessions import Frame, Session

log = logging.getLogger("runware_mock.websocket")

TRANSPORT = "websocket"
# Frames up to this size are journaled as their wire bytes; larger ones (base64 media) as the
# parsed tasks, which the journal trims.
_OFF_LOOP_BYTES = 256 * 1024
_SEND_FAILURES = (WebSocketDisconnect, RuntimeError, OSError)

FollowUp = Callable[[], None]


async def websocket_tasks(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
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
    await Connection(websocket, services, header).serve()


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
    def __init__(self, websocket: WebSocket, services: Services,
                 header_faults: tuple[Rule, ...] = ()) -> None:
        self._socket = websocket
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
            self._answer(None, raw, failed(error("internalServerError",
                                                 f"The emulator failed: {exc}")), [])

    async def _take_frame(self, raw: str | bytes) -> None:
        limits: TransportLimits = self._socket.app.state.limits
        tasks, problem = await read_task_array(raw, "frame", limits.request)
        if problem is not None:
            self._answer(None, raw, problem, [])
            return
        fault = None
        if self._services.faults.armed(self._header_faults):
            fault = self._services.faults.pick(
                TRANSPORT_FAULTS, request_traffic(tasks, self._owner, TRANSPORT),
                self._header_faults)
        if fault is not None and not fault.kind.processed:
            self._stop(tasks, raw, fault)
        elif _authenticates(tasks) or _only_pings(tasks):
            # Inline: an authentication changes who the next frames run as, and a pong is due
            # at once even while other frames are still being handled.
            await self._handle(tasks, raw, fault)
        else:
            self._spawn(self._handle(tasks, raw, fault))

    def _stop(self, tasks: list[Any], raw: str | bytes, fault: Fault) -> None:
        """A frame that a transport fault keeps from being handled."""
        if fault.name == "http_error":
            self._answer(tasks, raw, error_reply(fault, tasks), [], [fault])
            return
        self._journal_received(tasks, raw, None, [fault])
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

    async def _handle(self, tasks: list[Any], raw: str | bytes, fault: Fault | None) -> None:
        """Run a frame's tasks in order and answer with one frame. Follow-ups (joining a
        session, watching tasks) run after the reply is queued, so a client always sees the
        ack or the authentication reply before anything pushed."""
        follow_ups: list[FollowUp] = []
        fired: list[Fault] = [fault] if fault is not None else []
        try:
            reply = Reply()
            for index, task in enumerate(tasks):
                reply.extend(await self._run(task, index, follow_ups, fired))
        except Exception as exc:
            log.exception("a WebSocket frame failed")
            reply = failed(error("internalServerError", f"The emulator failed: {exc}"))
        self._answer(tasks, raw, reply, follow_ups, fired, fault)

    async def _run(self, task: Any, index: int, follow_ups: list[FollowUp],
                   fired: list[Fault]) -> Reply:
        task_type = task.get("taskType") if isinstance(task, dict) else None
        if task_type == "authentication":
            return await self._authenticate(task, index, follow_ups)
        if self._owner is None and task_type != "ping":
            return failed(_not_authenticated(task))
        context = Context(self._owner or "", TRANSPORT, self._session_uuid,
                          header_faults=self._header_faults, fired=fired)
        reply = await self._services.dispatcher.run_one(task, index, context)
        if self._watches_task(task_type) and self._owner and self._session_uuid:
            follow_ups.append(self._watcher(self._owner, task.get("taskUUID"),
                                            self._session_uuid))
        return reply

    async def _authenticate(self, task: dict[str, Any], index: int,
                            follow_ups: list[FollowUp]) -> Reply:
        services = self._services
        key = task.get("apiKey")
        if not services.authenticator.accepts(key):
            self._owner, self._session_uuid = None, None
            follow_ups.append(lambda: self._leave_session([]))
            return failed(services.authenticator.rejection(key))
        session_uuid = services.sessions.candidate(key, task.get("connectionSessionUUID"))
        reply = await services.dispatcher.run_one(task, index,
                                                  Context(key, TRANSPORT, session_uuid))
        if reply.errors:
            return reply
        self._owner, self._session_uuid = key, session_uuid
        follow_ups.append(lambda: self._join_session(key, session_uuid))
        return reply

    def _watches_task(self, task_type: Any) -> bool:
        """Whether the session watches the task a task of this type names, to push its
        results."""
        found = (self._services.tasks.task_types.get(task_type) if isinstance(task_type, str)
                 else None)
        return found is not None and found.watches_task

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

    def _answer(self, tasks: list[Any] | str | None, raw: str | bytes, reply: Reply,
                follow_ups: list[FollowUp], fired: list[Fault] | None = None,
                fault: Fault | None = None) -> None:
        text = _text(reply.capped(self._socket.app.state.limits.request.errors).body())
        self._journal_received(tasks, raw, text, fired or [])
        outgoing = _spoiled(text, fault) if fault is not None else Outgoing(text)
        if outgoing is not None:
            self._outbox.reply(outgoing)
        for follow_up in follow_ups:
            follow_up()

    def _journal_received(self, tasks: list[Any] | str | None, raw: str | bytes,
                          reply_text: str | None, fired: list[Fault]) -> None:
        # Small frames are journaled as their wire bytes, which costs next to nothing; the
        # journal trims the parsed tasks of a large one (base64 media) instead.
        wire = _as_bytes(raw) if len(raw) <= _OFF_LOOP_BYTES else None
        if tasks is None and wire is None:
            tasks = _printable(raw)  # a large frame that did not parse: the journal cuts it
        self._services.journal.record(
            TRANSPORT, "received", api_key=self._owner, tasks=tasks, raw_tasks=wire,
            raw_reply=reply_text.encode() if reply_text is not None else None,
            session=self._session_uuid, faults=[hit.to_json() for hit in fired])

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


def _as_bytes(raw: str | bytes) -> bytes:
    return raw.encode() if isinstance(raw, str) else raw


def _printable(raw: str | bytes) -> str:
    return raw if isinstance(raw, str) else raw.decode("utf-8", "replace")


def _authenticates(tasks: list[Any]) -> bool:
    return any(isinstance(task, dict) and task.get("taskType") == "authentication"
               for task in tasks)


def _only_pings(tasks: list[Any]) -> bool:
    return all(isinstance(task, dict) and task.get("taskType") == "ping" for task in tasks)


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
