"""One task's story, in order: its submit, every poll and what it answered, every frame pushed,
its results, each webhook and upload try, and every fault that hit it; and its results as the
page shows them (a player for audio and video, an image, text as text).

The journal and the delivery log stamp wall-clock time; the engine stamps simulated time.
An engine moment is placed on the wall clock as "that long before now", which is exact unless
the simulated clock was advanced after it (then it shows earlier than it happened); the page
says which events are simulated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from runware_mock.admin.inspected import Inspected
from runware_mock.delivery.log import Attempt
from runware_mock.engine.lifecycle import Task
from runware_mock.transport.journal import JournalEntry, JournalQuery


@dataclass
class Event:
    time: float
    kind: str  # submit, poll, push, request, result, error, webhook, upload, fault
    title: str
    detail: str = ""
    simulated: bool = False
    faults: list[dict[str, Any]] = field(default_factory=list)
    body: Any = None
    status: int | None = None


def timeline(task: Task, services: Inspected) -> list[Event]:
    wall_now, sim_now = time.time(), services.clock.now()

    def wall(simulated: float) -> float:
        return wall_now - (sim_now - simulated)

    events = [_journal_event(task, entry) for entry in services.journal.entries(
        JournalQuery(task_uuid=task.task_uuid), services.settings.dashboard_timeline)]
    for event in events:
        # The journal stamps an exchange when it is answered: a sync submit, after its
        # results. It came in when the task was submitted.
        if event.kind == "submit":
            event.time = min(event.time, wall(task.submitted_at))
    if not any(event.kind == "submit" for event in events):
        events.append(Event(wall(task.submitted_at), "submit", f"{task.task_type} accepted",
                            "its request is no longer in the journal", simulated=True))
    for fault in task.faults.fired():
        values = getattr(fault, "to_json", dict)()
        events.append(Event(wall(task.submitted_at), "fault", f"{fault.name} chosen at submit",
                            f"rule {fault.rule_id}", simulated=True, faults=[values]))
    for generation in task.generations:
        if generation.finished_at is None:
            continue
        if generation.error is not None:
            events.append(Event(wall(generation.finished_at), "error",
                                f"result {generation.index} failed: {generation.error.code}",
                                generation.error.message, simulated=True))
        else:
            events.append(Event(wall(generation.finished_at), "result",
                                f"result {generation.index} ready",
                                f"{generation.finished_at - task.submitted_at:.1f} s after "
                                "submit (simulated)", simulated=True, body=generation.result))
    events.extend(_delivery_event(attempt)
                  for attempt in services.delivery.log.attempts(task.task_uuid))
    # A submit goes first among events of the same moment (an instant task's results).
    events.sort(key=lambda event: (event.time, event.kind != "submit"))
    return events


def _journal_event(task: Task, entry: JournalEntry) -> Event:
    submitted = task.task_type in entry.task_types and _sends_task(entry.request, task)
    kind = ("submit" if submitted else "push" if entry.kind == "sent"
            else "poll" if "getResponse" in entry.task_types else "request")
    title = {"submit": f"{task.task_type} submitted", "push": "result pushed",
             "poll": "getResponse"}.get(kind, ", ".join(entry.task_types) or entry.kind)
    return Event(entry.time, kind, f"{title} ({entry.transport})", _answered(entry, task),
                 faults=list(entry.faults), body={"request": entry.request,
                                                  "response": entry.response},
                 status=entry.status)


def _sends_task(request: Any, task: Task) -> bool:
    return isinstance(request, list) and any(
        isinstance(item, dict) and item.get("taskType") == task.task_type
        and str(item.get("taskUUID", "")).lower() == task.task_uuid for item in request)


def _answered(entry: JournalEntry, task: Task) -> str:
    """What the reply said about this task: each item's status (and progress), or its
    error codes."""
    reply = entry.response
    if not isinstance(reply, dict):
        return f"answered {str(reply)[:80]}" if reply is not None else "no answer"
    said = []
    for item in reply.get("data") or ():
        if isinstance(item, dict) and str(item.get("taskUUID", "")).lower() == task.task_uuid:
            status = item.get("status", "ok")
            progress = item.get("progress")
            said.append(f"{status} {progress}%" if progress is not None else str(status))
    said.extend(str(problem.get("code")) for problem in reply.get("errors") or ()
                if isinstance(problem, dict))
    return ", ".join(said) or "answered"


def _delivery_event(attempt: Attempt) -> Event:
    outcome = f"HTTP {attempt.status}" if attempt.status is not None else (attempt.error or "")
    return Event(attempt.time, attempt.kind,
                 f"{attempt.kind} try {attempt.attempt}: {attempt.outcome}",
                 f"{attempt.method} {attempt.url} · {outcome} · {attempt.duration_ms:.0f} ms",
                 faults=[{"kind": attempt.fault}] if attempt.fault else [],
                 status=attempt.status)


# --- results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shown:
    """One field of a result as the page shows it: a player, an image, text or a value."""

    key: str
    kind: str  # video, audio, image, text, value
    value: Any


def shown(item: dict[str, Any]) -> list[Shown]:
    """Every field of a result item, media first: the kind is read from the key
    (``videoURL``, ``audioURL``, ``imageURL``, ``text``...) or from a ``data:`` URI, so a new
    task type's results show without a change here."""
    fields = [Shown(key, _kind(key, value), value) for key, value in item.items()]
    order = {"video": 0, "audio": 1, "image": 2, "text": 3, "value": 4}
    return sorted(fields, key=lambda field: order[field.kind])


def _kind(key: str, value: Any) -> str:
    if not isinstance(value, str):
        return "value"
    lowered = key.lower()
    # A link or player only for a web or data URL: never a javascript: one a result echoed.
    playable = value.startswith(("http://", "https://", "data:"))
    for media in ("video", "audio", "image"):
        if playable and ((lowered.startswith(media) and lowered.endswith(("url", "datauri")))
                         or value.startswith(f"data:{media}/")):
            return media
    if lowered in ("text", "enhancedprompt", "caption") or (
            lowered.endswith("text") and len(value) > 40):
        return "text"
    return "value"
