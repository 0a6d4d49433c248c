"""The request journal: every REST request and WebSocket frame, with what was answered.

It is capped three times so it stays small under any load: at most ``limit`` entries (the
oldest are dropped first), every string value cut to ``value_limit`` characters, because
requests carry base64 media of several megabytes that a test never needs back in full, and at
most ``entry_bytes`` of strings per entry, the API key and object keys included, so no request
(a million fields, a megabyte of bearer key) costs the journal more than that.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

TRANSPORTS = ("rest", "websocket")
# "request": a REST request and its response. "received": a WebSocket frame from the client
# (with the reply frame, if one answered it at once). "sent": a frame the server pushed.
KINDS = ("request", "received", "sent")
# Deeper nesting than this is never a valid task; cutting it keeps trimming cheap and safe.
_MAX_DEPTH = 24
# Messages up to this size are kept as their wire bytes (a poll is ~70 bytes, its reply ~300).
_RAW_LIMIT = 2048
# Larger messages that were not parsed already are kept as text, not parsed again.
_PARSED_LIMIT = 64 * 1024
# What a number, a boolean, a null or a container costs against an entry's budget.
_ITEM_BYTES = 8


class JournalEntry:
    """One exchange. A small message is kept as the raw JSON bytes it was on the wire and
    parsed only when the journal is read: recording then costs almost nothing per request."""

    __slots__ = ("_request", "_response", "_task_types", "_task_uuids", "_trim", "api_key",
                 "faults", "id", "kind", "session", "status", "time", "transport")

    def __init__(self, *, id: int, time: float, transport: str, kind: str, api_key: str | None,
                 request: Any, response: Any, status: int | None, session: str | None,
                 trim: Callable[[Any], Any], faults: tuple[dict[str, Any], ...] = ()) -> None:
        self.id, self.time, self.transport, self.kind = id, time, transport, kind
        self.api_key, self.status, self.session = api_key, status, session
        # The injected faults that hit this exchange (transport, task and delivery ones).
        self.faults = faults
        self._request, self._response, self._trim = request, response, trim
        self._task_uuids: tuple[str, ...] | None = None
        self._task_types: tuple[str, ...] | None = None

    @property
    def request(self) -> Any:
        if isinstance(self._request, bytes):
            self._request = self._trim(_parse(self._request))
        return self._request

    @property
    def response(self) -> Any:
        if isinstance(self._response, bytes):
            self._response = self._trim(_parse(self._response))
        return self._response

    @property
    def task_uuids(self) -> tuple[str, ...]:
        if self._task_uuids is None:
            self._task_uuids = _unique(_task_uuids(self.request, self.response))
        return self._task_uuids

    @property
    def task_types(self) -> tuple[str, ...]:
        if self._task_types is None:
            self._task_types = _task_types(self.request, self.response)
        return self._task_types

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "time": self.time, "transport": self.transport, "kind": self.kind,
                "apiKey": self.api_key, "taskUUIDs": list(self.task_uuids),
                "taskTypes": list(self.task_types), "request": self.request,
                "response": self.response, "status": self.status, "session": self.session,
                "faults": list(self.faults)}


def _parse(raw: bytes) -> Any:
    """The JSON in ``raw``, or its text when it is not JSON (or nests past the parser)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return raw.decode("utf-8", "replace")


@dataclass(frozen=True)
class JournalQuery:
    """Entries matching every criterion given; ``None`` means any."""

    task_uuid: str | None = None
    task_type: str | None = None
    since: float | None = None
    until: float | None = None
    transport: str | None = None
    kind: str | None = None
    api_key: str | None = None
    # A fault kind, "any" (hit by some fault) or "none".
    fault: str | None = None

    def matches(self, entry: JournalEntry) -> bool:
        return (
            (self.task_uuid is None or self.task_uuid.lower() in entry.task_uuids)
            and (self.task_type is None or self.task_type in entry.task_types)
            and (self.since is None or entry.time >= self.since)
            and (self.until is None or entry.time <= self.until)
            and (self.transport is None or entry.transport == self.transport)
            and (self.kind is None or entry.kind == self.kind)
            and (self.api_key is None or entry.api_key == self.api_key)
            and (self.fault is None or _hit_by(entry, self.fault))
        )


