"""Check what a Runware endpoint answered against the response schemas and the error catalog.

Every ``check_*`` function returns a list of ``Problem`` (empty when the reply conforms) rather
than raising, so a contract suite can report all the drift of one reply at once:

    problems = check_envelope(response.json(), response.status_code)
    assert not problems, describe(problems)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import best_match

from runware_mock.contract import schemas
from runware_mock.contract.errors import CATALOG, status_for

# invalid<Param> and unsupported<Param> are families: one code per field name.
_CODE_FAMILIES = re.compile(r"^(invalid|unsupported)[A-Z][A-Za-z0-9]*$")
_CATALOG_CODES = frozenset(entry.code for entry in CATALOG if "<" not in entry.code)
# An acknowledgement names the task and nothing else (official-sdks.md §2).
_ACK_KEYS = frozenset({"taskType", "taskUUID"})


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def describe(problems: Sequence[Problem]) -> str:
    return "contract drift:\n" + "\n".join(f"  - {problem}" for problem in problems)


def schema_problems(name: str, instance: Any, where: str) -> list[Problem]:
    """At most one problem per schema: the most relevant violation, as jsonschema ranks them."""
    found = best_match(schemas.validator(name).iter_errors(instance))
    if found is None:
        return []
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}"
                   for part in found.absolute_path)
    return [Problem(f"{where}{path}", f"does not match {name}: {found.message}")]


def is_known_code(code: Any) -> bool:
    return isinstance(code, str) and (code in _CATALOG_CODES or bool(_CODE_FAMILIES.match(code)))


def item_schema(item: Any) -> str | None:
    """The response schema of one ``data`` item: an ack or a processing report of a task whose
    results come later, else the answer its task type's schema (the registry's) describes."""
    if not isinstance(item, dict) or not isinstance(item.get("taskType"), str):
        return None
    if item.get("status") == "processing":
        return "response.processing"
    if item.keys() <= _ACK_KEYS and "taskUUID" in item:
        return "response.ack"
    return schemas.response_schema(item["taskType"])


def check_item(item: Any, where: str) -> list[Problem]:
    name = item_schema(item)
    if name is None:
        return [Problem(where, f"no response schema for this item: {item!r:.200}")]
    return schema_problems(name, item, where)


def check_error(problem: Any, where: str) -> list[Problem]:
    found = schema_problems("response.error", problem, where)
    if not found and not is_known_code(problem["code"]):
        found.append(Problem(f"{where}.code", f"{problem['code']!r} is not in the error catalog"))
    return found


def check_envelope(body: Any, http_status: int | None = None) -> list[Problem]:
    """The envelope, each data item against its schema, each error against the catalog, and
    (for REST) the HTTP status: 200 when any data came back, else the first error's status."""
    found = schema_problems("response.envelope", body, "body")
    if found:
        return found
    for index, item in enumerate(body.get("data", [])):
        found += check_item(item, f"data[{index}]")
    for index, problem in enumerate(body.get("errors", [])):
        found += check_error(problem, f"errors[{index}]")
    if http_status is not None:
        found += _status_problems(body, http_status)
    return found


def _status_problems(body: dict[str, Any], http_status: int) -> list[Problem]:
    errors = body.get("errors", [])
    expected = 200 if body.get("data") or not errors else status_for(errors[0]["code"])
    if http_status != expected:
        return [Problem("HTTP status", f"{http_status}, expected {expected} for this body")]
    return []


def check_ack(body: Any, http_status: int, task: dict[str, Any]) -> list[Problem]:
    """One ack item that echoes the taskUUID, and nothing a client could take for a result."""
    found = check_envelope(body, http_status)
    if found:
        return found
    data = body.get("data", [])
    if "errors" in body or len(data) != 1:
        return [Problem("body", f"expected exactly one ack item and no errors, got {body!r:.300}")]
    found += schema_problems("response.ack", data[0], "data[0]")
    if data[0].get("taskUUID") != task["taskUUID"]:
        found.append(Problem("data[0].taskUUID",
                             f"{data[0].get('taskUUID')!r} does not echo {task['taskUUID']!r}"))
    return found


