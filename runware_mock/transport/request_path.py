"""The one path of a task array, whichever way it came: ``POST /v1``, a WebSocket frame, or a
``POST /v1`` a follower worker offloaded to the leader (``transport.offload``).

``RequestPath.receive`` parses the array, takes the request's X-Mock-Fault rules and its API
key, and picks the transport fault; ``answer`` checks the key and dispatches the tasks
(``needs_key``: a task type's flag says which run without one); ``journal`` records the
exchange. The transports only frame bytes: an HTTP response or stream and the spoiled or
stopped answers of a fault (``transport.rest``), frames, the socket's session and the
authentication tasks that change whom its next frames run as (``transport.websocket``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from runware_mock.contract.errors import ApiError
from runware_mock.faults import TRANSPORT, Fault, FaultSpecError, Rule, header_rules
from runware_mock.faults.answers import fault_header_error
from runware_mock.faults.fault_kinds import Traffic
from runware_mock.faults.traffic import request_traffic
from runware_mock.handling.task_type import Context, TaskType
from runware_mock.protocol.envelope import Reply, failed, read_task_array
from runware_mock.transport.request_limits import TransportLimits

REST, WEBSOCKET = "rest", "websocket"
# Frames up to this size are journaled as their wire bytes; larger ones (base64 media) as the
# parsed tasks, which the journal trims: encoding a large text frame again would cost more.
_RAW_FRAME_BYTES = 256 * 1024
_STREAMED = {"stream": "text/event-stream"}
_REQUEST_KEY: Any = object()  # journal: the key the request came with


class Dispatch(Protocol):
    async def run(self, tasks: list[Any], context: Context) -> Reply: ...

    async def run_one(self, task: Any, index: int, context: Context) -> Reply: ...


class Keys(Protocol):
    def accepts(self, key: object) -> bool: ...

    def rejection(self, key: object) -> ApiError: ...


class TransportFaults(Protocol):
    def armed(self, header: Sequence[Rule] = ()) -> bool: ...

    def pick(self, scope: str, traffic: Traffic, header: Sequence[Rule] = ()) -> Fault | None: ...


class JournalWriter(Protocol):
    def record(self, transport: str, kind: str, *, api_key: str | None = None,
               tasks: Any = None, reply: Any = None, status: int | None = None,
               session: str | None = None, raw_tasks: bytes | None = None,
               raw_reply: bytes | None = None,
               faults: list[dict[str, Any]] | None = None) -> object: ...


@dataclass(slots=True)
class Sender:
    """Who sent a task array, as its transport knows them."""

    transport: str
    # REST: the Authorization header ("" when none): its bearer key, else the apiKey of an
    # authentication task first in the array. None over a socket, which has its owner.
    authorization: str | None = None
    # WebSocket: whom the socket runs tasks as (None until an authentication succeeds).
    owner: str | None = None
    # The X-Mock-Fault rules of the request (or of the socket's handshake).
    rules: tuple[Rule, ...] = ()
    # What a bad X-Mock-Fault header of the request answers instead of its tasks.
    rules_problem: Reply | None = None


def rest_sender(authorization: str, fault_headers: Sequence[str]) -> Sender:
    """A REST request's sender, from its Authorization and X-Mock-Fault headers."""
    if not fault_headers:
        return Sender(REST, authorization)
    try:
        return Sender(REST, authorization, rules=tuple(header_rules(fault_headers)))
    except FaultSpecError as exc:
        return Sender(REST, authorization, rules_problem=failed(fault_header_error(exc)))


@dataclass(slots=True)
class Request:
    """A task array received, and what the path made of it."""

    raw: bytes | bytearray | str
    sender: Sender
    key: Any
    tasks: list[Any]
    # Why the tasks are not run: the array did not parse, or a bad X-Mock-Fault header.
    problem: Reply | None = None
    fault: Fault | None = None
    # The transport fault first, then the faults that fired while handling: for the journal.
    fired: list[Fault] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        """A transport fault keeps the tasks from being handled."""
        return self.fault is not None and not self.fault.kind.processed