def _hit_by(entry: JournalEntry, fault: str) -> bool:
    if fault == "any":
        return bool(entry.faults)
    if fault == "none":
        return not entry.faults
    return any(hit.get("kind") == fault for hit in entry.faults)


class Journal:
    def __init__(self, limit: int, value_limit: int,
                 now: Callable[[], float] = time.time, *, entry_bytes: int = 4096) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=limit)
        self._value_limit = value_limit
        self._entry_bytes = entry_bytes
        self._now = now
        self._recorded = 0
        # Every exchange ever recorded, by (transport, kind): never cleared, for /metrics.
        self.totals: Counter[tuple[str, str]] = Counter()

    @property
    def limit(self) -> int:
        return self._entries.maxlen or 0

    @property
    def recorded(self) -> int:
        """Entries ever recorded since the last clear, kept or dropped."""
        return self._recorded

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, transport: str, kind: str, *, api_key: str | None = None,
               tasks: Any = None, reply: Any = None, status: int | None = None,
               session: str | None = None, raw_tasks: bytes | None = None,
               raw_reply: bytes | None = None,
               faults: list[dict[str, Any]] | None = None) -> JournalEntry:
        """Keep one exchange. ``tasks`` is what the client sent (the parsed JSON array, or the
        raw text when it did not parse); ``reply`` the JSON object answered or pushed. When the
        wire bytes are given (``raw_tasks``, ``raw_reply``) and small, they are kept instead
        and parsed on reading; large ones (base64 media) are trimmed now."""
        self._recorded += 1
        self.totals[(transport, kind)] += 1
        budget = _Budget(self._entry_bytes)
        key = self._cut(api_key) if isinstance(api_key, str) else None
        budget.spend(len(key or "") + len(session or ""))
        entry = JournalEntry(
            id=self._recorded, time=self._now(), transport=transport, kind=kind,
            api_key=key, request=self._keep(raw_tasks, tasks, budget),
            response=self._keep(raw_reply, reply, budget), status=status,
            session=session, trim=self._trim,
            faults=_kept_faults(faults or (), budget))
        self._entries.append(entry)
        return entry

    def _cut(self, text: str) -> str:
        limit = self._value_limit
        return text if len(text) <= limit else f"{text[:limit]}… [{len(text)} characters]"

    def _keep(self, raw: bytes | None, parsed: Any, budget: _Budget) -> Any:
        if raw is not None and len(raw) <= min(_RAW_LIMIT, budget.left):
            budget.spend(len(raw))
            return raw
        if raw is not None and parsed is None:
            # A large body that did not parse as tasks is kept as text: parsing megabytes
            # again here (with the slow parser, if orjson refused it) would hold the loop.
            parsed = _parse(raw) if len(raw) <= _PARSED_LIMIT else \
                raw[:self._value_limit].decode("utf-8", "replace")
        return self._trim(parsed, budget=budget)

    def entries(self, query: JournalQuery | None = None,
                limit: int | None = None) -> list[JournalEntry]:
        """Matching entries, oldest first; with ``limit``, only the newest ``limit`` of them."""
        query = self._as_kept(query)
        found = [entry for entry in self._entries if query is None or query.matches(entry)]
        return found[-limit:] if limit else found

    def count(self, query: JournalQuery | None = None) -> int:
        query = self._as_kept(query)
        return sum(1 for entry in self._entries if query is None or query.matches(entry))

    def _as_kept(self, query: JournalQuery | None) -> JournalQuery | None:
        """A long API key is kept cut: a query for it matches the cut form."""
        if query is None or query.api_key is None:
            return query
        return dataclasses.replace(query, api_key=self._cut(query.api_key))

    def clear(self) -> None:
        self._entries.clear()
        self._recorded = 0

    def _trim(self, value: Any, depth: int = 0, budget: _Budget | None = None) -> Any:
        """``value`` with every string cut to the value limit, and, with a budget, only as
        much of it as the budget pays for: the rest is named, not kept."""
        budget = budget or _Budget(self._entry_bytes)
        if isinstance(value, str):
            kept = self._cut(value)
            budget.spend(len(kept))
            return kept
        budget.spend(_ITEM_BYTES)
        if depth >= _MAX_DEPTH and isinstance(value, dict | list | tuple):
            return "… [nested too deep]"
        if isinstance(value, dict):
            return self._trim_object(value, depth, budget)
        if isinstance(value, list | tuple):
            return self._trim_array(value, depth, budget)
        return value

    def _trim_object(self, value: dict[Any, Any], depth: int,
                     budget: _Budget) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for key, item in value.items():
            if budget.left <= 0:
                kept["…"] = f"[{len(value) - len(kept)} more fields: over the entry's bytes]"
                break
            name = str(key)[:self._value_limit]
            budget.spend(len(name))
            kept[name] = self._trim(item, depth + 1, budget)
        return kept

    def _trim_array(self, value: list[Any] | tuple[Any, ...], depth: int,
                    budget: _Budget) -> list[Any]:
        kept: list[Any] = []
        for item in value[:self._value_limit]:
            if budget.left <= 0:
                break
            kept.append(self._trim(item, depth + 1, budget))
        if len(value) > len(kept):
            kept.append(f"… [{len(value) - len(kept)} more items]")
        return kept


