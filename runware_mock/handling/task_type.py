"""What every task-type module is made of: the request's context, the services a handler may
use, and the ``TaskType`` record a module exports as ``TASK_TYPE``."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiError, ApiRefusal, error
from runware_mock.contract.request_types import TaskRequest
from runware_mock.engine.lifecycle import ERROR, Generation, Task, TaskEngine, Work
from runware_mock.faults import Fault, FaultInjector, Rule
from runware_mock.handling.accounts import Accounts
from runware_mock.handling.result_items import generation_item
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
    # Each API key's uploaded models, spending and balance.
    accounts: Accounts = field(default_factory=Accounts)


# A handler takes its task type's typed request (contract/request_types.py), validated, its
# defaults applied; a refusal it raises (ApiRefusal) the dispatcher answers.
Handler = Callable[[Any, Context, TaskServices], Awaitable[Reply]]
ResultItem = Callable[[TaskServices, Task, Generation], dict[str, Any]]
# The engine's Work for a validated request (raising ApiRefusal when the request cannot run):
# what a handler submits, and what runs a task again after a restart.
WorkFactory = Callable[[Any, TaskServices], Work]


@dataclass(frozen=True)
class TaskType:
    """One task type: its name (and the other names it is sent under, each answered under
    the name received), its handler, the schema that validates it (``None``: the schema of
    the model's family, from the catalog), and, for task types whose results come later, how
    a generation is reported (getResponse, webhooks, pushed frames, admin) and their Work.
    Declared by ``immediate`` or ``later``, which set the flags that go together."""

    name: str
    handle: Handler
    schema: str | None = None
    aliases: tuple[str, ...] = ()
    needs_key: bool = True
    # Over WebSocket, the session watches the task it names, to push its results.
    watches_task: bool = False
    result_item: ResultItem | None = None
    # For task types whose results come later: their Work, to run a task again.
    work: WorkFactory | None = None

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @classmethod
    def immediate(cls, name: str, handle: Handler, schema: str | None, *,
                  aliases: tuple[str, ...] = (), needs_key: bool = True,
                  watches_task: bool = False) -> TaskType:
        """A task type answered at once, in the reply to its request."""
        return cls(name, handle, schema, aliases, needs_key, watches_task)

    @classmethod
    def later(cls, name: str, handle: Handler, work: WorkFactory, *, schema: str | None = None,
              aliases: tuple[str, ...] = (), result_item: ResultItem = generation_item,
              ) -> TaskType:
        """A task type whose results the engine produces later (its ``work``), reported per
        generation by ``result_item`` on every channel, the WebSocket session watching it."""
        return cls(name, handle, schema, aliases, watches_task=True, result_item=result_item,
                   work=work)


def generation_error(task: Task, generation: Generation) -> ApiError:
    assert generation.error is not None
    return dataclasses.replace(generation.error, task_type=task.task_type,
                               task_uuid=task.sent_uuid, task_status=ERROR)


# outputType values that carry the file's bytes in the result itself.
_INLINE_OUTPUTS = ("base64Data", "dataURI")


def bytes_needed_now(request: TaskRequest) -> bool:
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


def check_served_model(task_type: str, model: str) -> None:
    """Refuse (invalidModel, naming the served models) a model the catalog does not list for
    ``task_type``: what a task type whose schema takes any model string checks first."""
    served = model_catalog.airs(task_type)
    if model not in served:
        raise ApiRefusal(error(
            "invalidModel", f"Invalid model {str(model)[:100]!r}: this emulator serves "
            f"{', '.join(served)} for {task_type}.", parameter="model", type="string",
            allowed_values=list(served)))
