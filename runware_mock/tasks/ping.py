"""``ping``: answers ``pong``, with or without an API key (a WebSocket keep-alive)."""

from __future__ import annotations

from typing import Any

from runware_mock.protocol.envelope import Reply, succeeded
from runware_mock.tasks.base import Context, TaskServices, TaskType


async def ping(task: dict[str, Any], context: Context, services: TaskServices) -> Reply:
    return succeeded({"taskType": "ping", "pong": True})


TASK_TYPE = TaskType("ping", "request.ping", ping)