def check_rejection(body: Any, http_status: int, task: Any, code: str, parameter: str,
                    allowed_values: list[Any] | None = None) -> list[Problem]:
    """Exactly one error, with the promised code and parameter, scoped to the task."""
    found = check_envelope(body, http_status)
    if found:
        return found
    errors = body.get("errors", [])
    if body.get("data") or len(errors) != 1:
        return [Problem("body", f"expected exactly one error and no data, got {body!r:.300}")]
    problem = errors[0]
    if (problem["code"], problem.get("parameter")) != (code, parameter):
        found.append(Problem("errors[0]", f"answered {problem['code']} for "
                             f"{problem.get('parameter')!r}; the contract says {code} for "
                             f"{parameter!r}"))
    task_uuid = task.get("taskUUID") if isinstance(task, dict) else None
    if isinstance(task_uuid, str) and problem.get("taskUUID") != task_uuid:
        found.append(Problem("errors[0].taskUUID",
                             f"{problem.get('taskUUID')!r}, expected the task's {task_uuid!r}"))
    if allowed_values is not None and problem.get("allowedValues") != allowed_values:
        found.append(Problem("errors[0].allowedValues",
                             f"{problem.get('allowedValues')!r}, expected {allowed_values!r}"))
    return found


def check_poll(body: Any, task_uuid: str, number_results: int) -> list[Problem]:
    """A getResponse reply: one entry per generation, each naming the polled task."""
    found = schema_problems("response.getResponse", body, "body")
    if found:
        return found
    entries = [*body.get("data", []), *body.get("errors", [])]
    if len(entries) != number_results:
        found.append(Problem("body", f"{len(entries)} entries, expected one per generation "
                             f"({number_results})"))
    found += [Problem("body", f"an entry names taskUUID {entry.get('taskUUID')!r}, not the "
                      f"polled {task_uuid!r}")
              for entry in entries if entry.get("taskUUID") != task_uuid]
    found += [Problem("errors", f"{entry['code']!r} is not in the error catalog")
              for entry in body.get("errors", []) if not is_known_code(entry["code"])]
    return found


def check_webhook(body: Any) -> list[Problem]:
    return schema_problems("response.webhook", body, "webhook body")


def check_result_sequence(replies: Sequence[Any], task_uuid: str,
                          number_results: int) -> list[Problem]:
    """Successive polls of one task: each reply conforms, a finished result never changes or
    goes away, progress never goes back, and the finished results are all different."""
    found: list[Problem] = []
    for index, body in enumerate(replies):
        found += [Problem(f"reply {index}: {p.where}", p.message)
                  for p in check_poll(body, task_uuid, number_results)]
    if found or not replies:
        return found
    for index in range(1, len(replies)):
        found += _step_problems(replies[index - 1], replies[index], index)
    final = [item for item in replies[-1].get("data", []) if item.get("status") == "success"]
    videos = [item["videoUUID"] for item in final]
    if len(set(videos)) != len(videos):
        found.append(Problem("last reply", "two results share a videoUUID"))
    seeds = [item["seed"] for item in final]
    if len(set(seeds)) != len(seeds):
        found.append(Problem("last reply", "two results share a seed"))
    return found


def _successes(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["videoUUID"]: item for item in body.get("data", [])
            if item.get("status") == "success"}


def _step_problems(before: dict[str, Any], after: dict[str, Any], index: int) -> list[Problem]:
    found: list[Problem] = []
    later = _successes(after)
    changed = [video for video, item in _successes(before).items() if later.get(video) != item]
    if changed:
        found.append(Problem(f"reply {index}", f"results {changed} went away or changed"))
    if len(before.get("errors", [])) > len(after.get("errors", [])):
        found.append(Problem(f"reply {index}", "a failed generation went back to processing"))
    earlier, now = _progress(before), _progress(after)
    # Generations finish one by one; the ones still processing keep their order.
    if len(earlier) == len(now) and any(b < a for a, b in zip(earlier, now, strict=True)):
        found.append(Problem(f"reply {index}", f"progress went back: {earlier} -> {now}"))
    return found


def _progress(body: dict[str, Any]) -> list[int]:
    return [item.get("progress", 0) for item in body.get("data", [])
            if item.get("status") == "processing"]
