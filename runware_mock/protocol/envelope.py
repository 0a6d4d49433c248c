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
# JSON's whitespace, which may stand between the brackets of an empty array or object.
_BLANKS = b" \t\n\r"


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
    seconds, take hundreds of megabytes (and answer a million errors), where a 20 MB base64
    string takes milliseconds. The first count is an upper bound (commas and brackets inside
    strings count too); only a body past it is counted again, exactly, still without parsing."""
    values, openers = await _count_values(raw, limits.json_values)
    if values > limits.json_values:
        # Commas and brackets inside strings count in the bound: a prompt of commas is fine.
        values, openers = await _count_values_exactly(raw, limits.json_values)
    if values > limits.json_values:
        return [], failed(error(
            "payloadTooLarge", f"The {source} holds more than {limits.json_values} JSON values "
            "(arrays, objects, strings, numbers, booleans and nulls; object keys are not "
            "counted)."))
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


async def _count_values_exactly(raw: bytes | str, most: int) -> tuple[int, int]:
    """The JSON values in ``raw`` (exact for valid JSON) and its opening brackets, both outside
    strings. In valid JSON every value but the first follows a comma or the opening bracket of
    a non-empty array or object, and a backslash only appears inside a string, escaping the
    character after it: once the escape pairs are dropped, every quote opens or closes a
    string. Counted a slice at a time without parsing (no object per value, whatever the body
    holds); the count stops once past ``most``."""
    text = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    counted, openers = 1, 0
    inside, tail, escape = False, b"", b""
    for start in range(0, len(text), _COUNT_SLICE):
        if start:
            await asyncio.sleep(0)
        piece, escape = _unescaped(escape + text[start:start + _COUNT_SLICE])
        pieces = piece.split(b'"')
        if inside:  # the first piece ends a string
            pieces.insert(0, b"")
        inside = len(pieces) % 2 == 0
        # What lies between strings, each string left as one quote (``["a"]`` holds a value).
        outside = b'"'.join(pieces[0::2]).translate(None, _BLANKS)
        brackets = outside.count(b"[") + outside.count(b"{")
        empty = (tail + outside).count(b"[]") + (tail + outside).count(b"{}")
        openers += brackets
        counted += outside.count(b",") + brackets - empty
        tail = b'"' if inside else outside[-1:] or tail
        if counted > most:
            break
    return counted, openers


def _unescaped(piece: bytes) -> tuple[bytes, bytes]:
    """``piece`` without its escape pairs, and the backslash left at its end if the pair it
    starts goes on in the next slice. Left to right, escaped backslashes first: in ``\\"``
    the quote ends the string."""
    if b"\\" not in piece:
        return piece, b""
    run = len(piece) - len(piece.rstrip(b"\\"))
    carried = b"\\" if run % 2 else b""
    if carried:
        piece = piece[:-1]
    return piece.replace(b"\\\\", b"").replace(b'\\"', b""), carried


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
