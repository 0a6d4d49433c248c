"""One answer (a REST body, a server-sent event stream, or a WebSocket frame) read into the
items and errors the drift checks compare."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from typing import Any

from runware_mock.protocol import jsoncodec

_DECODERS = {"gzip": gzip.decompress, "x-gzip": gzip.decompress, "deflate": zlib.decompress}


@dataclass
class Answer:
    """``items``: the ``data`` objects (a stream's chunks); ``errors``: the error objects."""

    status: int | None
    items: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    streamed: bool = False

    def items_of(self, task_uuid: str) -> list[dict[str, Any]]:
        return [item for item in self.items if item.get("taskUUID") == task_uuid]

    def errors_of(self, task_uuid: str) -> list[dict[str, Any]]:
        return [problem for problem in self.errors if problem.get("taskUUID") == task_uuid]

    def unattributed_errors(self) -> list[dict[str, Any]]:
        return [problem for problem in self.errors if "taskUUID" not in problem]


def decoded(body: bytes, content_encoding: str) -> bytes | None:
    """The body as sent before its Content-Encoding; None for one this cannot undo."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    decode = _DECODERS.get(encoding)
    try:
        return decode(body) if decode else None
    except (OSError, zlib.error):
        return None


def read_answer(status: int | None, content_type: str, body: bytes) -> Answer | None:
    """None when the body is neither a JSON envelope nor an event stream of JSON objects."""
    if content_type.split(";")[0].strip().lower() == "text/event-stream":
        return _read_events(status, body)
    try:
        envelope = jsoncodec.loads(body)
    except ValueError:
        return None
    return read_envelope(status, envelope)


def read_envelope(status: int | None, envelope: Any) -> Answer | None:
    if not isinstance(envelope, dict):
        return None
    answer = Answer(status)
    _take(answer, envelope)
    return answer


def _take(answer: Answer, envelope: dict[str, Any]) -> None:
    data, errors = envelope.get("data"), envelope.get("errors")
    answer.items += [item for item in data if isinstance(item, dict)] if isinstance(
        data, list) else []
    answer.errors += [item for item in errors if isinstance(item, dict)] if isinstance(
        errors, list) else []


def _read_events(status: int | None, body: bytes) -> Answer:
    answer = Answer(status, streamed=True)
    for event in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        payload = b"\n".join(line[5:].strip() for line in event.split(b"\n")
                             if line.startswith(b"data:"))
        if not payload or payload == b"[DONE]":
            continue
        try:
            value = jsoncodec.loads(payload)
        except ValueError:
            continue
        if isinstance(value, dict) and "errors" in value:
            _take(answer, value)
        elif isinstance(value, dict):
            answer.items.append(value)
    return answer
