"""Every fault the emulator can inject: its name, scope, where it applies, and its parameters.

A fault of scope ``transport`` acts on one REST request or one WebSocket frame; ``task`` on the
generations of a task the engine runs (any task type with results: images, upscaling, prompt
enhancement, text, audio, video); ``delivery`` on its webhooks and uploads. docs/faults.md's
catalog table is generated from this module, so the docs and the code cannot drift apart.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runware_mock.engine.latency import parse_profile

TRANSPORT, TASK, DELIVERY = "transport", "task", "delivery"
SCOPES = (TRANSPORT, TASK, DELIVERY)
REST, WEBSOCKET = "rest", "websocket"
BOTH = (REST, WEBSOCKET)

HTTP_ERROR_CODES = {429: "rateLimitExceeded", 500: "internalServerError", 502: "badGateway",
                    503: "serviceUnavailable", 504: "gatewayTimeout"}
_ERROR_CODE = re.compile(r"^[a-z][A-Za-z0-9]{0,63}$")
# Close codes a server may send: 1005, 1006 and 1015 are reserved for "no status received".
_CLOSE_CODES = {1000, 1001, 1002, 1003, *range(1007, 1015)} | set(range(3000, 5000))
# The longest a transport fault holds an answer, in seconds, and the widest lognormal spread
# (a lognormal's tail is capped at MAX_DELAY as well). Shutdown does not wait for them: it
# cancels what is still held after --shutdown-timeout.
MAX_DELAY = 3600.0
MAX_SIGMA = 3.0


class FaultSpecError(ValueError):
    """A fault rule or header that cannot be used; ``parameter`` names the field."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


Parse = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    parse: Parse
    help: str


@dataclass(frozen=True)
class Traffic:
    """What a rule matches on: one request, one frame, or one task."""

    transport: str
    api_key: str | None = None
    task_types: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    task_uuids: tuple[str, ...] = ()
    checks_content: bool = False
    has_webhook: bool = False
    has_upload: bool = False
    number_results: int = 1
    # A textInference answered as a stream of events (deliveryMethod "stream" over REST).
    streams: bool = False

    @property
    def identity(self) -> str:
        """The request's first taskUUID: it keys the seeded draws, so the same tasks get the
        same faults however the requests interleave."""
        return self.task_uuids[0] if self.task_uuids else ""


Applies = Callable[[Traffic, Mapping[str, Any]], bool]
Resolve = Callable[[Mapping[str, Any], random.Random], dict[str, Any]]


def _always(traffic: Traffic, params: Mapping[str, Any]) -> bool:
    return True


