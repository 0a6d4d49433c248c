"""The Runware envelope: what one request (or WebSocket frame) answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runware_mock.contract.errors import ApiError, error
from runware_mock.protocol import jsoncodec


@dataclass
class Reply:
    data: list[dict[str, Any]] = field(default_factory=list)
    errors: list[ApiError] = field(default_factory=list)

    def extend(self, other: Reply) -> None:
        self.data.extend(other.data)
        self.errors.extend(other.errors)

    def body(self) -> dict[str, Any]:
        """``errors`` is left out when empty: runware-sdk raises on any ``errors`` key."""
        body: dict[str, Any] = {}
        if self.data or not self.errors:
            body["data"] = self.data
        if self.errors:
            body["errors"] = [problem.to_json() for problem in self.errors]
        return body

    def http_status(self) -> int:
        """200 when anything succeeded; otherwise the status of the first error."""
        if self.data or not self.errors:
            return 200
        return self.errors[0].status


def failed(*errors: ApiError) -> Reply:
    return Reply(errors=list(errors))


def succeeded(*items: dict[str, Any]) -> Reply:
    return Reply(data=list(items))


def parse_task_array(raw: bytes | str,
                     source: str = "request body") -> tuple[list[Any], Reply | None]:
    """A REST body or a WebSocket frame must be a non-empty JSON array; its elements are
    checked one by one later. ``source`` names it in the error message."""
    try:
        tasks = jsoncodec.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return [], failed(error("invalidJSON", f"The {source} is not valid JSON: {exc}."))
    if not isinstance(tasks, list) or not tasks:
        return [], failed(error("invalidRequestFormat",
                                f"The {source} must be a non-empty JSON array of task objects, "
                                'e.g. [{"taskType": "ping", "ping": true}].'))
    return tasks, None
