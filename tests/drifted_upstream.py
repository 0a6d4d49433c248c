"""A fake upstream for the proxy's tests: the emulator on 127.0.0.1, with its answers drifted on
purpose, as the real service may drift from what the emulator knows:

- an extra result field: every imageInference result gains ``NSFWContent``;
- a widened enum: imageInference's ``outputFormat: "GIF"`` is accepted (answered as PNG);
- a field the emulator refuses: imageInference's ``clipSkipStrength`` is accepted (ignored);
- a renamed error code: ``invalidTaskUUID`` is answered as ``invalidUUID``;
- a streamed text answer whose delta chunks carry a ``logprobs`` field.

Everything the fake sends (REST bodies, stream events, WebSocket frames) is kept, so a test
can compare it with what reached the client through the proxy. ``hold_streams`` keeps each
stream's end until ``release_streams`` is called: a client that already has the first events
then proves the proxy passes them on as they arrive.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from typing import Any

import orjson
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runware_mock import datadir
from runware_mock.app import create_app, server_options
from runware_mock.runner import EmulatorURLs, free_port
from runware_mock.settings import Settings

EXTRA_FIELD = "NSFWContent"
WIDENED = ("outputFormat", "GIF")
ACCEPTED_FIELD = "clipSkipStrength"
RENAMED = ("invalidTaskUUID", "invalidUUID")
STREAM_FIELD = "logprobs"


def _drift_request(tasks: Any) -> Any:
    if not isinstance(tasks, list):
        return tasks
    for task in tasks:
        if isinstance(task, dict) and task.get("taskType") == "imageInference":
            if task.get(WIDENED[0]) == WIDENED[1]:
                task[WIDENED[0]] = "PNG"
            task.pop(ACCEPTED_FIELD, None)
    return tasks


def _drift_answer(envelope: Any) -> Any:
    if not isinstance(envelope, dict):
        return envelope
    for item in envelope.get("data", []):
        if isinstance(item, dict) and item.get("taskType") == "imageInference" \
                and "imageUUID" in item:  # a result, not an ack
            item[EXTRA_FIELD] = False
    for problem in envelope.get("errors", []):
        if isinstance(problem, dict) and problem.get("code") == RENAMED[0]:
            problem["code"] = RENAMED[1]
    return envelope


def _drift_event(event: bytes) -> bytes:
    if not event.startswith(b"data: {"):
        return event
    chunk = orjson.loads(event[6:])
    if "delta" in chunk and "finishReason" not in chunk:
        chunk[STREAM_FIELD] = None
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


class DriftedUpstream:
    """ASGI: the emulator's app with the drifts above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.sent: list[bytes] = []  # every answer body or frame, as sent
        self.hold = threading.Event()
        self.released = threading.Event()

    @property
    def state(self) -> Any:
        return self.app.state  # type: ignore[attr-defined]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1":
            await self._rest(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.app(scope, self._frames_in(receive), self._frames_out(send))
        else:
            await self.app(scope, receive, send)

    async def _rest(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = _rewritten(b"".join(chunks), _drift_request)
        given = False

        async def drifted_receive() -> Message:
            nonlocal given
            if given:
                return await receive()
            given = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, drifted_receive, self._answers(send))

    def _answers(self, send: Send) -> Send:
        start: dict[str, Any] = {}
        stream: list[bytes] = []

        async def drifted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            headers = dict(start.get("headers", []))
            if headers.get(b"content-type", b"").startswith(b"text/event-stream"):
                if not stream:
                    await send(start)
                event = _drift_event(message.get("body", b""))
                stream.append(event)
                if not message.get("more_body") and self.hold.is_set() and not \
                        await asyncio.to_thread(self.released.wait, 60):
                    raise RuntimeError("the stream's end was held a minute: its first events "
                                       "never reached the client")
                if not message.get("more_body"):
                    self.sent.append(b"".join(stream))
                await send({**message, "body": event})
                return
            body = _rewritten(message.get("body", b""), _drift_answer)
            self.sent.append(body)
            kept = [(name, value) for name, value in start["headers"]
                    if name != b"content-length"]
            await send({**start, "headers": [*kept, (b"content-length",
                                                     str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        return drifted_send

    def _frames_in(self, receive: Receive) -> Receive:
        async def drifted_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive" and message.get("text"):
                message = {**message, "text": _rewritten(message["text"].encode(),
                                                         _drift_request).decode()}
            return message

        return drifted_receive

    def _frames_out(self, send: Send) -> Send:
        async def drifted_send(message: Message) -> None:
            if message["type"] == "websocket.send" and message.get("text"):
                text = _rewritten(message["text"].encode(), _drift_answer)
                self.sent.append(text)
                message = {**message, "text": text.decode()}
            await send(message)

        return drifted_send


def _rewritten(body: bytes, drift: Any) -> bytes:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    return orjson.dumps(drift(value))


class DriftedServer(EmulatorURLs):
    """``with DriftedServer(settings) as upstream``: the fake upstream, served in a thread on a
    free port of 127.0.0.1; ``upstream.drifted`` is its drifting layer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = dataclasses.replace(settings, port=free_port())

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def __enter__(self) -> DriftedServer:
        self._claim = datadir.claim(self.settings)
        self.settings = self._claim.settings
        self.drifted = DriftedUpstream(create_app(self.settings, claim=self._claim))
        config = uvicorn.Config(self.drifted, log_level="warning", lifespan="on",
                                **server_options(self.settings))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the fake upstream did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.drifted.released.set()
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._claim.release()
