"""The OpenAPI 3.1 description of the admin API, served at ``/__admin/openapi.json``."""

from __future__ import annotations

from typing import Any

_JOURNAL_FILTERS: list[dict[str, Any]] = [
    {"name": "taskUUID", "in": "query", "schema": {"type": "string"},
     "description": "entries whose request or reply names this taskUUID"},
    {"name": "taskType", "in": "query", "schema": {"type": "string"},
     "description": "entries whose client tasks have this taskType (for a pushed frame: its "
                    "items' taskType)"},
    {"name": "since", "in": "query", "schema": {"type": "string"},
     "description": "at or after this time: Unix seconds or ISO 8601 (naive = UTC)"},
    {"name": "until", "in": "query", "schema": {"type": "string"},
     "description": "at or before this time: Unix seconds or ISO 8601"},
    {"name": "transport", "in": "query", "schema": {"enum": ["rest", "websocket"]}},
    {"name": "kind", "in": "query", "schema": {"enum": ["request", "received", "sent"]},
     "description": "request: a REST request; received: a client WebSocket frame; "
                    "sent: a frame the server pushed"},
    {"name": "apiKey", "in": "query", "schema": {"type": "string"}},
    {"name": "fault", "in": "query", "schema": {"type": "string"},
     "description": "entries hit by an injected fault of this kind, or 'any', or 'none'"},
]
_TASK_UUID = {"name": "taskUUID", "in": "path", "required": True, "schema": {"type": "string"}}
_API_KEY = {"name": "apiKey", "in": "path", "required": True, "schema": {"type": "string"}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(summary: str, ok: dict[str, Any], *, parameters: list[dict[str, Any]] | None = None,
               body: dict[str, Any] | None = None,
               errors: tuple[int, ...] = (400, 401)) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "parameters": parameters or [],
                                 "responses": dict(ok)}
    for status in errors:
        operation["responses"][str(status)] = _json("a JSON error", _ref("Errors"))
    if body is not None:
        operation["requestBody"] = {"required": False,
                                    "content": {"application/json": {"schema": body}}}
    return operation


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


_SCHEMAS: dict[str, Any] = {
    "Account": _object(
        apiKey={"type": "string"}, balance={"type": ["number", "null"]},
        spent={"type": "number"}, usage={"type": "object"},
        uploadedModels={"type": "array", "items": {"type": "string"}}),
    "Errors": _object(errors={"type": "array", "items": _object(
        code={"type": "string"}, message={"type": "string"}, parameter={"type": "string"},
        documentation={"type": "string"})}),
    "JournalEntry": _object(
        id={"type": "integer"}, time={"type": "number", "description": "Unix seconds"},
        transport={"enum": ["rest", "websocket"]}, kind={"enum": ["request", "received", "sent"]},
        apiKey={"type": ["string", "null"]},
        taskUUIDs={"type": "array", "items": {"type": "string"}},
        taskTypes={"type": "array", "items": {"type": "string"}},
        request={"description": "what the client sent; strings longer than "
                                "--journal-value-limit are cut"},
        response={"description": "the JSON object answered or pushed"},
        status={"type": ["integer", "null"], "description": "null when the connection was "
                                                             "dropped without an answer"},
        session={"type": ["string", "null"]},
        standIns={"type": "array", "items": _ref("StandIn"),
                  "description": "on an entry submitting tasks, their inputs stood in for "
                  "(absent when none)"},
        faults={"type": "array", "items": _ref("FiredFault"),
                "description": "injected faults that hit this exchange"}),
    "FiredFault": _object(
        rule={"type": "string"}, source={"enum": ["header", "admin", "profile"]},
        kind={"type": "string"}, scope={"enum": ["transport", "task", "delivery"]}),
    "FaultRule": {**_object(
        id={"type": "string", "readOnly": True},
        source={"enum": ["header", "admin", "profile"], "readOnly": True},
        kind={"type": "string", "description": "a kind of the fault catalog (README)"},
        scope={"enum": ["transport", "task", "delivery"], "readOnly": True},
        taskType={"type": "string"}, model={"type": "string"}, taskUUID={"type": "string"},
        apiKey={"type": "string"}, transport={"enum": ["rest", "websocket"]},
        nth={"type": "integer", "minimum": 1, "default": 1,
             "description": "the first matching request that may fire"},
        probability={"type": "number", "minimum": 0, "maximum": 1, "default": 1},
        times={"type": ["integer", "null"], "minimum": 1, "description": "fires at most N times"},
        description={"type": "string"},
        matched={"type": "integer", "readOnly": True},
        fired={"type": "integer", "readOnly": True}),
        "required": ["kind"], "additionalProperties": True,
        "description": "flat: kind, the kind's parameters, match fields and firing fields"},
    "StandIn": _object(
        taskUUID={"type": "string", "description": "on a journal entry"},
        parameter={"type": "string"}, url={"type": "string"},
        kind={"enum": ["image", "audio", "video"]}, reason={"type": "string"}),
    "Task": _object(
        taskUUID={"type": "string"}, taskType={"type": "string"}, model={"type": "string"},
        apiKey={"type": "string"}, state={"enum": ["processing", "success", "error", "partial"]},
        ageSeconds={"type": "number"}, audioSeconds={"type": ["number", "null"]},
        numberResults={"type": "integer"}, webhookURL={"type": ["string", "null"]},
        uploadEndpoint={"type": ["string", "null"]},
        standIns={"type": "array", "items": _ref("StandIn"),
                  "description": "inputs whose URL could not be reached, a generated file in "
                  "their place (--unreachable-inputs)"},
        generations={"type": "array", "items": _object(
            index={"type": "integer"}, status={"type": "string"}, seed={"type": "integer"},
            progress={"type": "integer"}, readyInSeconds={"type": ["number", "null"]},
            videoUUID={"type": ["string", "null"]}, videoURL={"type": ["string", "null"]},
            cost={"type": ["number", "null"]}, error={"type": ["object", "null"]})},
        results={"type": "array", "description": "each generation as getResponse reports it"},
        deliveries=_object(attempts={"type": "integer"}, pending={"type": "integer"})),
    "Attempt": _object(
        taskUUID={"type": "string"}, generation={"type": "integer"},
        kind={"enum": ["webhook", "upload"]}, method={"enum": ["POST", "PUT"]},
        url={"type": "string"}, attempt={"type": "integer", "description": "1 for the first try"},
        time={"type": "number"}, durationMs={"type": "number"},
        status={"type": ["integer", "null"], "description": "HTTP status, null if none came"},
        error={"type": ["string", "null"], "description": "timeout, refused connection, ..."},
        outcome={"enum": ["delivered", "retrying", "gave-up", "refused", "skipped"]},
        bodySha256={"type": "string"}, bodyBytes={"type": "integer"},
        fault={"type": ["string", "null"], "description": "the injected delivery fault"}),
}