def _kept_faults(faults: Iterable[dict[str, Any]], budget: _Budget) -> tuple[dict[str, Any], ...]:
    """The faults that hit an exchange, whole (filters read them), while the budget lasts."""
    kept: list[dict[str, Any]] = []
    listed = list(faults)
    for hit in listed:
        if kept and budget.left <= 0:
            kept.append({"omitted": len(listed) - len(kept)})
            break
        budget.spend(len(json.dumps(hit, default=str)))
        kept.append(hit)
    return tuple(kept)


class _Budget:
    """Bytes of strings an entry may still keep."""

    __slots__ = ("left",)

    def __init__(self, total: int) -> None:
        self.left = total

    def spend(self, size: int) -> None:
        self.left -= size


def _task_uuids(tasks: Any, reply: Any) -> Iterator[str]:
    for item in _objects(tasks):
        if isinstance(item.get("taskUUID"), str):
            yield item["taskUUID"].lower()
    for item in _reply_objects(reply):
        if isinstance(item.get("taskUUID"), str):
            yield item["taskUUID"].lower()


def _task_types(tasks: Any, reply: Any) -> tuple[str, ...]:
    """What the client asked for; for a pushed frame (nothing asked), what it carries."""
    asked = [item["taskType"] for item in _objects(tasks) if isinstance(item.get("taskType"), str)]
    if asked:
        return _unique(asked)
    return _unique(item["taskType"] for item in _reply_objects(reply)
                   if isinstance(item.get("taskType"), str))


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list | tuple):
        yield from (item for item in value if isinstance(item, dict))


def _reply_objects(reply: Any) -> Iterator[dict[str, Any]]:
    if isinstance(reply, dict):
        yield from _objects(reply.get("data"))
        yield from _objects(reply.get("errors"))


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


@dataclass(frozen=True)
class Expectation:
    """How many entries a verify call expects: exactly, or within bounds (at least once when
    nothing is said, like WireMock's verify)."""

    exactly: int | None = None
    at_least: int | None = None
    at_most: int | None = None

    def holds(self, count: int) -> bool:
        if self.exactly is not None:
            return count == self.exactly
        if self.at_least is None and self.at_most is None:
            return count >= 1
        return ((self.at_least is None or count >= self.at_least)
                and (self.at_most is None or count <= self.at_most))

    def describe(self) -> str:
        if self.exactly is not None:
            return f"exactly {self.exactly}"
        bounds = [f"at least {self.at_least}" if self.at_least is not None else "",
                  f"at most {self.at_most}" if self.at_most is not None else ""]
        return " and ".join(bound for bound in bounds if bound) or "at least 1"