def _no_extra(params: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class FaultKind:
    name: str
    scope: str
    transports: tuple[str, ...]
    effect: str
    params: tuple[Param, ...] = ()
    # Transport faults: is the request (or frame) still handled? Stopped ones never reach the
    # handlers, so a task sent in them is not accepted and the client may resend it.
    processed: bool = True
    applies: Applies = _always
    resolve: Resolve = _no_extra
    param_names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_names", frozenset(p.name for p in self.params))

    def parse_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        values = {param.name: param.default for param in self.params}
        for param in self.params:
            if param.name in given:
                values[param.name] = param.parse(param.name, given[param.name])
        return values


# --- parameter parsers -------------------------------------------------------------------------

def _number(low: float, high: float = math.inf) -> Parse:
    def parse(name: str, raw: Any) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise FaultSpecError(name, f"{name} must be a number, got {raw!r}.")
        try:
            value = float(raw)
        except ValueError:
            raise FaultSpecError(name, f"{name} must be a number, got {raw!r}.") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise FaultSpecError(name, f"{name} must be between {low:g} and {high:g}, "
                                 f"got {raw!r}.")
        return value
    return parse


def _integer(low: int, high: int | None = None) -> Parse:
    def parse(name: str, raw: Any) -> int:
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise FaultSpecError(name, f"{name} must be a whole number, got {raw!r}.")
        if raw < low or (high is not None and raw > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise FaultSpecError(name, f"{name} must be {bound}, got {raw}.")
        return raw
    return parse


def _status(name: str, raw: Any) -> int:
    status = _integer(100, 599)(name, raw)
    if status not in HTTP_ERROR_CODES:
        allowed = ", ".join(str(code) for code in HTTP_ERROR_CODES)
        raise FaultSpecError(name, f"{name} must be one of {allowed}, got {status}.")
    return status


def _code(name: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not _ERROR_CODE.match(raw):
        raise FaultSpecError(name, f"{name} must be a camelCase error code such as "
                             f"'timeoutProvider', got {raw!r}.")
    return raw


def _text(name: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 500:
        raise FaultSpecError(name, f"{name} must be a non-empty string of at most 500 "
                             "characters.")
    return raw


def _results(name: str, raw: Any) -> list[int] | None:
    if raw is None or raw == "all":
        return None
    items = raw if isinstance(raw, list) else [raw]
    indices = [_integer(0, 19)(name, item) for item in items]
    if not indices:
        raise FaultSpecError(name, f"{name} must list at least one result index (0-based).")
    return sorted(set(indices))


def _failures(name: str, raw: Any) -> int | None:
    return None if raw in (None, "all") else _integer(1)(name, raw)


def _close_code(name: str, raw: Any) -> int:
    code = _integer(1000, 4999)(name, raw)
    if code not in _CLOSE_CODES:
        raise FaultSpecError(name, f"{name} {code} cannot be sent in a close frame: use 1000-1003, "
                             "1007-1014 or 3000-4999.")
    return code


def _seconds_or_distribution(name: str, raw: Any) -> str:
    """A number of seconds, or a latency distribution: fixed:S, uniform:A:B,
    lognormal:MEDIAN:SIGMA; seconds and the median at most ``MAX_DELAY``, sigma at most
    ``MAX_SIGMA`` (each draw is capped at ``MAX_DELAY`` too)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = f"fixed:{_number(0, MAX_DELAY)(name, raw):g}"
    if isinstance(raw, str):
        spec = raw if ":" in raw else f"fixed:{raw}"
        try:
            parse_profile(spec)
        except ValueError:
            pass
        else:
            kind, *numbers = spec.split(":")
            if kind in ("fixed", "uniform", "lognormal") and _within_bounds(kind, numbers):
                return spec
    raise FaultSpecError(name, f"{name} must be seconds (e.g. 2.5) or a distribution: fixed:S, "
                         f"uniform:A:B or lognormal:MEDIAN:SIGMA, with seconds and MEDIAN at "
                         f"most {MAX_DELAY:g} and SIGMA at most {MAX_SIGMA:g}; got {raw!r}.")


def _within_bounds(kind: str, numbers: list[str]) -> bool:
    values = [float(number) for number in numbers]
    if kind == "lognormal":
        return values[0] <= MAX_DELAY and values[1] <= MAX_SIGMA
    return max(values) <= MAX_DELAY


# --- applicability and draws ---------------------------------------------------------------------

def _submits_a_video_task(traffic: Traffic, params: Mapping[str, Any]) -> bool:
    return "videoInference" in traffic.task_types


def _only_pings(traffic: Traffic, params: Mapping[str, Any]) -> bool:
    return traffic.task_types == ("ping",)


def _task_error_applies(traffic: Traffic, params: Mapping[str, Any]) -> bool:
    # The real service only reports a content-policy violation when safety checking is on.
    if params.get("code") == "contentPolicyViolation" and not traffic.checks_content:
        return False
    chosen = params.get("results")
    return chosen is None or any(index < traffic.number_results for index in chosen)


def _streams(traffic: Traffic, params: Mapping[str, Any]) -> bool:
    return traffic.streams


def _has_webhook(traffic: Traffic, params: Mapping[str, Any]) -> bool:
    return traffic.has_webhook


def _has_upload(traffic: Traffic, params: Mapping[str, Any]) -> bool:
    return traffic.has_upload


def _draw_delay(params: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    delay = min(MAX_DELAY, parse_profile(params["seconds"]).latency(rng, 0.0, 1.0))
    return {"delaySeconds": round(delay, 6)}


def _http_error_details(params: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    status = params["status"]
    retry_after = params["retryAfter"]
    if retry_after is None and status in (429, 503):
        retry_after = 1
    return {"code": params["code"] or HTTP_ERROR_CODES[status], "retryAfter": retry_after}


_RETRY_AFTER = Param("retryAfter", None, _integer(0, 86400),
                     "seconds in the Retry-After header (default 1 with 429 and 503, none "
                     "otherwise)")

KINDS: tuple[FaultKind, ...] = (
    FaultKind("http_error", TRANSPORT, BOTH,
              "not processed; REST answers the status with a Runware error per task "
              "(Retry-After on 429/503); WebSocket answers an error frame",
              (Param("status", 503, _status, "429, 500, 502, 503 or 504"), _RETRY_AFTER,
               Param("code", None, _code, "error code (default by status: rateLimitExceeded, "
                     "internalServerError, badGateway, serviceUnavailable, gatewayTimeout)"),
               Param("message", None, _text, "error message")),
              processed=False, resolve=_http_error_details),
    FaultKind("latency", TRANSPORT, BOTH,
              "processed; the answer (REST response, WebSocket reply frame and those behind "
              "it) leaves late, in real seconds",
              (Param("seconds", "fixed:1", _seconds_or_distribution,
                     "seconds, or fixed:S, uniform:A:B, lognormal:MEDIAN:SIGMA"),),
              resolve=_draw_delay),
    FaultKind("hang", TRANSPORT, BOTH,
              "not processed, never answered: REST holds the connection until the client "
              "gives up (or `seconds` pass, then closes it empty); WebSocket ignores the frame",
              (Param("seconds", 300.0, _number(0, 3600), "longest hold of a REST request"),),
              processed=False),
    FaultKind("reset", TRANSPORT, BOTH,
              "not processed; the TCP connection is reset (RST), REST request or WebSocket",
              processed=False),
    FaultKind("empty", TRANSPORT, (REST,),
              "not processed; the connection is closed without a byte of answer",
              processed=False),
    FaultKind("malformed", TRANSPORT, BOTH,
              "processed; the answer's body (or reply frame) is not valid JSON"),
    FaultKind("truncated", TRANSPORT, BOTH,
              "processed; REST sends the full Content-Length but only part of the body, then "
              "closes; WebSocket sends a cut reply frame",
              (Param("fraction", 0.5, _number(0, 0.99), "share of the body sent"),)),
    FaultKind("dribble", TRANSPORT, (REST,),
              "processed; the body is sent a few bytes at a time",
              (Param("chunk", 16, _integer(1, 65536), "bytes per write"),
               Param("interval", 0.05, _number(0, 10), "seconds between writes"))),
    FaultKind("ws_close", TRANSPORT, (WEBSOCKET,),
              "processed; after the reply to a frame holding a videoInference (its ack), the "
              "server closes the socket",
              (Param("code", 1011, _close_code, "close code"),
               Param("reason", "fault injected: closed mid-task", _text, "close reason")),
              applies=_submits_a_video_task),
    FaultKind("ws_no_pong", TRANSPORT, (WEBSOCKET,),
              "a frame of pings gets no pong", applies=_only_pings),
    FaultKind("ws_duplicate", TRANSPORT, (WEBSOCKET,),
              "processed; the reply frame is sent more than once",
              (Param("copies", 2, _integer(2, 10), "times the frame is sent"),)),
    FaultKind("task_error", TASK, BOTH,
              "the chosen generations fail at their ready time with this code (HTTP status "
              "from the error catalog, e.g. insufficientCredits 402); contentPolicyViolation "
              "only fires when safety.checkContent is true",
              (Param("code", "inferenceError", _code, "e.g. timeoutProvider, inferenceError, "
                     "contentPolicyViolation, insufficientCredits"),
               Param("message", None, _text, "error message"),
               Param("results", None, _results, "0-based indices of the generations that "
                     "fail (default all); the others succeed")),
              applies=_task_error_applies),
    FaultKind("stream_cut", TASK, (REST,),
              "a streamed textInference (deliveryMethod stream over REST) fails after `after` "
              "text chunks: the stream ends with the error event, getResponse reports it",
              (Param("after", 1, _integer(0, 100_000), "text chunks sent before the cut"),
               Param("code", "inferenceError", _code, "error code"),
               Param("message", None, _text, "error message")),
              applies=_streams),
    FaultKind("never_finish", TASK, BOTH,
              "the task stays processing forever (admin complete or fail still ends it)"),
    FaultKind("slow_task", TASK, BOTH,
              "every generation's latency is multiplied, plus extra simulated seconds",
              (Param("factor", 10.0, _number(1, 1000), "latency multiplier"),
               Param("seconds", 0.0, _number(0, 86400), "simulated seconds added (times "
                     "--time-scale)"))),
    FaultKind("webhook_skip", DELIVERY, BOTH,
              "the task's webhooks are not sent (logged as skipped)", applies=_has_webhook),
    FaultKind("webhook_duplicate", DELIVERY, BOTH,
              "each webhook of the task is delivered more than once",
              (Param("copies", 2, _integer(2, 10), "times each webhook is delivered"),),
              applies=_has_webhook),
    FaultKind("webhook_delay", DELIVERY, BOTH,
              "each webhook of the task waits first (simulated seconds, times --time-scale)",
              (Param("seconds", 30.0, _number(0, 86400), "simulated seconds"),),
              applies=_has_webhook),
    FaultKind("webhook_reorder", DELIVERY, BOTH,
              "the task's webhooks are held until all its generations finished, then sent "
              "in reverse order", applies=_has_webhook),
    FaultKind("upload_fail", DELIVERY, BOTH,
              "upload PUT tries fail without being sent (logged), then retried as usual",
              (Param("failures", None, _failures, "tries that fail (default all)"),),
              applies=_has_upload),
)

KIND_BY_NAME = {kind.name: kind for kind in KINDS}


def kind_named(name: Any) -> FaultKind:
    kind = KIND_BY_NAME.get(name) if isinstance(name, str) else None
    if kind is None:
        raise FaultSpecError("kind", f"Unknown fault kind {name!r}. Kinds: "
                             f"{', '.join(KIND_BY_NAME)}.")
    return kind


def catalog_table() -> str:
    """The README's fault catalog, generated so docs and code agree."""
    rows = ["| kind | scope | transports | parameters (default) | effect |",
            "|---|---|---|---|---|"]
    for kind in KINDS:
        params = "; ".join(f"`{p.name}` ({_shown(p.default)}): {p.help}" for p in kind.params)
        rows.append(f"| `{kind.name}` | {kind.scope} | {', '.join(kind.transports)} | "
                    f"{params or '-'} | {kind.effect} |")
    return "\n".join(rows)


def _shown(default: Any) -> str:
    return "-" if default is None else f"{default}"
