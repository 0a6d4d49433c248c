"""What the dashboard's lists show: filtered and paged on the server, so 10,000 tasks or a full
journal cost one page of rows to render, whatever the browser."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from runware_mock.admin.params import AdminInputError
from runware_mock.admin.views import TASK_STATES, task_state
from runware_mock.engine.lifecycle import PROCESSING, Task, TaskEngine

T = TypeVar("T")

# Rows on one page of a list, and the most a page may ask for.
PAGE_SIZE = 50
TASK_FILTERS = ("state", "taskType", "model", "apiKey", "q")


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    number: int
    pages: int
    total: int
    size: int
    query: Mapping[str, str]

    def link(self, number: int) -> str:
        """The query string of another page of the same list."""
        kept = {name: value for name, value in self.query.items() if value and name != "page"}
        return "?" + urlencode({**kept, "page": number})

    @property
    def first_row(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_row(self) -> int:
        return min(self.total, self.number * self.size)


def page_of(items: Sequence[T], params: Mapping[str, str], max_size: int) -> Page:
    """The page ``page`` (1 = first) of ``size`` rows (at most ``max_size``); a page past the
    end shows the last."""
    size = _whole(params, "size", min(PAGE_SIZE, max_size), max_size)
    pages = max(1, math.ceil(len(items) / size))
    number = min(_whole(params, "page", 1, None), pages)
    start = (number - 1) * size
    return Page(list(items[start:start + size]), number, pages, len(items), size, dict(params))


def _whole(params: Mapping[str, str], name: str, default: int, most: int | None) -> int:
    raw = params.get(name) or ""
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise AdminInputError(name, f"{name} must be a whole number >= 1, got {raw[:40]!r}.")
    return min(int(raw), most) if most else int(raw)


def task_filter(params: Mapping[str, str]) -> Callable[[Task], bool]:
    """Tasks matching every filter given: state, taskType, model, apiKey, and ``q`` (a part
    of the taskUUID)."""
    state = params.get("state") or None
    if state is not None and state not in TASK_STATES:
        raise AdminInputError("state", f"state must be one of {', '.join(TASK_STATES)}, "
                              f"got {state[:40]!r}.")
    task_type = params.get("taskType") or None
    model = params.get("model") or None
    api_key = params.get("apiKey") or None
    part = (params.get("q") or "").strip().lower() or None

    def matches(task: Task) -> bool:
        return ((task_type is None or task.task_type == task_type)
                and (model is None or task.request.get("model") == model)
                and (api_key is None or task.owner == api_key)
                and (part is None or part in task.task_uuid)
                and (state is None or task_state(task) == state))

    return matches


def newest_first(items: Iterable[T]) -> list[T]:
    listed = list(items)
    listed.reverse()
    return listed


@dataclass(frozen=True)
class TaskCounts:
    by_state: Counter[str]
    task_types: list[str]
    models: list[str]
    api_keys: list[str]

    @classmethod
    def of(cls, tasks: Iterable[Task]) -> TaskCounts:
        by_state: Counter[str] = Counter()
        task_types: set[str] = set()
        models: set[str] = set()
        keys: set[str] = set()
        for task in tasks:
            by_state[task_state(task)] += 1
            task_types.add(task.task_type)
            model = task.request.get("model")
            if isinstance(model, str):
                models.add(model)
            keys.add(task.owner)
        return cls(by_state, sorted(task_types), sorted(models), sorted(keys))


def task_row(task: Task, engine: TaskEngine, now: float) -> dict[str, Any]:
    """One row of the task list: what the page animates (due time, progress) included."""
    return {
        "uuid": task.task_uuid,
        "taskType": task.task_type,
        "model": task.request.get("model"),
        "apiKey": task.owner,
        "state": task_state(task),
        "submittedAt": task.submitted_at,
        "readyAt": task.ready_at if not task.finished else None,
        "age": now - task.submitted_at,
        "measuring": not task.measured and not task.finished,
        "generations": [{"index": g.index, "status": g.status,
                         "progress": engine.progress(task, g) if g.status == PROCESSING else 100}
                        for g in task.generations],
    }
