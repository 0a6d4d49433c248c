"""The Runware envelope: what one request (or WebSocket frame) answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from runware_mock.contract.errors import ApiError, error
from runware_mock.protocol import jsoncodec

# Bytes of a body counted between two yields to the event loop (a few milliseconds each).
_COUNT_SLICE = 1024 * 1024


@dataclass
class Reply:
    data: list[dict[str, Any]] = field(default_factory=list)
    errors: list[ApiError] = field(default_factory=list)
    # Errors found but not listed (validation stops listing a task's errors at a bound).
    omitted: int = 0
    # A streamed answer instead of a body (textInference, deliveryMethod "stream", alone in a
    # REST request): each item one Server-Sent Event, written as it comes.
    events: AsyncIterator[bytes] | None = None

    def extend(self, other: Reply) -> None:
        self.data.extend(other.data)
        self.errors.extend(other.errors)
        self.omitted += other.omitted
        if other.events is not None:
            self.events = other.events

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

    def capped(self, most: int) -> Reply:
        """At most ``most`` errors, then one ``tooManyErrors`` that counts the others: a
        request of a million bad items gets a short answer."""
        if len(self.errors) <= most and not self.omitted:
            return self
        listed = self.errors[:most]
        left = len(self.errors) - len(listed) + self.omitted
        last = error("tooManyErrors", f"{left} more errors were found and are not listed "
                     f"(at most {most} are listed per reply).")
        return Reply(self.data, [*listed, last])


def failed(*errors: ApiError) -> Reply:
    return Reply(errors=list(errors))


def succeeded(*items: dict[str, Any]) -> Reply:
    return Reply(data=list(items))


@dataclass(frozen=True)
class RequestLimits:
    """What one REST body or WebSocket frame may hold (the ``max_*`` settings)."""

    json_values: int = 100_000
    nesting_depth: int = 32
    tasks: int = 100
    errors: int = 50


async def read_task_array(raw: bytes | str, source: str = "request body",
                          limits: RequestLimits = RequestLimits()) -> tuple[list[Any],
                                                                            Reply | None]:
    """A REST body or a WebSocket frame must be a non-empty JSON array, within the limits; its
    elements are checked one by one later. ``source`` names it in the error message.

    The values are counted before parsing, a slice at a time: parsing costs about the same per
    value whatever the value, so a body of a million tiny ones would hold the event loop for
    seconds (and answer a million errors), where a 20 MB base64 string takes milliseconds."""
    values, openers = await _count_values(raw, limits.json_values)
    if values > limits.json_values:
        return [], failed(error(
            "payloadTooLarge", f"The {source} holds more than {limits.json_values} JSON values "
            "(counted as commas and opening brackets, those inside strings too)."))
    try:
        tasks = jsoncodec.loads(raw)
    except jsoncodec.TooDeep:
        return [], failed(_too_deep(source, limits))
    except (ValueError, UnicodeDecodeError) as exc:
        return [], failed(error("invalidJSON", f"The {source} is not valid JSON: {exc}."))
    if openers > limits.nesting_depth and depth(tasks) > limits.nesting_depth:
        return [], failed(_too_deep(source, limits))
    if not isinstance(tasks, list) or not tasks:
        return [], failed(error("invalidRequestFormat",
                                f"The {source} must be a non-empty JSON array of task objects, "
                                'e.g. [{"taskType": "ping", "ping": true}].'))
    if len(tasks) > limits.tasks:
        return [], failed(error("tooManyTasks", f"The {source} holds {len(tasks)} tasks; at "
                                f"most {limits.tasks} are taken at once."))
    return tasks, None


def _too_deep(source: str, limits: RequestLimits) -> ApiError:
    return error("nestingTooDeep", f"The {source} nests arrays and objects deeper than "
                 f"{limits.nesting_depth} levels.")


async def _count_values(raw: bytes | str, most: int) -> tuple[int, int]:
    """An upper bound of the JSON values in ``raw`` (each value but the first follows a comma
    or an opening bracket), and of its opening brackets. Counted in slices, with a yield to the
    loop between them; the count stops once past ``most``."""
    comma, bracket, brace = (",", "[", "{") if isinstance(raw, str) else (b",", b"[", b"{")
    counted, openers = 1, 0
    for start in range(0, len(raw), _COUNT_SLICE):
        if start:
            await asyncio.sleep(0)
        end = start + _COUNT_SLICE
        brackets = raw.count(bracket, start, end) + raw.count(brace, start, end)  # type: ignore[arg-type]
        openers += brackets
        counted += brackets + raw.count(comma, start, end)  # type: ignore[arg-type]
        if counted > most:
            break
    return counted, openers


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0, ``[]`` is 1), without
    recursion: the value may be nested as deep as the parser allowed."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        item, level = pending.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, level + 1) for child in children
                       if isinstance(child, dict | list))
    return deepest
