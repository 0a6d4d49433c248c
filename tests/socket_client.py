"""A thin JSON client of the WebSocket transport over a real socket, and the ping it answers."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from websockets.sync.client import ClientConnection, connect

KEY = "test-key"
PING = [{"taskType": "ping", "ping": True}]
PONG = {"data": [{"taskType": "ping", "pong": True}]}


class Socket:
    """A thin JSON client: every frame sent is a list of tasks, every frame read an object."""

    def __init__(self, url: str) -> None:
        self._closing = contextlib.ExitStack()
        self.connection: ClientConnection = self._closing.enter_context(
            connect(url, max_size=None, open_timeout=10))

    def send(self, tasks: list[Any] | str | bytes) -> None:
        self.connection.send(tasks if isinstance(tasks, str | bytes) else json.dumps(tasks))

    def read(self, timeout: float = 60) -> dict[str, Any]:
        return json.loads(self.connection.recv(timeout))

    def ask(self, tasks: list[Any] | str | bytes) -> dict[str, Any]:
        self.send(tasks)
        return self.read()

    def authenticate(self, key: str = KEY, session: str | None = None) -> str:
        task: dict[str, Any] = {"taskType": "authentication", "apiKey": key}
        if session is not None:
            task["connectionSessionUUID"] = session
        reply = self.ask([task])
        assert "errors" not in reply, reply
        return str(reply["data"][0]["connectionSessionUUID"])

    def nothing_pending(self) -> bool:
        """Frames arrive in order, so if a ping's pong is the next frame, nothing else was
        queued before it."""
        return self.ask(PING) == PONG

    def close(self) -> None:
        self._closing.close()
