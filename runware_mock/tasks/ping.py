"""``ping``: answers ``pong``, with or without an API key (a WebSocket keep-alive)."""

from __future__ import annotations

from typing import Any

from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.protocol.envelope import Reply, succeeded


async def ping(task: dict[str, Any], context: Context, services: TaskServices) -> Reply:
    return succeeded({"taskType": "ping", "pong": True})


TASK_TYPE = TaskType("ping", "request.ping", ping, needs_key=False)
