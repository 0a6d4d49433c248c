"""The delivery log: every webhook POST and upload PUT attempt, kept per task."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

WEBHOOK, UPLOAD = "webhook", "upload"
# delivered: a 2xx answer ended it. retrying: it failed and another try is scheduled.
# gave-up: the last allowed try failed. refused: never sent (e.g. it points at the emulator).
# skipped: not sent because an injected fault (webhook_skip) said so.
DELIVERED, RETRYING, GAVE_UP, REFUSED = "delivered", "retrying", "gave-up", "refused"
SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Attempt:
    task_uuid: str
    generation: int
    kind: str
    method: str
    url: str
    attempt: int
    time: float
    duration_ms: float
    status: int | None
    error: str | None
    outcome: str
    body_sha256: str
    body_bytes: int
    # The injected delivery fault that shaped this try (webhook_delay, upload_fail, ...).
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"taskUUID": self.task_uuid, "generation": self.generation, "kind": self.kind,
                "method": self.method, "url": self.url, "attempt": self.attempt,
                "time": self.time, "durationMs": round(self.duration_ms, 3),
                "status": self.status, "error": self.error, "outcome": self.outcome,
                "bodySha256": self.body_sha256, "bodyBytes": self.body_bytes,
                "fault": self.fault}


class DeliveryLog:
    def __init__(self) -> None:
        self._by_task: dict[str, list[Attempt]] = {}
        self._pending: Counter[str] = Counter()
        # Every try ever made, by (kind, outcome): never cleared, for /metrics.
        self.totals: Counter[tuple[str, str]] = Counter()

    def add(self, attempt: Attempt) -> None:
        self._by_task.setdefault(attempt.task_uuid, []).append(attempt)
        self.totals[(attempt.kind, attempt.outcome)] += 1

    def attempts(self, task_uuid: str | None = None, kind: str | None = None) -> list[Attempt]:
        """In the order they were made (per task; tasks in the order they first delivered)."""
        if task_uuid is not None:
            found = list(self._by_task.get(task_uuid.lower(), []))
        else:
            found = [attempt for attempts in self._by_task.values() for attempt in attempts]
        return [attempt for attempt in found if kind is None or attempt.kind == kind]

    def started(self, task_uuid: str) -> None:
        self._pending[task_uuid] += 1

    def finished(self, task_uuid: str) -> None:
        self._pending[task_uuid] -= 1
        if self._pending[task_uuid] <= 0:
            del self._pending[task_uuid]

    def pending(self, task_uuid: str | None = None) -> int:
        """Deliveries (of one task, or of all) not yet delivered, given up or refused."""
        if task_uuid is None:
            return sum(self._pending.values())
        return self._pending.get(task_uuid.lower(), 0)

    def delivering(self) -> set[str]:
        """The tasks with a delivery in progress."""
        return set(self._pending)

    def keep_only(self, task_uuids: Iterable[str]) -> None:
        """Forget the attempts of tasks the engine no longer holds (unless still delivering)."""
        keep = set(task_uuids) | self.delivering()
        for task_uuid in [uuid for uuid in self._by_task if uuid not in keep]:
            del self._by_task[task_uuid]

    def clear(self) -> None:
        self._by_task.clear()
        self._pending.clear()
