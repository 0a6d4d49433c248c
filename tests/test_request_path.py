"""The one request path (transport.request_path), in process: the key rule asks the task-type
registry, and a bad setting is refused by the stage that owns its grammar before anything
starts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

from runware_mock.handling.task_type import Context, TaskType
from runware_mock.protocol.envelope import Reply, RequestLimits, succeeded
from runware_mock.transport.auth import Authenticator
from runware_mock.transport.request_limits import TransportLimits
from runware_mock.transport.request_path import REST, RequestPath, Sender


class _Dispatcher:
    def __init__(self) -> None:
        self.owners: list[str] = []

    async def run(self, tasks: list[Any], context: Context) -> Reply:
        self.owners.append(context.owner)
        return succeeded(*({"taskType": task["taskType"]} for task in tasks))

    async def run_one(self, task: Any, index: int, context: Context) -> Reply:
        return await self.run([task], context)


class _NoFaults:
    def armed(self, header: Any = ()) -> bool:
        return False

    def pick(self, scope: str, traffic: Any, header: Any = ()) -> None:
        return None


class _Journal:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def record(self, transport: str, kind: str, **fields: Any) -> None:
        self.entries.append({"transport": transport, "kind": kind, **fields})


async def _handled(task: dict[str, Any], context: Context, services: Any) -> Reply:
    raise AssertionError("the fake dispatcher runs no handler")


# A keep-alive of another name than ping, flagged as one: the path must ask the registry.
_TASK_TYPES = {"ping": TaskType("ping", None, _handled, needs_key=False),
               "heartbeat": TaskType("heartbeat", None, _handled, needs_key=False),
               "imageInference": TaskType("imageInference", None, _handled)}


def _path(dispatcher: _Dispatcher, journal: _Journal) -> RequestPath:
    limits = TransportLimits(1 << 20, RequestLimits(json_values=1000, nesting_depth=10,
                                                    tasks=10, errors=10))
    return RequestPath(dispatcher, Authenticator(("good-key",)), _NoFaults(), journal,
                       _TASK_TYPES, limits)


def _answered(body: bytes, authorization: str = "") -> tuple[Reply, _Dispatcher, _Journal]:
    dispatcher, journal = _Dispatcher(), _Journal()
    path = _path(dispatcher, journal)

    async def exchange() -> Reply:
        request = await path.receive(body, Sender(REST, authorization))
        reply = await path.answer(request)
        path.journal(request, b"{}", status=reply.http_status())
        return reply

    return asyncio.run(exchange()), dispatcher, journal


def test_task_types_flagged_as_needing_no_key_run_without_one() -> None:
    reply, dispatcher, journal = _answered(b'[{"taskType": "heartbeat"}, {"taskType": "ping"}]')
    assert [item["taskType"] for item in reply.data] == ["heartbeat", "ping"]
    assert dispatcher.owners == [""], "run as nobody's"
    assert journal.entries[0]["api_key"] is None and journal.entries[0]["kind"] == "request"


def test_one_task_needing_a_key_refuses_the_whole_request_without_one() -> None:
    reply, dispatcher, _ = _answered(
        b'[{"taskType": "heartbeat"}, {"taskType": "imageInference"}]')
    assert dispatcher.owners == [] and not reply.data
    assert [problem.code for problem in reply.errors] == ["invalidApiKey"]


def test_an_accepted_key_runs_the_tasks_as_its_owner() -> None:
    _, dispatcher, journal = _answered(b'[{"taskType": "imageInference"}]', "Bearer good-key")
    assert dispatcher.owners == ["good-key"]
    assert journal.entries[0]["api_key"] == "good-key"


def test_the_harness_refuses_a_bad_latency_before_starting_anything() -> None:
    """In a fresh interpreter: settings imports no stage, so the stages that check their
    settings' grammar (settings.check_with) must be loaded when the harness parses."""
    script = ("from runware_mock.contract.harness import checked_settings\n"
              "try:\n    checked_settings({'latency': 'never'})\n"
              "except ValueError as exc:\n    print(exc)\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True)
    assert "unknown latency profile" in run.stdout
