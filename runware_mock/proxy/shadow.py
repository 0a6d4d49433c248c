"""The emulator the proxy compares the upstream with: one in this process, on a temporary data
dir, with no latency, that each request is asked again: in process, through its ASGI app
(never on the network, and without an HTTP client's cost)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.types import Message

from runware_mock.app import create_app
from runware_mock.settings import Settings


def stand_in_key(api_key: str) -> str:
    """What the emulator is given instead of the client's key: the same key always gives the
    same stand-in (tasks stay the key's own), and the real key never reaches its store or
    journal."""
    return "proxy-" + hashlib.sha256(api_key.encode()).hexdigest()[:24]


# Longest wait for the emulator's task to finish (it takes milliseconds: no latency).
FINISH_SECONDS = 10.0


@dataclass(frozen=True)
class EmulatedAnswer:
    status: int
    content_type: str
    body: bytes


class Shadow:
    """``async with Shadow.running(settings) as shadow: await shadow.post(body, key)``"""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self._server = (settings.host, settings.port)

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, settings: Settings) -> AsyncIterator[Shadow]:
        # Instant: its answers are there to compare shapes with, the sooner the better.
        quiet = dataclasses.replace(settings, ephemeral=True, data_dir=None, latency="instant",
                                    api_keys=(), faults="", workers=1, replay=None)
        app = create_app(quiet)
        starlette = app.app
        async with starlette.router.lifespan_context(starlette):
            yield cls(app, quiet)

    async def post(self, body: bytes, api_key: str | None) -> EmulatedAnswer:
        """The emulator's answer to ``POST /v1`` of ``body`` (a stream read to its end)."""
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        if api_key:
            headers.append((b"authorization", f"Bearer {stand_in_key(api_key)}".encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/v1", "raw_path": b"/v1",
                 "root_path": "", "query_string": b"", "headers": headers,
                 "client": ("127.0.0.1", 0), "server": self._server}
        answered = asyncio.Event()
        sent = False
        status, content_type, chunks = 500, "", []

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await answered.wait()  # the client stays until the answer is whole
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = next((value.decode("latin-1") for name, value in
                                     message.get("headers", []) if name == b"content-type"), "")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    answered.set()

        await self.app(scope, receive, send)
        return EmulatedAnswer(status, content_type, b"".join(chunks))

    async def finished(self, task_uuid: str) -> None:
        """Once the emulator's task is finished (it has no latency: the next moments), so a
        result the upstream pushes is compared with the emulator's own, not its progress."""
        engine = self.app.state.services.engine
        if engine.holds(task_uuid):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FINISH_SECONDS):
                    await engine.wait_finished(engine.find(task_uuid))

