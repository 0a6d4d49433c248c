"""What differs between the upstream's answer and the emulator's, for one task of one exchange.

Each ``Drift`` has a ``key`` naming the difference itself (the task type, the field, the code),
not the exchange: the report counts the exchanges per key and keeps one example. The kinds, in
the order the report lists them:

- ``false refusal``: the upstream accepted a task the emulator refuses (the one that breaks a
  user's CI: a valid request fails against the emulator);
- ``false failure``: the upstream finished a task the emulator accepted but then failed (an
  input it cannot use, say): as bad for a user's CI;
- ``false acceptance``: the upstream refused a task the emulator accepts;
- ``error code``: both refused it, with another code or ``parameter``;
- ``answer form``: one side streamed (server-sent events), the other answered JSON;
- ``cost presence``: ``cost`` on one side only;
- ``extra field`` / ``missing field``: a field of the upstream's answer the emulator never
  gives, or one the emulator gives and the upstream does not;
- ``type``: the same field with another JSON type;
- ``enum value``: a value outside the emulator's response schema's enum (or const).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

from runware_mock.contract import conformance, schemas
from runware_mock.proxy.parsed_answer import Answer
from runware_mock.replay.cassette import is_secret_field

KINDS = ("false refusal", "false failure", "false acceptance", "error code", "answer form",
         "cost presence", "extra field", "missing field", "type", "enum value")
# Values in a drift's example are cut to this many characters (base64 media).
_EXAMPLE_CHARS = 200


@dataclass(frozen=True)
class Drift:
    kind: str
    key: str
    detail: str
    example: dict[str, Any]

    @property
    def rank(self) -> int:
        return KINDS.index(self.kind)


@dataclass(frozen=True)
class Outcome:
    """How one side took a task: accepted, or refused with ``error``."""

    error: dict[str, Any] | None

    @property
    def refused(self) -> bool:
        return self.error is not None


def outcome(answer: Answer, task_uuid: Any) -> Outcome | None:
    """None when the answer says nothing of the task. A generation that failed (an error
    with ``status: error``) was accepted: it is a result, not a refusal."""
    found = answer.errors_of(task_uuid) if isinstance(task_uuid, str) else []
    refusals = [problem for problem in found if problem.get("status") != "error"]
    if refusals and not answer.items_of(task_uuid):
        return Outcome(refusals[0])
    if found or (isinstance(task_uuid, str) and answer.items_of(task_uuid)):
        return Outcome(None)
    general = answer.unattributed_errors()
    if general and not answer.items:
        return Outcome(general[0])
    return None


def outcome_drifts(task: dict[str, Any], upstream: Outcome, emulator: Outcome) -> list[Drift]:
    """The task's acceptance on both sides (a poll's is the task's, so polls are not asked)."""
    task_type = str(task.get("taskType"))
    example = {"request": trimmed(task), "upstream": trimmed(upstream.error),
               "emulator": trimmed(emulator.error)}
    if emulator.refused and not upstream.refused:
        assert emulator.error is not None
        return [Drift("false refusal", f"{task_type}: emulator refuses with "
                      f"{_code(emulator.error)}", _refusal_detail(task, emulator.error), example)]
    if upstream.refused and not emulator.refused:
        assert upstream.error is not None
        return [Drift("false acceptance", f"{task_type}: upstream refuses with "
                      f"{_code(upstream.error)}", f"the upstream refused {task_type} with "
                      f"{_code(upstream.error)} ({upstream.error.get('message', '')}); the "
                      "emulator accepts it", example)]
    if upstream.error and emulator.error and _code(upstream.error) != _code(emulator.error):
        return [Drift("error code", f"{task_type}: {_code(upstream.error)} upstream, "
                      f"{_code(emulator.error)} from the emulator",
                      f"the upstream refused with {_code(upstream.error)}, the emulator with "
                      f"{_code(emulator.error)}", example)]
    return []


def false_failure(task: dict[str, Any], result: dict[str, Any], problem: dict[str, Any]
                  ) -> Drift:
    task_type = str(task.get("taskType"))
    return Drift("false failure", f"{task_type}: emulator fails it with {_code(problem)}",
                 f"the upstream finished what the emulator fails: {problem.get('message', '')}",
                 {"request": trimmed(task), "upstream": trimmed(result),
                  "emulator": trimmed(problem)})


def _code(problem: dict[str, Any]) -> str:
    parameter = problem.get("parameter")
    return f"{problem.get('code')}" + (f" ({parameter})" if parameter else "")


