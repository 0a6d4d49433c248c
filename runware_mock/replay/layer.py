"""``serve --replay DIR``: the requests a cassette holds answered with its recorded answers,
in front of the emulator, which answers everything else (or, with ``--replay-strict``, an
error says the request is not in the cassette).

Matching (the docs' "Check the emulator against the real service" page says the same):

- a request (a REST body or a WebSocket frame) matches a recorded one when their tasks are the
  same, in the same order, but for each task's ``taskUUID`` and its secret-looking fields
  (``apiKey`` ...), which are per request;
- a ``getResponse`` matches by the task it polls: a fresh ``taskUUID`` that a replayed
  submission took is polled as the recorded task it stands for; the n-th poll of it gets the
  n-th recorded poll (the last one again after that), so progress goes as recorded;
- the n-th identical request gets the n-th recording of it (the last one again after that);
- ``ping`` and ``authentication`` are never replayed: the emulator answers them.

An answer is the recorded one with each recorded ``taskUUID`` replaced by the request's, and
each media URL by the cassette's copy, served at ``/__replay/<name>``. A stream is sent event
by event; a WebSocket request is answered with the recorded frames in their order.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.responses import FileResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runware_mock.contract.errors import error
from runware_mock.protocol import jsoncodec
from runware_mock.replay.cassette import MEDIA, Recording, is_secret_field, load

MEDIA_PREFIX = "/__replay/"
_REST_PATHS = ("/v1", "/v1/", "/")
_NEVER_REPLAYED = ("ping", "authentication")
# Fresh taskUUIDs (and requests) remembered for their polls; the oldest are forgotten first.
_REMEMBERED = 100_000


@dataclass(frozen=True)
class Match:
    recording: Recording
    uuids: dict[str, str]  # recorded taskUUID -> the request's


def request_key(tasks: list[Any], uuids: dict[str, str] | None = None) -> str | None:
    """What a request is matched on; ``uuids`` maps a fresh polled taskUUID to its recorded
    one. None for a request never replayed."""
    if not tasks or not all(isinstance(task, dict) for task in tasks):
        return None
    if any(task.get("taskType") in _NEVER_REPLAYED for task in tasks):
        return None
    return json.dumps([_normalized(task, uuids or {}) for task in tasks], sort_keys=True,
                      separators=(",", ":"))


def _normalized(task: dict[str, Any], uuids: dict[str, str]) -> dict[str, Any]:
    kept = {key: value for key, value in task.items()
            if key != "taskUUID" and not is_secret_field(key)}
    if task.get("taskType") == "getResponse":
        kept["taskUUID"] = uuids.get(task.get("taskUUID"), task.get("taskUUID"))
    return kept


class Cassette:
    """The index of a cassette and where each replayed request stands."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._recordings: dict[str, list[Recording]] = {}
        for recording in load(directory):
            key = request_key(recording.tasks)
            if key is not None:
                self._recordings.setdefault(key, []).append(recording)
        self._taken: dict[tuple[str, tuple[str, ...]], int] = {}
        self._stands_for: OrderedDict[str, str] = OrderedDict()  # fresh -> recorded taskUUID

    def __len__(self) -> int:
        return sum(len(found) for found in self._recordings.values())

    def match(self, tasks: list[Any]) -> Match | None:
        key = request_key(tasks, self._stands_for)
        found = self._recordings.get(key) if key is not None else None
        if not found:
            return None
        fresh = tuple(str(task.get("taskUUID")) for task in tasks)
        # Polls count per polled task; other requests per content.
        turn = (key, fresh if all(t.get("taskType") == "getResponse" for t in tasks) else ())
        taken = self._taken.pop(turn, 0)
        self._taken[turn] = taken + 1
        if len(self._taken) > _REMEMBERED:
            del self._taken[next(iter(self._taken))]
        recording = found[min(taken, len(found) - 1)]
        uuids = {}
        for recorded, mine in zip(recording.tasks, tasks, strict=True):
            old, new = recorded.get("taskUUID"), mine.get("taskUUID")
            if isinstance(old, str) and isinstance(new, str):
                uuids[old] = new
                self._remember(new, old)
        return Match(recording, uuids)

    def _remember(self, fresh: str, recorded: str) -> None:
        self._stands_for.pop(fresh, None)
        self._stands_for[fresh] = recorded
        while len(self._stands_for) > _REMEMBERED:
            self._stands_for.popitem(last=False)

    def answer_texts(self, match: Match, base_url: str) -> list[str]:
        """The recorded answers, with the request's taskUUIDs and the local media URLs."""
        texts = match.recording.answer_texts()
        replaced = {**match.uuids, **{url: f"{base_url}{MEDIA_PREFIX}{name}"
                                      for url, name in match.recording.media.items()}}
        for old, new in replaced.items():
            texts = [text.replace(old, new) for text in texts]
        return texts

    def media_file(self, name: str) -> Path | None:
        if "/" in name or name.startswith(".") or not name:
            return None
        path = self.directory / MEDIA / name
        return path if path.is_file() else None


