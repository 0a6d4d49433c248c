"""Everything the proxy does with an exchange once the client has its answer: the drift checks
and the recording, one exchange at a time in the order they happened, on a task of their own,
so they never delay or change what the client gets. A backlog past ``BACKLOG`` exchanges is
counted as not checked rather than held in memory."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from runware_mock.contract.errors import status_for
from runware_mock.protocol import jsoncodec
from runware_mock.proxy.conversation import AskEmulator, AwaitFinished, Conversation
from runware_mock.proxy.drift import Drift
from runware_mock.proxy.parsed_answer import Answer, decoded, read_answer, read_envelope
from runware_mock.proxy.recorder import Recorder
from runware_mock.proxy.report import DriftReport
from runware_mock.replay.cassette import Recording, redacted

log = logging.getLogger("runware_mock.proxy")

BACKLOG = 10_000
# Keys whose REST conversation (their tasks, for polls) is kept; the oldest go first.
_CONVERSATIONS = 1000
_POLLS_SEEN = 10_000
# Recordings a WebSocket holds open for the frames still to come (pushed results); past
# that, the oldest is written.
_OPEN_RECORDINGS = 1000
# An upstream that refused the key answered for the key, not for the request.
_KEY_REFUSALS = ("invalidApiKey", "unauthorized", "authenticationFailed")

Job = Callable[[], Awaitable[None]]


def bearer(authorization: str) -> str | None:
    scheme, _, credentials = authorization.partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


class Observer:
    def __init__(self, ask: AskEmulator, finished: AwaitFinished, report: DriftReport,
                 recorder: Recorder | None) -> None:
        self._ask = ask
        self._finished = finished
        self.report = report
        self._recorder = recorder
        self._jobs: asyncio.Queue[Job] = asyncio.Queue(BACKLOG)
        self._conversations: OrderedDict[str | None, Conversation] = OrderedDict()
        self._polls: dict[bytes, list[Drift]] = {}  # a poll and its answer, seen: the drifts
        self._idle = asyncio.Event()
        self._idle.set()

    def rest(self, authorization: str, body: bytes, status: int, headers: dict[str, str],
             answer: bytes) -> None:
        self._enqueue(lambda: self._rest(authorization, body, status, headers, answer))

    def websocket(self, authorization: str) -> SocketObservation:
        return SocketObservation(self, bearer(authorization))

    async def run(self) -> None:
        """The worker: until cancelled."""
        while True:
            job = await self._jobs.get()
            try:
                await job()
            except Exception:
                log.exception("a drift check failed")  # the client's exchange went through
            finally:
                if self._jobs.empty():
                    if self.report.changed:
                        await asyncio.to_thread(self.report.save)
                    if self._jobs.empty():
                        self._idle.set()

    async def settled(self, timeout: float | None = None) -> None:
        """Once every exchange seen so far is checked (and recorded)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._idle.wait()

    def _enqueue(self, job: Job, answer: bool = True) -> None:
        """``answer``: the job checks an answer (counted in the report's ``relayed``)."""
        self.report.relayed += answer
        try:
            self._jobs.put_nowait(job)
            self._idle.clear()
        except asyncio.QueueFull:
            self.report.unchecked += 1

    def _conversation(self, key: str | None) -> Conversation:
        conversation = self._conversations.pop(key, None) or Conversation(self._ask,
                                                                          self._finished)
        conversation.api_key = key
        self._conversations[key] = conversation
        while len(self._conversations) > _CONVERSATIONS:
            self._conversations.popitem(last=False)
        return conversation

    async def _rest(self, authorization: str, body: bytes, status: int,
                    headers: dict[str, str], raw: bytes) -> None:
        tasks = _tasks_of(body)
        text = decoded(raw, headers.get("content-encoding", ""))
        content_type = headers.get("content-type", "")
        answer = read_answer(status, content_type, text) if text is not None else None
        key = bearer(authorization)
        if answer is None or _not_about_the_request(answer):
            self.report.unchecked += 1
            return
        conversation = self._conversation(key)
        if tasks is None:
            self.report.add(await conversation.malformed(body, answer))
            return
        await self._check(conversation, tasks, body, text, answer)
        secrets = [secret for secret in (key, conversation.api_key, authorization) if secret]
        assert text is not None
        await self.keep(Recording("rest", redacted(tasks), status, content_type,
                                  text.decode("utf-8", "replace")), secrets)

    async def _check(self, conversation: Conversation, tasks: list[Any], body: bytes,
                     text: bytes, answer: Answer) -> None:
        """A poll answered as the same poll was before has the same drifts: a client polling
        a task (until it is done, or again after) asks the emulator once per answer, not per
        poll. Polls change nothing the emulator keeps, so it misses nothing."""
        polls = all(isinstance(task, dict) and task.get("taskType") == "getResponse"
                    for task in tasks)
        seen = hashlib.blake2b(b"%b\0%b\0%b" % (
            (conversation.api_key or "").encode(), body, text)).digest() if polls else None
        drifts = self._polls.get(seen) if seen is not None else None
        if drifts is None:
            await conversation.request(tasks)
            drifts = await conversation.answer(answer)
        if seen is not None:
            self._polls.pop(seen, None)
            self._polls[seen] = drifts
            if len(self._polls) > _POLLS_SEEN:
                del self._polls[next(iter(self._polls))]
        self.report.add(drifts)

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    async def keep(self, recording: Recording, secrets: list[str]) -> None:
        if self._recorder is not None and not await self._recorder.record(recording, secrets):
            self.report.not_recorded += 1


