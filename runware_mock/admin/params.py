"""Reading the admin API's query parameters and JSON bodies, with errors that name the field."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from runware_mock.faults.fault_kinds import KIND_BY_NAME
from runware_mock.transport.journal import KINDS, TRANSPORTS, JournalQuery

JOURNAL_FILTERS = ("taskUUID", "taskType", "since", "until", "transport", "kind", "apiKey",
                   "fault")
# Runware codes are camelCase words (timeoutProvider, invalidValueUploadFailed).
_ERROR_CODE = re.compile(r"^[a-z][A-Za-z0-9]{0,63}$")


class AdminInputError(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def reject_unknown(params: Mapping[str, Any], allowed: Iterable[str]) -> None:
    known = tuple(allowed)
    for name in params:
        if name not in known:
            accepted = ", ".join(known) if known else "none"
            raise AdminInputError(name, f"Unknown parameter {name!r}. Accepted: {accepted}.")


def journal_query(params: Mapping[str, str]) -> JournalQuery:
    since, until = timestamp(params, "since"), timestamp(params, "until")
    if since is not None and until is not None and since > until:
        raise AdminInputError("since", "since must not be later than until.")
    return JournalQuery(task_uuid=params.get("taskUUID"), task_type=params.get("taskType"),
                        since=since, until=until,
                        transport=choice(params, "transport", TRANSPORTS),
                        kind=choice(params, "kind", KINDS), api_key=params.get("apiKey"),
                        fault=choice(params, "fault", ("any", "none", *KIND_BY_NAME)))


def timestamp(params: Mapping[str, str], name: str) -> float | None:
    """Unix seconds (``1718000000.5``) or ISO 8601 (``2024-06-10T06:13:20Z``; naive = UTC)."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return _finite(float(raw))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise AdminInputError(name, f"{name} must be Unix seconds or an ISO 8601 time, "
                              f"got {raw!r}.") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def count_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise AdminInputError(name, f"{name} must be a whole number >= 0, got {raw!r}.")
    return int(raw)


def positive_int(params: Mapping[str, str], name: str) -> int | None:
    value = count_param(params, name)
    if value == 0:
        raise AdminInputError(name, f"{name} must be at least 1.")
    return value


def flag(params: Mapping[str, str], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise AdminInputError(name, f"{name} must be true or false, got {raw!r}.")


def choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    raw = params.get(name)
    if raw is not None and raw not in allowed:
        raise AdminInputError(name, f"{name} must be one of {', '.join(allowed)}, got {raw!r}.")
    return raw


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}``."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AdminInputError("body", f"The body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise AdminInputError("body", "The body must be a JSON object.")
    return body


def seconds_field(body: Mapping[str, Any], params: Mapping[str, str]) -> float:
    """``seconds`` from the JSON body, or from the query string for a quick curl."""
    raw: Any = body.get("seconds", params.get("seconds"))
    if raw is None:
        raise AdminInputError("seconds", "seconds is required, e.g. {\"seconds\": 3600}.")
    if isinstance(raw, bool):
        raw = "not a number"
    try:
        seconds = _finite(float(raw))
    except (TypeError, ValueError):
        raise AdminInputError("seconds", f"seconds must be a number, got {raw!r}.") from None
    if seconds < 0:
        raise AdminInputError("seconds", "seconds must be >= 0: the clock only moves forward.")
    return seconds


def error_code_field(body: Mapping[str, Any], default: str) -> str:
    code = body.get("code", default)
    if not isinstance(code, str) or not _ERROR_CODE.match(code):
        raise AdminInputError("code", "code must be a camelCase error code such as "
                              f"'timeoutProvider', got {code!r}.")
    return code


def message_field(body: Mapping[str, Any], default: str) -> str:
    message = body.get("message", default)
    if not isinstance(message, str) or not message.strip() or len(message) > 2000:
        raise AdminInputError("message", "message must be a non-empty string of at most "
                              "2000 characters.")
    return message


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value