class RequestPath:
    """Parse, fault, key, dispatch and journal: the same for every transport."""

    def __init__(self, dispatcher: Dispatch, keys: Keys, faults: TransportFaults,
                 journal: JournalWriter, task_types: Mapping[str, TaskType],
                 limits: TransportLimits) -> None:
        self.limits = limits
        self.keys = keys
        self._dispatcher = dispatcher
        self._faults = faults
        self._journal = journal
        self._task_types = task_types

    async def receive(self, raw: bytes | bytearray | str, sender: Sender) -> Request:
        source = "frame" if sender.transport == WEBSOCKET else "request body"
        tasks, problem = await read_task_array(raw, source, self.limits.request)
        key = sender.owner if sender.authorization is None else \
            _api_key(sender.authorization, tasks)
        request = Request(raw, sender, key, tasks, sender.rules_problem or problem)
        if request.problem is None and self._faults.armed(sender.rules):
            request.fault = self._faults.pick(
                TRANSPORT, request_traffic(tasks, key, sender.transport), sender.rules)
            if request.fault is not None:
                request.fired.append(request.fault)
        return request

    async def answer(self, request: Request) -> Reply:
        """The reply to a request no fault stopped: its problem, or its tasks run as the owner
        of its key. A key not accepted runs only tasks that need none."""
        if request.problem is not None:
            return self.capped(request.problem)
        tasks = request.tasks
        if self.keys.accepts(request.key):
            owner = str(request.key)
        elif any(self.needs_key(task) for task in tasks):
            return failed(self.keys.rejection(request.key))
        else:
            owner = ""
        # Built directly: dataclasses.replace costs more than the rest of a poll's dispatch.
        context = Context(owner, request.sender.transport, None, request.sender.rules,
                          request.fired, len(tasks) == 1)
        return self.capped(await self._dispatcher.run(tasks, context))

    async def run_task(self, task: Any, index: int, context: Context) -> Reply:
        """One task of a frame, as the socket's state says (``transport.websocket``)."""
        return await self._dispatcher.run_one(task, index, context)

    def needs_key(self, task: Any) -> bool:
        """Whether a task runs only for an accepted key (all but keep-alive do)."""
        found = self.task_type(task)
        return found is None or found.needs_key

    def task_type(self, task: Any) -> TaskType | None:
        name = task.get("taskType") if isinstance(task, dict) else None
        return self._task_types.get(name) if isinstance(name, str) else None

    def capped(self, reply: Reply) -> Reply:
        return reply.capped(self.limits.request.errors)

    def journal(self, request: Request, answer: bytes | None, *, status: int | None = None,
                streamed: bool = False, key: Any = _REQUEST_KEY,
                session: str | None = None) -> None:
        """What the emulator meant to answer (``answer``: None when it answered nothing, or
        a stream, whose events are not kept); ``key``: the one the exchange ended with (an
        authentication frame changes the socket's), else the request's."""
        tasks: Any = None if request.problem is not None else request.tasks
        websocket = request.sender.transport == WEBSOCKET
        raw = None if websocket and len(request.raw) > _RAW_FRAME_BYTES else \
            _as_bytes(request.raw)
        if tasks is None and raw is None:
            tasks = _printable(request.raw)  # a large frame that did not parse: cut
        self._journal.record(
            request.sender.transport, "received" if websocket else "request",
            api_key=request.key if key is _REQUEST_KEY else key, status=status,
            tasks=tasks, raw_tasks=raw, raw_reply=answer,
            reply=_STREAMED if streamed else None, session=session,
            faults=[fault.to_json() for fault in request.fired])

    def key_of(self, authorization: str) -> Any:
        """The API key of an Authorization header."""
        return _api_key(authorization, [])

    def journal_reused(self, authorization: str, raw: bytes, status: int,
                       answer: bytes) -> None:
        """An answer a follower worker gives again, unparsed (``transport.offload``)."""
        self._journal.record(REST, "request", api_key=self.key_of(authorization),
                             status=status, raw_tasks=raw, raw_reply=answer, faults=[])

    def journal_unread(self, authorization: str, note: str, status: int,
                       answer: bytes) -> None:
        """A REST body not read (over the size limit), answered ``answer``."""
        self._journal.record(REST, "request", api_key=self.key_of(authorization),
                             status=status, tasks=note, raw_reply=answer, faults=[])


def _api_key(authorization: str, tasks: list[Any]) -> Any:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    first = tasks[0] if tasks else None
    if isinstance(first, dict) and first.get("taskType") == "authentication":
        return first.get("apiKey")
    return None


def _as_bytes(raw: bytes | bytearray | str) -> bytes | bytearray:
    return raw.encode() if isinstance(raw, str) else raw


def _printable(raw: bytes | bytearray | str) -> str:
    return raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
