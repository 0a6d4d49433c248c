"""``authentication``: opens (or resumes) a connection session; the transport checks the key."""

from __future__ import annotations

import uuid

from runware_mock.contract.request_types import AuthenticationRequest
from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.protocol.envelope import Reply, succeeded


async def authentication(task: AuthenticationRequest, context: Context,
                         services: TaskServices) -> Reply:
    session = context.session_uuid or task.get("connectionSessionUUID") or str(uuid.uuid4())
    return succeeded({"taskType": "authentication", "connectionSessionUUID": session})


TASK_TYPE = TaskType.immediate("authentication", authentication, "request.authentication")
