"""What a transport fault does to an answer: the error it replaces it with, or how it spoils
it. Shared by REST (``rest_faults``) and the WebSocket transport."""

from __future__ import annotations

import dataclasses
from typing import Any

from runware_mock.contract.errors import ApiError, error
from runware_mock.faults.fault_kinds import FaultSpecError
from runware_mock.faults.injector import Fault
from runware_mock.protocol.envelope import Reply

_MESSAGES = {429: "Too many requests: the queue is at capacity. Retry after a while.",
             500: "Internal server error.",
             502: "Bad gateway: the upstream provider did not answer properly.",
             503: "Service temporarily unavailable. Retry after a while.",
             504: "Gateway timeout: the request waited too long in the queue."}


def error_reply(fault: Fault, tasks: list[Any]) -> Reply:
    """An ``http_error`` fault's answer: one error per task, each with its taskUUID (the SDKs
    route errors by it), or one unscoped error when no task could be read."""
    status = int(fault["status"])
    message = fault["message"] or _MESSAGES[status]
    problem = dataclasses.replace(
        error(str(fault["code"]), f"{message} (fault injected by rule {fault.rule_id})"),
        status=status)
    scoped = [_scoped(problem, task) for task in tasks if isinstance(task, dict)]
    return Reply(errors=scoped or [problem])


def fault_header_error(exc: FaultSpecError) -> ApiError:
    """A bad X-Mock-Fault header: the request is refused, naming what is wrong."""
    return error("invalidFaultHeader", f"X-Mock-Fault: {exc}", parameter=exc.parameter)


def malformed(body: bytes) -> bytes:
    """The answer with its last brace turned into a trailing comma: no JSON parser takes it."""
    return body[:-1] + b",}" if body.endswith(b"}") else body + b",}"


def truncated(body: bytes, fraction: float) -> bytes:
    return body[:int(len(body) * fraction)]


def _scoped(problem: ApiError, task: dict[str, Any]) -> ApiError:
    task_type, task_uuid = task.get("taskType"), task.get("taskUUID")
    return dataclasses.replace(problem,
                               task_type=task_type if isinstance(task_type, str) else None,
                               task_uuid=task_uuid if isinstance(task_uuid, str) else None)