# Whether the data dir takes writes (store.health.StoreHealth.to_json).
_STORE = _object(writable={"type": "boolean"},
                 problem={"type": ["string", "null"], "description": "why not, if not"},
                 since={"type": ["number", "null"], "description": "Unix seconds"},
                 refusals={"type": "integer", "description": "requests refused for it so far"})

_PATHS: dict[str, Any] = {
    "/__admin/health": {"get": _operation(
        "liveness and counters (no token needed); 503 while the data dir is not writable "
        "(tasks are refused then)", {"200": _json("ok", _object(
            status={"enum": ["ok", "storeNotWritable"]}, store=_STORE,
            baseURL={"type": "string"}, tasks={"type": "integer"},
            processing={"type": "integer"}, journal={"type": "object"},
            deliveriesPending={"type": "integer"}, renders=_object(
                running={"type": "integer"}, queued={"type": "integer"},
                made={"type": "integer"}, refused={"type": "integer"},
                pendingFiles={"type": "integer", "description": "task outputs whose file is "
                              "not made yet (--renders lazy: made at first download)"}),
            clock={"type": "number"})), "503": _json("the data dir takes no writes now (the same "
                                                     "body, status storeNotWritable)",
                                                     {"type": "object"})}, errors=())},
    "/__admin/openapi.json": {"get": _operation(
        "this document (no token needed)", {"200": _json("OpenAPI 3.1", {"type": "object"})},
        errors=())},
    "/__admin/journal": {
        "get": _operation("requests and frames received, oldest first", {"200": _json(
            "matching entries", _object(
                entries={"type": "array", "items": _ref("JournalEntry")},
                count={"type": "integer"}, kept={"type": "integer"},
                recorded={"type": "integer", "description": "kept + dropped by the cap"},
                limit={"type": "integer"}))},
            parameters=[*_JOURNAL_FILTERS, {"name": "limit", "in": "query",
                                            "schema": {"type": "integer", "minimum": 1},
                                            "description": "only the newest N matches"}]),
        "delete": _operation("forget the journal only", {"200": _json(
            "done", _object(reset={"const": "journal"}))}),
    },
    "/__admin/journal/count": {"get": _operation(
        "how many entries match", {"200": _json("count", _object(count={"type": "integer"}))},
        parameters=_JOURNAL_FILTERS)},
    "/__admin/journal/verify": {"get": _operation(
        "assert how many entries match (at least 1 when no bound is given)",
        {"200": _json("it holds", _object(verified={"const": True}, count={"type": "integer"},
                                          expected={"type": "string"}))},
        parameters=[*_JOURNAL_FILTERS, *({"name": name, "in": "query",
                                          "schema": {"type": "integer", "minimum": 0}}
                                         for name in ("count", "atLeast", "atMost"))],
        errors=(400, 401, 409))},
    "/__admin/tasks": {"get": _operation(
        "every task the emulator holds", {"200": _json("tasks", _object(
            tasks={"type": "array", "items": _ref("Task")}, count={"type": "integer"}))},
        parameters=[{"name": "state", "in": "query",
                     "schema": {"enum": ["processing", "success", "error", "partial"]}}])},
    "/__admin/tasks/{taskUUID}": {"get": _operation(
        "one task", {"200": _json("the task", _ref("Task"))}, parameters=[_TASK_UUID],
        errors=(400, 401, 404))},
    "/__admin/tasks/{taskUUID}/complete": {"post": _operation(
        "finish now without waiting for the latency (the video is still rendered)",
        {"200": _json("finished", _ref("Task")),
         "202": _json("accepted (wait=false)", _ref("Task"))},
        parameters=[_TASK_UUID, {"name": "wait", "in": "query", "schema": {"type": "boolean",
                                                                         "default": True}}],
        errors=(400, 401, 404, 409))},
    "/__admin/tasks/{taskUUID}/fail": {"post": _operation(
        "fail every generation still processing", {"200": _json("failed", _ref("Task"))},
        parameters=[_TASK_UUID], errors=(400, 401, 404, 409),
        body=_object(code={"type": "string", "default": "timeoutProvider"},
                     message={"type": "string", "maxLength": 2000}))},
    "/__admin/deliveries": {"get": _operation(
        "webhook and upload attempts, in order", {"200": _json("attempts", _object(
            attempts={"type": "array", "items": _ref("Attempt")}, count={"type": "integer"},
            pending={"type": "integer", "description": "deliveries still in progress"}))},
        parameters=[{"name": "taskUUID", "in": "query", "schema": {"type": "string"}},
                    {"name": "kind", "in": "query", "schema": {"enum": ["webhook", "upload"]}}])},
    "/__admin/clock": {"get": _operation(
        "the simulated clock (monotonic seconds: compare values, do not read them as dates)",
        {"200": _json("now", _object(now={"type": "number"}))})},
    "/__admin/clock/advance": {"post": _operation(
        "move the simulated clock forward: latencies, retry waits and ttls elapse",
        {"200": _json("moved", _object(advancedBy={"type": "number"}, now={"type": "number"}))},
        parameters=[{"name": "seconds", "in": "query", "schema": {"type": "number"},
                     "description": "instead of the body"}],
        body=_object(seconds={"type": "number", "minimum": 0}))},
    "/__admin/faults": {
        "get": _operation("fault rules in force, in the order they are tried", {"200": _json(
            "rules", _object(rules={"type": "array", "items": _ref("FaultRule")},
                             count={"type": "integer"},
                             kinds={"type": "array", "items": {"type": "string"}}))}),
        "post": _operation("add a fault rule (tried before the profile's)",
                           {"201": _json("the rule", _ref("FaultRule"))},
                           body=_ref("FaultRule")),
        "delete": _operation("remove every rule (admin and profile)", {"200": _json(
            "done", _object(cleared={"type": "integer"}))}),
    },
    "/__admin/faults/{id}": {"delete": _operation(
        "remove one rule", {"200": _json("done", _object(deleted={"type": "string"}))},
        parameters=[{"name": "id", "in": "path", "required": True,
                     "schema": {"type": "string"}}], errors=(400, 401, 404))},
    "/__admin/accounts/{apiKey}": {"get": _operation(
        "an API key's account: its balance (USD left, null: unlimited), what it spent, its "
        "usage and its uploaded models",
        {"200": _json("the account", _ref("Account"))}, parameters=[_API_KEY])},
    "/__admin/accounts/{apiKey}/balance": {"put": _operation(
        "set what an API key has left (USD; null: unlimited): a paid task once it is spent "
        "answers insufficientCredits (HTTP 402)",
        {"200": _json("the account", _ref("Account"))}, parameters=[_API_KEY],
        body=_object(balance={"type": ["number", "null"], "minimum": 0}))},
    "/__admin/reset": {"post": _operation(
        "forget every task (stopping running ones), every delivery and the journal",
        {"200": _json("done", _object(reset={"const": "everything"}))})},
}


def spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "runware-mock admin API", "version": "1",
                 "description": "Inspect and drive the emulator. With --admin-token set, send "
                                "'Authorization: Bearer <token>' or 'X-Admin-Token'. Errors are "
                                "{\"errors\": [{\"code\", \"message\", \"parameter\"}]}."},
        "paths": _PATHS,
        "components": {"schemas": _SCHEMAS,
                       "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}}},
    }
