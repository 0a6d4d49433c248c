"""WebSocket sessions (``connectionSessionUUID``) and the push of finished results to them.

A session outlives its socket by ``session_keep_seconds``: results pushed while no socket is
attached wait in its backlog, and are replayed in order when a client authenticates again with
the same connectionSessionUUID. These timers run on real monotonic time, not on the simulated
clock, because they are about connections: advancing simulated time to finish renders must not
end a client's session.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from runware_mock.engine.lifecycle import Generation, ResultBody, Task, TaskEngine, TaskNotFound
from runware_mock.engine.randomness import Randomness

Frame = dict[str, Any]


class Outbox(Protocol):
    def offer(self, frame: Frame) -> bool:
        """Queue a pushed frame for a socket; False once that socket is closed."""
        ...


@dataclass(eq=False)
class Session:
    uuid: str
    owner: str
    outbox: Outbox | None = None
    detached_at: float | None = None
    backlog: list[Frame] = field(default_factory=list)

    def expired(self, now: float, keep_seconds: float) -> bool:
        return (self.outbox is None and self.detached_at is not None
                and now - self.detached_at > keep_seconds)


@dataclass
class SessionStats:
    opened: int = 0
    resumed: int = 0
    replayed: int = 0
    expired: int = 0


class SessionRegistry:
    def __init__(self, keep_seconds: float, randomness: Randomness,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._keep_seconds = keep_seconds
        self._random = randomness
        self._now = now
        self._sessions: dict[str, Session] = {}
        self._drawn = 0
        self.stats = SessionStats()

    def candidate(self, owner: str, requested: object) -> str:
        """The session an authentication would join: the requested one when this owner can
        resume it, else a new UUID (the reply then tells the client it did not resume)."""
        if isinstance(requested, str) and self._resumable(owner, requested) is not None:
            return requested
        return self._new_uuid()

    def attach(self, session_uuid: str, owner: str, outbox: Outbox) -> Session:
        """Put a socket on a session, creating the session or resuming it. A socket that takes
        over a session still attached elsewhere wins: the older socket gets no more pushes."""
        session = self._resumable(owner, session_uuid)
        if session is None:
            session = Session(session_uuid, owner)
            self._sessions[session_uuid] = session
            self.stats.opened += 1
        elif session.outbox is None:
            self.stats.resumed += 1
        session.outbox, session.detached_at = outbox, None
        return session

    def replay(self, session: Session) -> int:
        """Send what the session missed; call it after the authentication reply is queued."""
        pending, session.backlog = session.backlog, []
        sent = 0
        for frame in pending:
            if session.outbox is None or not session.outbox.offer(frame):
                session.backlog = pending[sent:]
                break
            sent += 1
        self.stats.replayed += sent
        return sent

    def detach(self, session: Session, outbox: Outbox, unsent: list[Frame]) -> None:
        """The socket is gone; ``unsent`` are pushed frames it never managed to send, older
        than anything pushed to the backlog since."""
        if session.outbox is not outbox:
            return
        session.outbox, session.detached_at = None, self._now()
        session.backlog[:0] = unsent

    def deliver(self, session_uuid: str, frame: Frame) -> None:
        session = self._sessions.get(session_uuid)
        if session is None:
            return
        if session.outbox is not None and session.outbox.offer(frame):
            return
        session.backlog.append(frame)

    def get(self, session_uuid: str) -> Session | None:
        return self._sessions.get(session_uuid)

    def attached(self) -> int:
        return sum(1 for session in self._sessions.values() if session.outbox is not None)

    def sweep(self) -> int:
        """Forget sessions detached for longer than the keep time, with their backlog."""
        now = self._now()
        stale = [key for key, session in self._sessions.items()
                 if session.expired(now, self._keep_seconds)]
        for key in stale:
            del self._sessions[key]
        self.stats.expired += len(stale)
        return len(stale)

    def _resumable(self, owner: str, session_uuid: str) -> Session | None:
        session = self._sessions.get(session_uuid)
        if session is None or session.owner != owner:
            return None
        if session.expired(self._now(), self._keep_seconds):
            del self._sessions[session_uuid]
            self.stats.expired += 1
            return None
        return session

    def _new_uuid(self) -> str:
        self._drawn += 1
        bits = self._random.stream("session", self._drawn).getrandbits(128)
        return str(uuid.UUID(int=bits, version=4))


class ResultPush:
    """Pushes each finished generation to the sessions watching its task.

    A session watches a task it submitted, resent (conflictTaskUUID) or polled while the task
    was running, so a client that waits on a socket for a result (runware 0.5.x drops
    "processing" replies and waits 30 s per poll) gets it the moment it exists.
    """

    def __init__(self, engine: TaskEngine, result_body: ResultBody, sessions: SessionRegistry,
                 enabled: bool) -> None:
        self._engine = engine
        self._result_body = result_body
        self._sessions = sessions
        self.enabled = enabled
        self._watchers: dict[str, set[str]] = {}

    def watch(self, owner: str, task_uuid: object, session_uuid: str) -> bool:
        """Returns whether the session now watches the task (a running task of this owner)."""
        if not self.enabled or not isinstance(task_uuid, str):
            return False
        try:
            task = self._engine.get(owner, task_uuid)
        except TaskNotFound:
            return False
        if task.finished:
            return False
        self._watchers.setdefault(task.task_uuid, set()).add(session_uuid)
        return True

    def on_finished(self, task: Task, generation: Generation) -> None:
        """The engine's listener, called once per generation at its terminal state."""
        watchers = self._watchers.get(task.task_uuid)
        if not watchers:
            return
        frame = self._frame(task, generation)
        for session_uuid in sorted(watchers):
            self._sessions.deliver(session_uuid, frame)
        if task.finished:
            del self._watchers[task.task_uuid]

    def keep_only(self, task_uuids: Iterable[str]) -> None:
        """Drop watches of tasks the engine no longer has (expired or reset)."""
        kept = set(task_uuids)
        for task_uuid in [key for key in self._watchers if key not in kept]:
            del self._watchers[task_uuid]

    def _frame(self, task: Task, generation: Generation) -> Frame:
        return self._result_body(task, generation)
