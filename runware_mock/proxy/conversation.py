"""The drift checks of one client's exchanges: a REST request and its answer, or the frames of
one WebSocket connection, compared task by task with what the emulator answers to the same.

The emulator (``shadow``) is asked each request once, in the order the client sent them, so
its tasks follow the client's: a poll is answered for the task the client submitted. An
upstream item is compared with the emulator's item of the same task, type and status; when
the emulator has none with that status yet, it is polled for the task once more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from runware_mock.protocol import jsoncodec
from runware_mock.proxy.drift import (
    Drift,
    Outcome,
    false_failure,
    outcome,
    outcome_drifts,
    schema_drifts,
    shape_drifts,
)
from runware_mock.proxy.parsed_answer import Answer, read_answer
from runware_mock.proxy.shadow import EmulatedAnswer

AskEmulator = Callable[[bytes, str | None], Awaitable[EmulatedAnswer]]
AwaitFinished = Callable[[str], Awaitable[None]]
# Answers the upstream gives without looking at the task (no drift to measure there).
_UNCHECKED = ("ping", "authentication")
_MOST_ALIASES = 10_000
_FINAL = ("success", "error")
# Tasks one conversation remembers (for their polls), and emulated items per task.
_KEPT_TASKS, _KEPT_ITEMS = 10_000, 20


@dataclass
class _Task:
    task: dict[str, Any]
    checked: bool = False
    emulated: list[dict[str, Any]] = field(default_factory=list)
    # The emulator was asked about the task with the request being answered: asking it
    # again for a status it lacks would tell nothing new.
    asked: bool = False

    def emulated_more(self, items: list[dict[str, Any]]) -> None:
        self.emulated = [*self.emulated, *items][-_KEPT_ITEMS:]


class Conversation:
    def __init__(self, ask: AskEmulator, finished: AwaitFinished) -> None:
        self._ask = ask
        self._finished = finished
        self.api_key: str | None = None
        self._tasks: dict[str, _Task] = {}
        self._emulated_errors: dict[str, list[dict[str, Any]]] = {}
        self._general: list[dict[str, Any]] = []
        self._last_asked: list[str] = []  # the taskUUIDs of the last request
        # An identifier or URL the upstream made (mediaUUID, imageURL...) -> the emulator's
        # for the same thing, so a later request that names it means the same to both.
        self._aliases: dict[str, str] = {}

    async def request(self, tasks: list[Any]) -> None:
        """A request (a REST body or a client frame) the upstream was sent."""
        objects = [task for task in tasks if isinstance(task, dict)]
        for task in objects:
            if task.get("taskType") == "authentication" and isinstance(task.get("apiKey"), str):
                self.api_key = task["apiKey"]
        asked = [task for task in objects if task.get("taskType") not in _UNCHECKED]
        if not asked:
            return
        answer = await self._emulated(jsoncodec.dumps(_aliased(asked, self._aliases)))
        self._general = answer.unattributed_errors() if not answer.items else []
        self._last_asked = []
        for task in asked:
            uuid = task.get("taskUUID")
            if not isinstance(uuid, str):
                continue
            self._last_asked.append(uuid)
            known = self._tasks.setdefault(uuid, _Task(task))
            known.asked = True
            if task.get("taskType") == "getResponse":
                known.emulated_more(answer.items_of(uuid))
                self._emulated_errors[uuid] = answer.errors_of(uuid)
                continue
            known.task, known.checked = task, False
            known.emulated = answer.items_of(uuid)
            self._emulated_errors[uuid] = answer.errors_of(uuid)
        while len(self._tasks) > _KEPT_TASKS:  # the oldest tasks are polled no more
            forgotten = next(iter(self._tasks))
            del self._tasks[forgotten]
            self._emulated_errors.pop(forgotten, None)

    async def malformed(self, body: bytes, answer: Answer) -> list[Drift]:
        """A body that is no task array: the errors of both sides compared."""
        upstream, emulator = outcome(answer, None), outcome(await self._emulated(body), None)
        if upstream is None or emulator is None:
            return []
        return outcome_drifts({"taskType": "(no task array)"}, upstream, emulator)

    async def answer(self, answer: Answer) -> list[Drift]:
        """An answer of the upstream (a whole REST answer, or one frame): its drifts."""
        found: list[Drift] = []
        mentioned = [item.get("taskUUID") for item in (*answer.items, *answer.errors)]
        if answer.unattributed_errors() and not answer.items:  # the whole request refused
            mentioned += self._last_asked
        tasks = {uuid: self._tasks[uuid] for uuid in mentioned
                 if isinstance(uuid, str) and uuid in self._tasks}
        for uuid, known in tasks.items():
            if not known.checked:
                found += self._acceptance(known, uuid, answer)
        for item in answer.items:
            found += await self._item_drifts(item, answer.streamed)
        found += self._error_drifts(answer)
        for known in tasks.values():
            known.asked = False  # what comes next of the task (a pushed result) is news
        return found

    def _acceptance(self, known: _Task, uuid: str, answer: Answer) -> list[Drift]:
        known.checked = True
        if known.task.get("taskType") == "getResponse":
            return []
        upstream = outcome(answer, uuid)
        emulated = Answer(None, known.emulated, self._emulated_errors.get(uuid, []) or
                          self._general)
        emulator = outcome(emulated, uuid) or Outcome(None)
        return outcome_drifts(known.task, upstream, emulator) if upstream else []

    async def _item_drifts(self, item: dict[str, Any], streamed: bool) -> list[Drift]:
        where = _where(item, streamed)
        # A streamed chunk is no result item: its fields are compared with the emulator's
        # chunk below, not with the response schema of a finished result.
        found = [] if streamed else schema_drifts(item, where)
        uuid = item.get("taskUUID")
        known = self._tasks.get(uuid) if isinstance(uuid, str) else None
        if known is None:
            return found
        counterpart = _counterpart(item, known.emulated, streamed)
        if counterpart is None and not streamed and not known.asked:
            if item.get("status") in _FINAL:
                await self._finished(uuid)
            polled = await self._emulated(jsoncodec.dumps(
                [{"taskType": "getResponse", "taskUUID": uuid}]))
            known.emulated_more(polled.items_of(uuid))
            self._emulated_errors[uuid] = polled.errors_of(uuid)
            counterpart = _counterpart(item, known.emulated, streamed)
        failure = next((problem for problem in self._emulated_errors.get(uuid, [])
                        if problem.get("status") == "error"), None)
        if counterpart is None and failure is not None and item.get("status") == "success":
            found.append(false_failure(known.task, item, failure))
        if counterpart is None:
            if streamed and not any(_streamed(other) for other in known.emulated) \
                    and known.emulated:
                found.append(Drift("answer form", f"{item.get('taskType')}: streamed upstream, "
                                   "JSON from the emulator", "the upstream answered with "
                                   "server-sent events where the emulator answers JSON",
                                   {"upstream": item}))
            return found
        self._learn_aliases(item, counterpart)
        return _unique(found + shape_drifts(item, counterpart, where))

    def _learn_aliases(self, upstream: dict[str, Any], emulated: dict[str, Any]) -> None:
        for name, value in upstream.items():
            other = emulated.get(name)
            if name != "taskUUID" and name.endswith(("UUID", "URL")) and isinstance(
                    value, str) and isinstance(other, str) and value != other:
                if len(self._aliases) >= _MOST_ALIASES:
                    self._aliases.pop(next(iter(self._aliases)))
                self._aliases[value] = other

    def _error_drifts(self, answer: Answer) -> list[Drift]:
        """The fields of an error the emulator gives with the same code."""
        found: list[Drift] = []
        for problem in answer.errors:
            uuid = problem.get("taskUUID")
            emulated = self._emulated_errors.get(uuid, []) if isinstance(uuid, str) \
                else self._general
            same = [other for other in emulated if other.get("code") == problem.get("code")]
            if same:
                found += shape_drifts(problem, same[0], f"error {problem.get('code')}")
        return found

    async def _emulated(self, body: bytes) -> Answer:
        emulated = await self._ask(body, self.api_key)
        answer = read_answer(emulated.status, emulated.content_type, emulated.body)
        return answer or Answer(emulated.status)


def _aliased(value: Any, aliases: dict[str, str]) -> Any:
    if not aliases:
        return value
    if isinstance(value, str):
        return aliases.get(value, value)
    if isinstance(value, list):
        return [_aliased(inner, aliases) for inner in value]
    if isinstance(value, dict):
        return {key: _aliased(inner, aliases) for key, inner in value.items()}
    return value


def _where(item: dict[str, Any], streamed: bool) -> str:
    if streamed:
        return f"{item.get('taskType')} stream {'end' if 'finishReason' in item else 'chunk'}"
    return f"{item.get('taskType')} {item.get('status') or 'answer'}"


def _streamed(item: dict[str, Any]) -> bool:
    return "delta" in item


def _counterpart(item: dict[str, Any], emulated: list[dict[str, Any]], streamed: bool
                 ) -> dict[str, Any] | None:
    for other in reversed(emulated):
        if other.get("taskType") != item.get("taskType"):
            continue
        if streamed and _streamed(other) and ("finishReason" in other) == (
                "finishReason" in item):
            return other
        if not streamed and not _streamed(other) and other.get("status") == item.get("status"):
            return other
    return None


def _unique(drifts: list[Drift]) -> list[Drift]:
    return list({drift.key: drift for drift in reversed(drifts)}.values())[::-1]