def _refusal_detail(task: dict[str, Any], problem: dict[str, Any]) -> str:
    parameter = problem.get("parameter")
    detail = f"the upstream accepted what the emulator refuses: {problem.get('message', '')}"
    if isinstance(parameter, str) and parameter in task:
        detail += f" (sent {parameter}={trimmed(task[parameter])!r}"
        allowed = problem.get("allowedValues")
        detail += f"; the emulator allows {allowed})" if allowed else ")"
    return detail


def shape_drifts(upstream: dict[str, Any], emulator: dict[str, Any], where: str
                 ) -> list[Drift]:
    """Field by field, two answers to the same thing (items of one task type and status, or
    two error objects of the same code): presence and JSON types, recursively."""
    example = {"upstream": trimmed(upstream), "emulator": trimmed(emulator)}
    return [Drift(kind, f"{where}: {path}" + (f" ({note})" if note else ""),
                  _shape_detail(kind, path, note), example)
            for kind, path, note in _differences(upstream, emulator, "")]


def _differences(upstream: Any, emulator: Any, path: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(upstream, dict) and isinstance(emulator, dict):
        for name in upstream.keys() | emulator.keys():
            inner = f"{path}.{name}" if path else name
            if name not in emulator:
                yield ("cost presence" if inner == "cost" else "extra field"), inner, \
                    "upstream only"
            elif name not in upstream:
                yield ("cost presence" if inner == "cost" else "missing field"), inner, \
                    "emulator only"
            else:
                yield from _differences(upstream[name], emulator[name], inner)
    elif isinstance(upstream, list) and isinstance(emulator, list):
        if upstream and emulator:
            yield from _differences(upstream[0], emulator[0], f"{path}[]")
    elif json_type(upstream) != json_type(emulator) and upstream is not None \
            and emulator is not None:
        yield "type", path, f"{json_type(upstream)} upstream, {json_type(emulator)} emulated"


def _shape_detail(kind: str, path: str, note: str) -> str:
    if kind == "type":
        return f"{path}: {note}"
    return f"{path}: in the {'upstream' if note == 'upstream only' else 'emulator'}'s answer only"


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"  # 0 and 0.0 are the same to every client
    return {str: "string", list: "array", dict: "object", type(None): "null"}.get(
        type(value), type(value).__name__)


def schema_drifts(item: dict[str, Any], where: str) -> list[Drift]:
    """The upstream's item against the emulator's response schema for it, where one exists:
    enum values (the comparison cannot tell a value is outside the emulator's range) and the
    fields the schema forbids or requires."""
    name = conformance.item_schema(item)
    if name is None or name not in schemas.names() or schemas.is_valid(name, item):
        return []  # the compiled validator first: the explaining one costs ten times more
    found: list[Drift] = []
    for problem in schemas.validator(name).iter_errors(item):
        found += _schema_drift(problem, item, where, name)
    return found


def _schema_drift(problem: ValidationError, item: dict[str, Any], where: str, name: str
                  ) -> list[Drift]:
    path = ".".join(str(part) for part in problem.absolute_path)
    example = {"upstream": trimmed(item), "schema": name}
    if problem.validator in ("enum", "const"):
        allowed = problem.validator_value
        allowed = allowed if isinstance(allowed, list) else [allowed]
        return [Drift("enum value", f"{where}: {path} = {trimmed(problem.instance)!r}",
                      f"{path}: {trimmed(problem.instance)!r} is not one of the emulator's "
                      f"{allowed}", example)]
    if problem.validator == "additionalProperties" and isinstance(problem.instance, dict):
        known = problem.schema.get("properties", {})
        return [Drift("cost presence" if extra == "cost" else "extra field",
                      f"{where}: {_joined(path, extra)} (upstream only)",
                      _shape_detail("extra field", _joined(path, extra), "upstream only"),
                      example) for extra in problem.instance if extra not in known]
    if problem.validator == "required" and isinstance(problem.instance, dict):
        return [Drift("cost presence" if field == "cost" else "missing field",
                      f"{where}: {_joined(path, field)} (emulator only)",
                      _shape_detail("missing field", _joined(path, field), "emulator only"),
                      example) for field in problem.validator_value
                if field not in problem.instance]
    return []


def _joined(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def trimmed(value: Any) -> Any:
    """A copy fit for a report: long strings cut, keys redacted."""
    if isinstance(value, dict):
        return {key: "[redacted]" if is_secret_field(key) else trimmed(inner)
                for key, inner in value.items()}
    if isinstance(value, list):
        return [trimmed(inner) for inner in value[:20]]
    if isinstance(value, str) and len(value) > _EXAMPLE_CHARS:
        return value[:_EXAMPLE_CHARS] + f"… ({len(value)} characters)"
    return value