class SocketObservation:
    """One relayed WebSocket: its frames, in the order they crossed the proxy."""

    def __init__(self, observer: Observer, api_key: str | None) -> None:
        self._observer = observer
        self._conversation = Conversation(observer._ask, observer._finished)
        self._conversation.api_key = api_key
        self._recordings: list[Recording] = []
        self._by_task: dict[str, Recording] = {}
        self._untasked: Recording | None = None  # the last frame without task UUIDs

    def sent(self, frame: str | bytes) -> None:
        self._observer._enqueue(lambda: self._sent(frame), answer=False)

    def received(self, frame: str | bytes) -> None:
        self._observer._enqueue(lambda: self._received(frame))

    def closed(self) -> None:
        self._observer._enqueue(self._closed, answer=False)

    async def _sent(self, frame: str | bytes) -> None:
        tasks = _tasks_of(frame)
        if tasks is None:
            return
        await self._conversation.request(tasks)
        if not self._observer.recording:
            return
        recording = Recording("websocket", redacted(tasks))
        self._recordings.append(recording)
        uuids = [task["taskUUID"] for task in tasks
                 if isinstance(task, dict) and isinstance(task.get("taskUUID"), str)]
        for uuid in uuids:
            self._by_task[uuid] = recording
        if not uuids:
            self._untasked = recording
        if len(self._recordings) > _OPEN_RECORDINGS:  # a long-lived socket: write the oldest
            await self._keep(self._recordings.pop(0))

    async def _received(self, frame: str | bytes) -> None:
        try:
            answer = read_envelope(None, jsoncodec.loads(frame))
        except ValueError:
            answer = None
        if answer is None:
            self._observer.report.unchecked += 1
            return
        if _not_about_the_request(answer):
            self._observer.report.unchecked += 1
        else:
            self._observer.report.add(await self._conversation.answer(answer))
        if not self._observer.recording:
            return
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        owner = next((self._by_task[uuid] for uuid in _uuids(answer) if uuid in self._by_task),
                     self._untasked)
        if owner is not None:
            owner.frames.append(text)

    async def _closed(self) -> None:
        for recording in self._recordings:
            await self._keep(recording)

    async def _keep(self, recording: Recording) -> None:
        for uuid in [uuid for uuid, owner in self._by_task.items() if owner is recording]:
            del self._by_task[uuid]
        key = self._conversation.api_key
        await self._observer.keep(recording, [key] if key else [])


def _tasks_of(body: str | bytes) -> list[Any] | None:
    try:
        tasks = jsoncodec.loads(body)
    except ValueError:
        return None
    return tasks if isinstance(tasks, list) else None


def _uuids(answer: Answer) -> list[str]:
    return [uuid for item in (*answer.items, *answer.errors)
            if isinstance(uuid := item.get("taskUUID"), str)]


def _not_about_the_request(answer: Answer) -> bool:
    """An answer refusing the key, or saying the service cannot answer now (429, 5xx): it
    tells nothing of how the service takes the request."""
    if answer.status is not None and (answer.status == 429 or answer.status >= 500):
        return True
    return any(problem.get("code") in _KEY_REFUSALS or _transient(problem.get("code"))
               for problem in answer.errors if "status" not in problem)


def _transient(code: Any) -> bool:
    return isinstance(code, str) and (status_for(code) == 429 or status_for(code) >= 500)