class ReplayLayer:
    """ASGI: in front of the emulator's app."""

    def __init__(self, app: ASGIApp, cassette: Cassette, base_url: str, strict: bool) -> None:
        self.app = app
        self._cassette = cassette
        self._base_url = base_url
        self._strict = strict

    @property
    def state(self) -> Any:
        return self.app.state  # type: ignore[attr-defined]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in _REST_PATHS:
            await self._rest(scope, receive, send)
        elif scope["type"] == "http" and scope["path"].startswith(MEDIA_PREFIX):
            await self._media(scope, receive, send)
        elif scope["type"] == "websocket" and scope["path"] in ("/v1", "/v1/"):
            await self.app(scope, self._frames(receive, send), send)
        else:
            await self.app(scope, receive, send)

    async def _rest(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, more = await _whole_body(receive)
        tasks = _tasks(body) if not more else None
        match = self._cassette.match(tasks) if tasks is not None else None
        if match is not None:
            await self._replayed(match, scope, receive, send)
            return
        if self._strict and tasks is not None and request_key(tasks) is not None:
            problem = error("notInCassette", "This request is not in the cassette "
                            f"{self._cassette.directory} (serve --replay-strict).")
            await _json(send, 404, {"errors": [problem.to_json()]})
            return
        await self.app(scope, _replaying(body, more, receive), send)

    async def _replayed(self, match: Match, scope: Scope, receive: Receive, send: Send
                        ) -> None:
        texts = self._cassette.answer_texts(match, self._base_url)
        recording = match.recording
        if recording.transport == "rest":
            status, content_type, body = recording.status or 200, recording.content_type, texts[0]
        else:
            status, content_type = 200, "application/json"
            body = _merged_frames(texts)
        if content_type.startswith("text/event-stream"):
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", content_type.encode()),
                                    (b"cache-control", b"no-cache")]})
            for event in _events(body):
                await send({"type": "http.response.body", "body": event, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        await _raw(send, status, content_type or "application/json", body.encode())

    async def _media(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = self._cassette.media_file(scope["path"].removeprefix(MEDIA_PREFIX))
        if path is None:
            problem = error("notFound", f"No file {scope['path']} in the cassette.")
            await _json(send, 404, {"errors": [problem.to_json()]})
            return
        await FileResponse(path)(scope, receive, send)

    def _frames(self, receive: Receive, send: Send) -> Receive:
        """The client's frames as the emulator receives them, but the ones the cassette
        answers, whose recorded frames are sent instead."""

        async def receive_unreplayed() -> Message:
            while True:
                message = await receive()
                if message["type"] != "websocket.receive":
                    return message
                tasks = _tasks(message.get("text") or message.get("bytes") or b"")
                match = self._cassette.match(tasks) if tasks is not None else None
                if match is None and self._strict and tasks is not None \
                        and request_key(tasks) is not None:
                    problem = error("notInCassette", "This frame is not in the cassette "
                                    f"{self._cassette.directory} (serve --replay-strict).")
                    await send({"type": "websocket.send",
                                "text": jsoncodec.dumps({"errors": [problem.to_json()]}).decode()})
                    continue
                if match is None:
                    return message
                for text in self._frame_texts(match):
                    await send({"type": "websocket.send", "text": text})

        return receive_unreplayed

    def _frame_texts(self, match: Match) -> list[str]:
        texts = self._cassette.answer_texts(match, self._base_url)
        if match.recording.transport == "websocket":
            return texts
        if match.recording.content_type.startswith("text/event-stream"):
            return [event.decode().removeprefix("data: ").strip() for event in _events(texts[0])
                    if event.startswith(b"data: {")]
        return texts


def _tasks(body: bytes | str) -> list[Any] | None:
    try:
        tasks = jsoncodec.loads(body)
    except ValueError:
        return None
    return tasks if isinstance(tasks, list) and tasks else None


def _merged_frames(frames: list[str]) -> str:
    """A WebSocket recording's frames as one REST body."""
    data: list[Any] = []
    errors: list[Any] = []
    for frame in frames:
        envelope = jsoncodec.loads(frame)
        data += envelope.get("data", []) if isinstance(envelope, dict) else []
        errors += envelope.get("errors", []) if isinstance(envelope, dict) else []
    envelope = {"data": data} if data else {}
    return jsoncodec.dumps(envelope | ({"errors": errors} if errors else {})).decode()


def _events(body: str) -> list[bytes]:
    return [event.encode() + b"\n\n" for event in body.split("\n\n") if event.strip()]


# Bodies past this are not matched: the cassette holds no such request.
_MOST = 16 * 1024 * 1024


async def _whole_body(receive: Receive) -> tuple[bytes, bool]:
    """The body, up to ``_MOST`` bytes; ``more``: the rest was left unread."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False) or message["type"] == "http.disconnect":
            return b"".join(chunks), False
        if size > _MOST:
            return b"".join(chunks), True


def _replaying(body: bytes, more: bool, receive: Receive) -> Receive:
    """``receive`` as the emulator needs it: the body read so far first."""
    given = False

    async def receive_again() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": more}

    return receive_again


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    await _raw(send, status, "application/json", jsoncodec.dumps(body))


async def _raw(send: Send, status: int, content_type: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
