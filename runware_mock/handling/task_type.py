"""What every task-type module is made of: the request's context, the services a handler may
use, and the ``TaskType`` record a module exports as ``TASK_TYPE``."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runware_mock.contract.errors import ApiError
from runware_mock.engine.lifecycle import ERROR, Generation, Task, TaskEngine, Work
from runware_mock.faults import Fault, FaultInjector, Rule
from runware_mock.media.facade import Media
from runware_mock.protocol.envelope import Reply
from runware_mock.settings import Settings
from runware_mock.store.health import StoreHealth


@dataclass(frozen=True)
class Context:
    owner: str
    transport: str
    session_uuid: str | None = None
    # The rules of the request's (or WebSocket handshake's) X-Mock-Fault header.
    header_faults: tuple[Rule, ...] = ()
    # Faults that fired while handling, for the journal.
    fired: list[Fault] = field(default_factory=list, compare=False, hash=False)
    # The answer may be a stream of events (Reply.events): a REST request of one task.
    may_stream: bool = False


@dataclass(frozen=True)
class TaskServices:
    """What handlers reach: the settings, the engine, the media, and the fault injector."""

    settings: Settings
    engine: TaskEngine
    media: Media
    faults: FaultInjector
    # Whether the data dir takes writes now (the store's): what a refusal reports to.
    health: StoreHealth = field(default_factory=StoreHealth)
    # Every task type by name (``runware_mock.tasks``): what dispatch and reporting look up.
    task_types: Mapping[str, TaskType] = field(default_factory=dict)


Handler = Callable[[dict[str, Any], Context, TaskServices], Awaitable[Reply]]
ResultItem = Callable[[TaskServices, Task, Generation], dict[str, Any]]
# The engine's Work for a validated request, or why the request cannot run: what a handler
# submits, and what runs a task again after a restart.
WorkFactory = Callable[[dict[str, Any], TaskServices], "Work | ApiError"]


@dataclass(frozen=True)
class TaskType:
    """One task type: its name, the schema that validates it (``None``: the schema of the
    model's family, from the catalog), its handler, and, for task types whose results come
    later, how a generation is reported (getResponse, webhooks, pushed frames, admin)."""

    name: str
    schema: str | None
    handle: Handler
    result_item: ResultItem | None = None
    # Over WebSocket, the session watches the task it names, to push its results.
    watches_task: bool = False
    needs_key: bool = True
    # For task types whose results come later: their Work, to run a task again.
    work: WorkFactory | None = None


def scoped(problem: ApiError, task: dict[str, Any]) -> ApiError:
    """The error, naming the task it answers."""
    return dataclasses.replace(problem, task_type=task.get("taskType"),
                               task_uuid=task.get("taskUUID"))


def generation_error(task: Task, generation: Generation) -> ApiError:
    assert generation.error is not None
    return dataclasses.replace(generation.error, task_type=task.task_type,
                               task_uuid=task.sent_uuid, task_status=ERROR)


# outputType values that carry the file's bytes in the result itself.
_INLINE_OUTPUTS = ("base64Data", "dataURI")


def bytes_needed_now(request: dict[str, Any]) -> bool:
    """Whether the result carries its file's bytes (base64Data, dataURI) or sends them to an
    ``uploadEndpoint``: such a file is made before the result is reported, whatever
    ``--renders`` says."""
    asked = request.get("outputType", "URL")
    asked = [asked] if isinstance(asked, str) else asked
    return bool(request.get("uploadEndpoint")) or any(kind in _INLINE_OUTPUTS for kind in asked)


# Characters of an input string kept with a task: any URL or UUID fits; base64 media does not.
_INLINE_KEPT = 2048


def without_inline_data(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inline media (base64, data URIs) summarised once the inputs are on disk: a kept task
    must not hold megabytes of base64 for its whole retention."""
    return {name: value if not isinstance(value, str) or len(value) <= _INLINE_KEPT else
            f"{value[:_INLINE_KEPT]}... [{len(value)} characters, inline data not kept]"
            for name, value in inputs.items()}
