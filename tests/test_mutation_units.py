"""Fast in-process unit tests of the modules `python3 dev.py mutate` mutates (benchmarks/
mutation.py): validation, schemas and catalog, cost, delivery backoff and signing, fault kinds
and wire faults. Expected values come from the documentation (docs/, the reference pages, the
Standard Webhooks specification), never from the code under test."""

from __future__ import annotations

import asyncio
import base64
import math
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response

from runware_mock.contract import model_catalog, schemas
from runware_mock.contract.validation import MOST_ERRORS, apply_defaults, check_task
from runware_mock.delivery import signing
from runware_mock.delivery.backoff import retry_delay
from runware_mock.faults import fault_kinds as faults
from runware_mock.faults import wire
from runware_mock.faults.fault_kinds import FaultSpecError, Traffic, kind_named

DOCS = Path(__file__).resolve().parent.parent / "docs"
AVATAR = "klingai:avatar@2.0-standard"


def avatar(**fields: Any) -> dict[str, Any]:
    return {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": AVATAR,
            "inputs": {"image": str(uuid.uuid4()), "audio": str(uuid.uuid4())}, **fields}


def errors_of(task: Any) -> list[dict[str, Any]]:
    return [problem.to_json() for problem in check_task(task).errors]


# --- delivery: backoff (docs/webhooks-admin.md) and signing (Standard Webhooks) ----------------

class Fixed(random.Random):
    """A generator whose uniform() returns one end of the range, to see the range itself."""

    def __init__(self, top: bool) -> None:
        super().__init__(0)
        self.top = top

    def uniform(self, a: float, b: float) -> float:
        return b if self.top else a


@pytest.mark.parametrize(("retry", "step"), [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0),
                                             (5, 20.0), (9, 20.0)])
def test_backoff_is_between_half_and_all_of_its_step(retry: int, step: float) -> None:
    # min(--delivery-backoff-max, --delivery-backoff x 2^(n-1)), with "equal jitter".
    assert retry_delay(retry, 2.0, 20.0, Fixed(top=False)) == step / 2
    assert retry_delay(retry, 2.0, 20.0, Fixed(top=True)) == step


def test_standard_webhooks_signature_of_the_specification_example() -> None:
    # The example of the Standard Webhooks specification (standardwebhooks.com).
    key = signing.secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    assert signing.signed_headers(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
        "webhook-signature": expected}


def test_a_secret_without_the_prefix_is_its_own_utf8_bytes() -> None:
    assert signing.secret_key("plain secret") == b"plain secret"
    assert signing.secret_key("whsec_" + base64.b64encode(b"\x00k").decode()) == b"\x00k"
    with pytest.raises(ValueError, match="must be base64 after the prefix"):
        signing.secret_key("whsec_***")


# --- catalog and cost (docs/images.md, docs/text.md, docs/audio-video.md, seed) -----------------

@pytest.mark.parametrize(("air", "measures", "cost"), [
    (AVATAR, {"seconds": 12.266}, 0.5397),
    ("klingai:avatar@2.0-pro", {"seconds": 2.0}, 0.174),
    ("runware:400@3", {"megapixels": 1024 * 1024 / 1e6}, 0.00416),
    ("inworld:tts@1.5-max", {"characters": 2000}, 0.1),
    ("alibaba:qwen@3.5-27b", {"tokens": 5000}, 0.01),
    ("pixverse:1@5", {"seconds": 5}, 0.299)])
def test_documented_costs(air: str, measures: dict[str, float], cost: float) -> None:
    assert model_catalog.model(air).price.of(**measures) == cost


def test_a_cost_is_rounded_to_five_decimals() -> None:
    assert model_catalog.Price("per_1k_tokens", 0.002).of(tokens=1) == 0.0
    assert model_catalog.Price("per_1k_tokens", 0.002).of(tokens=7) == 0.00001
    assert model_catalog.Price("per_result", 0.25).of() == 0.25


def test_the_catalog_knows_its_models_families_and_task_types() -> None:
    model = model_catalog.model(AVATAR)
    assert (model.name, model.task_type) == ("KlingAI Avatar 2.0 Standard", "videoInference")
    family = model.family
    assert (family.schema, family.output) == ("request.videoInference.klingai-avatar-2.0",
                                              "video")
    # The seed's avatar inputs: 10 MB portraits of at least 300 px, 2-300 s of 5 MB audio.
    assert family.image == model_catalog.ImageInputLimits(("JPEG", "PNG", "WEBP"), 10_485_760, 300,
                                                    2.5)
    assert (family.audio.min_seconds, family.audio.max_seconds) == (2.0, 300.0)
    assert family.audio.max_bytes == 5_242_880
    assert model_catalog.family_of(AVATAR) is family
    assert model_catalog.family_of("nope") is None and model_catalog.family_of(3) is None
    assert model_catalog.airs("videoInference")[:2] == ("klingai:avatar@2.0-standard",
                                                  "klingai:avatar@2.0-pro")
    assert set(model_catalog.airs()) == set(model_catalog.models())
    assert {"videoInference", "imageInference", "audioInference", "textInference",
            "upscale"} <= set(model_catalog.task_types_with_models())
    with pytest.raises(KeyError):
        model_catalog.model("unknown:0@0")
    # A family's other keys are its details (the text-to-video family: durations 1-20).
    assert model_catalog.model("luma:ray@3.2").family.details["video"]["duration_range"] == [1, 20]
    assert "task_type" not in model_catalog.model("luma:ray@3.2").family.details


def test_a_family_without_typical_seconds_is_refused() -> None:
    with pytest.raises(ValueError, match="has no typical_seconds"):
        model_catalog._family("lost", {"task_type": "x", "schema": "s", "output": "video"})


# --- schemas -------------------------------------------------------------------------------------

def test_schemas_are_loaded_inlined_and_compiled() -> None:
    assert "request.ping" in schemas.names() and "common" in schemas.names()
    assert schemas.TASK_SCHEMAS["ping"] == "request.ping"
    assert "videoInference" in schemas.MODEL_TASK_TYPES
    assert "upscale" not in schemas.MODEL_TASK_TYPES  # it has a schema of its own
    assert schemas.MODEL_SCHEMAS[AVATAR] == "request.videoInference.klingai-avatar-2.0"
    inlined = schemas.inlined("request.videoInference.klingai-avatar-2.0")
    assert "$ref" not in str(inlined)
    assert inlined["properties"]["outputQuality"]["minimum"] == 20
    assert schemas.is_valid("request.ping", {"taskType": "ping", "ping": True})
    assert not schemas.is_valid("request.ping", {"taskType": "ping", "ping": "yes"})
    assert not schemas.validator("request.ping").is_valid({"taskType": "ping", "ping": 1})
    assert schemas.resolve({"type": "string"}) == {"type": "string"}
    assert schemas.inline_refs([{"a": 1}, 2]) == [{"a": 1}, 2]


# --- validation (docs/errors.md: the rules of the error catalog) ---------------------------------

def test_a_valid_task_gets_its_documented_defaults() -> None:
    checked = check_task(avatar())
    assert checked.ok and checked.omitted == 0
    # seed: outputType URL, outputFormat MP4, outputQuality 95, numberResults 1,
    # deliveryMethod async, includeCost false, safety.checkContent false.
    task = checked.task
    assert (task["outputType"], task["outputFormat"], task["outputQuality"]) == ("URL", "MP4",
                                                                                 95)
    assert (task["numberResults"], task["deliveryMethod"], task["includeCost"]) == (1, "async",
                                                                                   False)


def test_safety_mode_defaults_to_fast_only_when_checking_is_on() -> None:
    # seed: "When enabled, defaults to fast mode"; mode's own default is none.
    assert check_task(avatar(safety={"checkContent": True})).task["safety"]["mode"] == "fast"
    assert check_task(avatar(safety={"checkContent": False})).task["safety"]["mode"] == "none"
    kept = check_task(avatar(safety={"checkContent": True, "mode": "full"})).task
    assert kept["safety"]["mode"] == "full"


def test_apply_defaults_recurses_into_present_objects_only() -> None:
    schema = {"properties": {"a": {"default": 1}, "o": {"properties": {"b": {"default": 2}}}}}
    assert apply_defaults(schema, {}) == {"a": 1}
    assert apply_defaults(schema, {"o": {}}) == {"a": 1, "o": {"b": 2}}
    assert apply_defaults(schema, {"a": 5, "o": 3}) == {"a": 5, "o": 3}


def test_a_bound_error_names_the_field_its_code_and_the_bound() -> None:
    (problem,) = errors_of(avatar(outputQuality=100))
    assert problem["code"] == "invalidOutputQuality" and problem["parameter"] == "outputQuality"
    assert problem["type"] == "integer" and problem["taskType"] == "videoInference"
    assert problem["message"] == ("Invalid value for outputQuality: 100. outputQuality must be "
                                  "an integer from 20 to 99.")
    (problem,) = errors_of(avatar(ttl=59))
    assert problem["code"] == "invalidTTL"
    assert problem["message"] == ("Invalid value for ttl: 59. ttl must be an integer from 60 "
                                  "to 31536000.")
    (problem,) = errors_of(avatar(positivePrompt=""))
    assert problem["code"] == "invalidPositivePromptLength"
    assert problem["message"].endswith("positivePrompt must be a string of 1 to 2500 "
                                       "characters.")


def test_an_enum_miss_lists_the_allowed_values() -> None:
    (problem,) = errors_of(avatar(outputFormat="GIF"))
    assert problem["code"] == "unsupportedOutputFormat"
    assert problem["allowedValues"] == ["MP4", "WEBM", "MOV"]
    assert problem["message"] == ("Unsupported value 'GIF' for outputFormat. Allowed values: "
                                  "MP4, WEBM, MOV.")


def test_missing_unknown_and_bad_fields_each_get_one_error_in_that_order() -> None:
    task = avatar(outputQuality=0, numberResults=9, colour="red")
    del task["inputs"]
    codes = [(p["code"], p["parameter"]) for p in errors_of(task)]
    assert codes == [("missingParameter", "inputs"), ("unsupportedParameter", "colour"),
                     ("invalidOutputQuality", "outputQuality"),
                     ("invalidNumberResults", "numberResults")]
    (problem,) = errors_of({**avatar(), "inputs": {"image": str(uuid.uuid4())}})
    assert (problem["code"], problem["parameter"]) == ("missingParameter", "inputs.audio")
    assert problem["message"] == "Missing required parameter: inputs.audio."


def test_task_type_and_model_problems() -> None:
    (problem,) = errors_of({"taskUUID": str(uuid.uuid4())})
    assert (problem["code"], problem["parameter"]) == ("missingParameter", "taskType")
    (problem,) = errors_of(avatar(taskType="vectorize"))
    assert problem["code"] == "unsupportedTaskType" and "videoInference" in problem[
        "allowedValues"]
    assert problem["message"].startswith("Unsupported taskType 'vectorize'. Supported: ")
    (problem,) = errors_of({"taskType": "videoInference", "taskUUID": str(uuid.uuid4())})
    assert (problem["code"], problem["parameter"]) == ("missingParameter", "model")
    (problem,) = errors_of(avatar(model="nonexistent:1@1"))
    assert problem["code"] == "invalidModel" and AVATAR in problem["allowedValues"]
    (problem,) = errors_of(avatar(model=["list"]))
    assert problem["code"] == "invalidModel"
    (problem,) = errors_of(avatar(taskType=["list"]))
    assert problem["code"] == "unsupportedTaskType"


def test_an_element_that_is_not_an_object_is_an_invalid_task() -> None:
    (problem,) = [p.to_json() for p in check_task("ping", index=3).errors]
    assert problem["code"] == "invalidTask" and problem["parameter"] == "[3]"
    assert problem["message"] == "Task 3 must be a JSON object, got string."
    assert check_task([1]).errors[0].message == "Task 0 must be a JSON object, got array."


def test_a_wrong_type_is_described_with_its_json_type() -> None:
    (problem,) = errors_of(avatar(includeCost="yes"))
    assert problem["code"] == "invalidIncludeCost"
    assert "'yes'" in problem["message"]
    (problem,) = errors_of(avatar(outputQuality=True))
    assert "True (boolean)" in problem["message"]
    (problem,) = errors_of(avatar(outputQuality=None))
    assert "None (null)" in problem["message"]
    (problem,) = errors_of(avatar(positivePrompt="x" * 2501))
    assert "... (2501 characters)" in problem["message"]


def test_errors_are_capped_and_the_rest_counted() -> None:
    task = avatar(**{f"extra{number}": 1 for number in range(MOST_ERRORS + 7)})
    checked = check_task(task)
    assert len(checked.errors) == MOST_ERRORS and checked.omitted == 7
    assert len(check_task(task, most_errors=3).errors) == 3
    assert MOST_ERRORS == 50


def test_echoed_task_type_and_uuid_are_short_strings() -> None:
    long_uuid = "u" * 101
    (problem,) = errors_of(avatar(taskUUID=long_uuid))
    assert "taskUUID" not in problem  # too long to echo
    (problem,) = errors_of(avatar(taskUUID="x" * 100, outputQuality=0))[-1:]
    assert problem["taskUUID"] == "x" * 100


# --- fault kinds (docs/faults.md's catalog) ------------------------------------------------------

def test_the_fault_catalog_is_the_documented_one() -> None:
    assert faults.catalog_table() in (DOCS / "faults.md").read_text("utf-8")


@pytest.mark.parametrize(("kind", "given", "expected"), [
    ("dribble", {}, {"chunk": 16, "interval": 0.05}),
    ("dribble", {"chunk": "4", "interval": "0.5"}, {"chunk": 4, "interval": 0.5}),
    ("dribble", {"chunk": 65536, "interval": 10}, {"chunk": 65536, "interval": 10.0}),
    ("truncated", {"fraction": 0}, {"fraction": 0.0}),
    ("hang", {"seconds": 3600}, {"seconds": 3600.0}),
    ("http_error", {"status": 429}, {"status": 429, "retryAfter": None, "code": None,
                                     "message": None}),
    ("task_error", {"results": [2, 0, 2]}, {"code": "inferenceError", "message": None,
                                             "results": [0, 2]}),
    ("task_error", {"results": "all"}, {"code": "inferenceError", "message": None,
                                        "results": None}),
    ("upload_fail", {"failures": "all"}, {"failures": None}),
    ("upload_fail", {"failures": 1}, {"failures": 1}),
    ("ws_close", {"code": 3000}, {"code": 3000, "reason": "fault injected: closed mid-task"}),
    ("latency", {"seconds": 2.5}, {"seconds": "fixed:2.5"}),
    ("latency", {"seconds": "3"}, {"seconds": "fixed:3"}),
    ("latency", {"seconds": "uniform:1:3600"}, {"seconds": "uniform:1:3600"}),
    ("latency", {"seconds": "lognormal:3600:3"}, {"seconds": "lognormal:3600:3"}),
    ("slow_task", {"factor": 1}, {"factor": 1.0, "seconds": 0.0}),
    ("stream_cut", {"after": 0}, {"after": 0, "code": "inferenceError", "message": None}),
    ("ws_duplicate", {"copies": 10}, {"copies": 10}),
])
def test_fault_parameters_within_their_bounds(kind: str, given: dict[str, Any],
                                              expected: dict[str, Any]) -> None:
    assert kind_named(kind).parse_params(given) == expected


@pytest.mark.parametrize(("kind", "given", "parameter"), [
    ("dribble", {"chunk": 0}, "chunk"), ("dribble", {"chunk": 65537}, "chunk"),
    ("dribble", {"chunk": True}, "chunk"), ("dribble", {"chunk": 1.5}, "chunk"),
    ("dribble", {"interval": 10.01}, "interval"), ("dribble", {"interval": -0.01}, "interval"),
    ("dribble", {"interval": "soon"}, "interval"), ("dribble", {"interval": [1]}, "interval"),
    ("dribble", {"interval": float("nan")}, "interval"),
    ("dribble", {"interval": False}, "interval"),
    ("truncated", {"fraction": 1.0}, "fraction"),
    ("http_error", {"status": 404}, "status"), ("http_error", {"status": 600}, "status"),
    ("http_error", {"code": "Bad Code"}, "code"), ("http_error", {"code": 5}, "code"),
    ("http_error", {"message": ""}, "message"), ("http_error", {"message": "x" * 501}, "message"),
    ("http_error", {"message": 3}, "message"),
    ("http_error", {"retryAfter": 86401}, "retryAfter"),
    ("task_error", {"results": [20]}, "results"), ("task_error", {"results": []}, "results"),
    ("upload_fail", {"failures": 0}, "failures"),
    ("ws_close", {"code": 1005}, "code"), ("ws_close", {"code": 1006}, "code"),
    ("ws_close", {"code": 999}, "code"), ("ws_close", {"code": 5000}, "code"),
    ("latency", {"seconds": 3601}, "seconds"), ("latency", {"seconds": "lognormal:1:3.5"},
                                               "seconds"),
    ("latency", {"seconds": "uniform:1:4000"}, "seconds"), ("latency", {"seconds": "soon"},
                                                           "seconds"),
    ("latency", {"seconds": True}, "seconds"), ("latency", {"seconds": "lognormal:4000:1"},
                                                "seconds"),
    ("slow_task", {"factor": 0.5}, "factor"), ("slow_task", {"factor": 1001}, "factor"),
    ("ws_duplicate", {"copies": 1}, "copies"), ("ws_duplicate", {"copies": 11}, "copies"),
    ("stream_cut", {"after": -1}, "after"), ("stream_cut", {"after": 100_001}, "after"),
])
def test_fault_parameters_outside_their_bounds(kind: str, given: dict[str, Any],
                                               parameter: str) -> None:
    with pytest.raises(FaultSpecError) as refused:
        kind_named(kind).parse_params(given)
    assert refused.value.parameter == parameter and str(refused.value)


def test_fault_parameter_messages() -> None:
    cases = [("dribble", {"chunk": 0}, "chunk must be between 1 and 65536, got 0."),
             ("upload_fail", {"failures": 0}, "failures must be >= 1, got 0."),
             ("dribble", {"chunk": "x"}, "chunk must be a whole number, got 'x'."),
             ("dribble", {"interval": 11}, "interval must be between 0 and 10, got 11."),
             ("dribble", {"interval": "x"}, "interval must be a number, got 'x'."),
             ("http_error", {"status": 404},
              "status must be one of 429, 500, 502, 503, 504, got 404.")]
    for kind, given, message in cases:
        with pytest.raises(FaultSpecError) as refused:
            kind_named(kind).parse_params(given)
        assert str(refused.value) == message
    with pytest.raises(FaultSpecError, match=r"Unknown fault kind 'nope'\. Kinds: http_error, "):
        kind_named("nope")
    with pytest.raises(FaultSpecError):
        kind_named(["dribble"])


def test_which_traffic_a_fault_applies_to() -> None:
    video = Traffic("rest", task_types=("videoInference",), task_uuids=("a", "b"),
                    number_results=2)
    pings = Traffic("websocket", task_types=("ping",))
    assert video.identity == "a" and pings.identity == ""
    assert kind_named("ws_close").applies(video, {}) and not kind_named("ws_close").applies(
        pings, {})
    assert kind_named("ws_no_pong").applies(pings, {})
    assert not kind_named("ws_no_pong").applies(video, {})
    task_error = kind_named("task_error")
    assert task_error.applies(video, {"results": [1]})
    assert not task_error.applies(video, {"results": [2]})
    assert task_error.applies(video, {"results": None})
    assert not task_error.applies(video, {"code": "contentPolicyViolation", "results": None})
    checked = Traffic("rest", checks_content=True)
    assert task_error.applies(checked, {"code": "contentPolicyViolation", "results": None})
    assert kind_named("stream_cut").applies(Traffic("rest", streams=True), {})
    assert not kind_named("stream_cut").applies(video, {})
    hooked, uploads = Traffic("rest", has_webhook=True), Traffic("rest", has_upload=True)
    for name in ("webhook_skip", "webhook_duplicate", "webhook_delay", "webhook_reorder"):
        assert kind_named(name).applies(hooked, {}) and not kind_named(name).applies(video, {})
    assert kind_named("upload_fail").applies(uploads, {})
    assert not kind_named("upload_fail").applies(hooked, {})
    assert kind_named("reset").applies(video, {})


def test_http_error_details_follow_the_documented_defaults() -> None:
    resolve = kind_named("http_error").resolve
    rng = random.Random(0)
    base = {"code": None, "retryAfter": None}
    assert resolve({**base, "status": 429}, rng) == {"code": "rateLimitExceeded",
                                                     "retryAfter": 1}
    assert resolve({**base, "status": 503}, rng) == {"code": "serviceUnavailable",
                                                     "retryAfter": 1}
    assert resolve({**base, "status": 500}, rng) == {"code": "internalServerError",
                                                     "retryAfter": None}
    assert resolve({**base, "status": 502}, rng)["code"] == "badGateway"
    assert resolve({**base, "status": 504}, rng)["code"] == "gatewayTimeout"
    assert resolve({"code": "slowDown", "retryAfter": 7, "status": 429}, rng) == {
        "code": "slowDown", "retryAfter": 7}


def test_a_latency_fault_draws_its_delay() -> None:
    resolve = kind_named("latency").resolve
    assert resolve({"seconds": "fixed:2.5"}, random.Random(0)) == {"delaySeconds": 2.5}
    drawn = resolve({"seconds": "uniform:1:2"}, random.Random(0))["delaySeconds"]
    assert 1 <= drawn <= 2
    assert resolve({"seconds": "lognormal:3600:3"}, random.Random(5))["delaySeconds"] <= 3600


def test_fault_kinds_say_whether_the_request_is_processed() -> None:
    stopped = {kind.name for kind in faults.KINDS if not kind.processed}
    assert stopped == {"http_error", "hang", "reset", "empty"}
    assert {kind.scope for kind in faults.KINDS} == set(faults.SCOPES)
    assert kind_named("dribble").param_names == {"chunk", "interval"}


# --- wire faults (docs/faults.md: truncated, dribble, reset, empty) -----------------------------

class FakeTransport:
    def __init__(self) -> None:
        self.closed = self.aborted = False
        self.options: list[tuple[int, int, bytes]] = []

    def get_extra_info(self, name: str) -> Any:
        return self if name == "socket" else None

    def setsockopt(self, level: int, option: int, value: bytes) -> None:
        self.options.append((level, option, value))

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True


def _respond(response: Response, transport: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", wire.SCOPE_KEY: transport}
    asyncio.run(response(scope, receive, send))
    return sent


def test_truncated_sends_the_fraction_and_closes() -> None:
    transport = FakeTransport()
    sent = _respond(wire.TruncatedResponse(Response(b"0123456789", status_code=201), 0.3),
                    transport)
    assert sent[0]["status"] == 201
    assert (b"content-length", b"10") in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b"012", "more_body": True}
    assert transport.closed and not transport.aborted and len(sent) == 2


def test_reset_aborts_with_linger_zero_and_empty_closes() -> None:
    import socket
    import struct
    transport = FakeTransport()
    assert _respond(wire.ResetResponse(), transport) == []
    assert transport.aborted
    assert transport.options == [(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))]
    transport = FakeTransport()
    assert _respond(wire.EmptyResponse(), transport) == []
    assert transport.closed and not transport.aborted


def test_without_a_raw_transport_the_connection_is_dropped() -> None:
    assert wire.transport_of({}) is None
    assert wire.transport_of({wire.SCOPE_KEY: object()}) is None
    with pytest.raises(ConnectionAbortedError):
        _respond(wire.EmptyResponse(), None)


def test_dribble_keeps_headers_and_sends_an_empty_body_once() -> None:
    original = Response(b"", headers={"x-extra": "1"}, media_type="application/json")
    sent = _respond(wire.DribbledResponse(original, 4, 0.0), FakeTransport())
    assert sent[-1] == {"type": "http.response.body", "body": b""}
    assert len(sent) == 2 and (b"x-extra", b"1") in sent[0]["headers"]
    sent = _respond(wire.DribbledResponse(Response(b"abcdefghij"), 4, 0.0), FakeTransport())
    assert [m["body"] for m in sent[1:]] == [b"abcd", b"efgh", b"ij"]
    assert [m["more_body"] for m in sent[1:]] == [True, True, False]


def test_raw_transport_puts_the_connection_in_the_scope() -> None:
    seen: dict[str, Any] = {}

    class App:
        state = "the app's state"

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            seen.update(scope)

    class Protocol:
        transport = "the transport"

        async def send(self, message: Any) -> None:
            pass

    wrapped = wire.RawTransport(App())
    assert wrapped.state == "the app's state"
    asyncio.run(wrapped({"type": "http"}, None, Protocol().send))  # type: ignore[arg-type]
    assert seen[wire.SCOPE_KEY] == "the transport"
    asyncio.run(wrapped({"type": "http"}, None, lambda message: None))  # type: ignore[arg-type]
    assert seen[wire.SCOPE_KEY] is None
    assert math.isfinite(faults.MAX_DELAY) and faults.MAX_DELAY == 3600.0


# --- the catalog and schemas read afresh (their cached copies were read at import) --------------

REFERENCE_MODELS = Path("/work/shared/reference/runware-models.tsv")


def test_the_catalog_read_afresh_holds_the_documented_models_and_prices() -> None:
    from tests import oracle
    fresh = model_catalog.models.__wrapped__()
    for air, model in fresh.items():
        row = oracle.price_for(air, model.task_type)
        assert (model.price.rule, model.price.usd) == (row.rule, row.usd), air
        assert model.air == air and model.name and model.family.typical_seconds > 0
    avatar_family = fresh[AVATAR].family
    assert avatar_family.name == "klingai-avatar-2-0"
    assert avatar_family.task_type == "videoInference"
    assert avatar_family.schema == "request.videoInference.klingai-avatar-2.0"
    assert avatar_family.output == "video" and avatar_family.typical_seconds == 300.0
    assert avatar_family.image == model_catalog.ImageInputLimits(
        ("JPEG", "PNG", "WEBP"), 10_485_760, 300, 2.5)
    assert avatar_family.audio == model_catalog.AudioInputLimits(
        ("mp3", "wav", "mov,mp4,m4a,3gp,3g2,mj2", "aac", "ogg", "flac"), 5_242_880, 2.0, 300.0)
    assert fresh["luma:ray@3.2"].family.image is None
    assert fresh["luma:ray@3.2"].family.details == {
        "typical_seconds": 90, "video": {"duration_range": [1, 20],
                                         "resolutions": ["480p", "720p", "1080p"],
                                         "default_resolution": "720p"}}


def test_the_catalog_serves_the_reference_models_of_their_task_types() -> None:
    fresh = model_catalog.models.__wrapped__()
    listed = dict(line.split("\t")[:2] for line in
                  REFERENCE_MODELS.read_text("utf-8").splitlines()[1:] if line.strip())
    served = {air: listed[air] for air in fresh if air in listed}
    assert len(served) > 280
    for air, task_type in served.items():
        assert fresh[air].task_type == task_type, air


def test_the_catalog_refuses_an_unknown_price_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    original = model_catalog._load.__wrapped__()
    broken = {"families": original["families"],
              "models": {AVATAR: {**original["models"][AVATAR],
                                  "price": {"rule": "per_frame", "usd": 1.0}}}}
    monkeypatch.setattr(model_catalog, "_load", lambda: broken)
    with pytest.raises(ValueError, match=r"unknown price rules: \['per_frame'\]"):
        model_catalog.models.__wrapped__()


def test_the_schemas_read_afresh() -> None:
    task_schemas = schemas._task_schemas()
    assert task_schemas["getResponse"] == "request.getResponse"
    assert task_schemas["imageUpscale"] == "request.upscale"  # an alias: one schema
    assert "videoInference" not in task_schemas  # its models choose the schema
    names = schemas.names.__wrapped__()
    assert names == tuple(sorted(names)) and "response.webhook" in names
    assert "__init__" not in names
    loaded = schemas.load.__wrapped__("request.ping")
    assert loaded["properties"]["taskType"]["const"] == "ping"
    inlined = schemas.inlined.__wrapped__("request.videoInference.klingai-avatar-2.0")
    assert inlined["properties"]["ttl"]["minimum"] == 60
    assert "$ref" not in str(inlined)
    validator = schemas.validator.__wrapped__("request.ping")
    assert validator.is_valid({"taskType": "ping", "ping": True})
    assert not validator.is_valid({"taskType": "ping", "ping": 1})
    fast = schemas.fast_validator.__wrapped__("request.ping")
    assert fast({"taskType": "ping", "ping": True}) is not None
    resolved = schemas.resolve({"$ref": "common.json#/$defs/uuidV4", "description": "x"})
    assert resolved["maxLength"] == 36 and resolved["description"] == "x"
    registry = schemas.registry.__wrapped__()
    assert registry.get_or_retrieve(schemas.load("common")["$id"]).value.contents[
        "$defs"]["uuidV4"]["maxLength"] == 36


# --- what is built at import, built again here (a mutant is active only after the import) --------

def test_the_parameter_parsers_built_afresh() -> None:
    number, integer = faults._number(0.5, 2), faults._integer(1, 5)
    assert number("n", 0.5) == 0.5 and number("n", "2") == 2.0
    assert integer("i", 1) == 1 and integer("i", "5") == 5 and integer("i", " 3") == 3
    assert faults._integer(-3)("i", "-3") == -3 and faults._integer(0)("i", 10**9) == 10**9
    refusals = [(number, 0.49, "n must be between 0.5 and 2, got 0.49."),
                (number, 2.01, "n must be between 0.5 and 2, got 2.01."),
                (number, float("inf"), "n must be between 0.5 and 2, got inf."),
                (number, None, "n must be a number, got None."),
                (number, True, "n must be a number, got True."),
                (number, "x", "n must be a number, got 'x'."),
                (integer, 0, "i must be between 1 and 5, got 0."),
                (integer, 6, "i must be between 1 and 5, got 6."),
                (integer, 2.0, "i must be a whole number, got 2.0."),
                (integer, False, "i must be a whole number, got False."),
                (integer, "two", "i must be a whole number, got 'two'."),
                (faults._integer(1), 0, "i must be >= 1, got 0.")]
    for parse, raw, message in refusals:
        with pytest.raises(FaultSpecError) as refused:
            parse("n" if parse is number else "i", raw)
        assert str(refused.value) == message
        assert refused.value.parameter == ("n" if parse is number else "i")


def test_the_other_parsers_built_afresh() -> None:
    assert faults._status("s", "503") == 503
    assert faults._code("c", None) is None and faults._code("c", "a" + "B" * 63) == "a" + "B" * 63
    assert faults._text("t", None) is None and faults._text("t", "x" * 500) == "x" * 500
    assert faults._results("r", 3) == [3] and faults._results("r", [19, 0]) == [0, 19]
    assert faults._failures("f", None) is None and faults._failures("f", 2) == 2
    assert faults._close_code("c", 1000) == 1000 and faults._close_code("c", 4999) == 4999
    assert faults._close_code("c", 1014) == 1014 and faults._close_code("c", 1007) == 1007
    assert faults._seconds_or_distribution("s", 0) == "fixed:0"
    assert faults._seconds_or_distribution("s", "fixed:3600") == "fixed:3600"
    for parse, raw, message in [
            (faults._code, "a" + "B" * 64, "c must be a camelCase error code such as "
             "'timeoutProvider', got 'a" + "B" * 64 + "'."),
            (faults._text, "   ", "t must be a non-empty string of at most 500 characters."),
            (faults._results, [], "r must list at least one result index (0-based)."),
            (faults._close_code, 1015, "c 1015 cannot be sent in a close frame: use 1000-1003, "
             "1007-1014 or 3000-4999."),
            (faults._close_code, 2999, "c 2999 cannot be sent in a close frame: use 1000-1003, "
             "1007-1014 or 3000-4999."),
            (faults._seconds_or_distribution, "fixed:3601", "s must be seconds (e.g. 2.5) or a "
             "distribution: fixed:S, uniform:A:B or lognormal:MEDIAN:SIGMA, with seconds and "
             "MEDIAN at most 3600 and SIGMA at most 3; got 'fixed:3601'."),
            (faults._seconds_or_distribution, "normal:1:2", None),
            (faults._seconds_or_distribution, [1], None)]:
        with pytest.raises(FaultSpecError) as refused:
            parse(parse.__name__.strip("_")[0], raw)
        if message is not None:
            assert str(refused.value) == message


def test_a_fault_kind_built_afresh_knows_its_parameter_names() -> None:
    kind = faults.FaultKind("k", faults.TASK, faults.BOTH, "effect",
                            (faults.Param("a", 1, faults._integer(0), "a"),
                             faults.Param("b", None, faults._text, "b")))
    assert kind.param_names == frozenset({"a", "b"})
    assert kind.parse_params({"a": "4"}) == {"a": 4, "b": None}
    assert kind.processed and kind.applies(Traffic("rest"), {})
    assert kind.resolve({}, random.Random(0)) == {}


def test_a_lognormal_latency_fault_is_capped_at_the_longest_delay() -> None:
    draws = [kind_named("latency").resolve({"seconds": "lognormal:3000:3"}, random.Random(seed))
             ["delaySeconds"] for seed in range(40)]
    assert max(draws) == faults.MAX_DELAY and min(draws) < 3000
    assert kind_named("latency").resolve({"seconds": "fixed:0.1234567"}, random.Random(0)) == {
        "delaySeconds": 0.123457}


def test_wire_responses_are_well_formed() -> None:
    original = Response(b"abc", status_code=202, headers={"x-a": "1", "x-b": "2"},
                        media_type="text/plain")
    dribbled = wire.DribbledResponse(original, 2, 0.0)
    assert (dribbled.status_code, dribbled.media_type) == (202, "text/plain")
    assert wire._extra_headers(original) == {"x-a": "1", "x-b": "2"}
    sent = _respond(dribbled, FakeTransport())
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 202
    assert all(message["type"] == "http.response.body" for message in sent[1:])
    assert bytes(wire.EmptyResponse().body) == b"" and bytes(wire.ResetResponse().body) == b""
    truncated = wire.TruncatedResponse(original, 0.5)
    assert (truncated.status_code, truncated.media_type) == (202, "text/plain")
    with pytest.raises(ConnectionAbortedError, match="no raw transport: dropping"):
        _respond(wire.ResetResponse(), None)


def test_reset_without_a_socket_still_aborts() -> None:
    class NoSocket(FakeTransport):
        def get_extra_info(self, name: str) -> Any:
            return None

    class Refusing(FakeTransport):
        def setsockopt(self, level: int, option: int, value: bytes) -> None:
            raise OSError("not a TCP socket")

    for transport in (NoSocket(), Refusing()):
        wire.reset(transport)  # type: ignore[arg-type]
        assert transport.aborted


def test_missing_fields_are_named_with_their_type() -> None:
    task = avatar()
    del task["inputs"]
    (problem,) = errors_of(task)
    assert (problem["parameter"], problem["type"]) == ("inputs", "object")
    (problem,) = errors_of({**avatar(), "inputs": {"image": str(uuid.uuid4())}})
    assert (problem["parameter"], problem["type"]) == ("inputs.audio", "string")
    (problem,) = errors_of({"taskType": "getResponse"})
    assert (problem["code"], problem["parameter"], problem["type"]) == (
        "missingParameter", "taskUUID", "string")


def test_inlined_references_are_their_targets() -> None:
    inlined = schemas.inlined.__wrapped__("request.videoInference.klingai-avatar-2.0")
    assert inlined["properties"]["taskUUID"]["maxLength"] == 36  # common.json's uuidV4
    assert "request.ping" in schemas._task_schemas().values()
    assert "response.pong" not in schemas._task_schemas().values()
    assert "request.videoInference.pixverse" not in schemas._task_schemas().values()


# --- validation: whole errors, as the error catalog's rules make them (docs/errors.md) -----------

U = "00000000-0000-4000-8000-000000000009"
IMAGE = {"taskType": "imageInference", "taskUUID": U, "model": "runware:100@1",
         "positivePrompt": "a cat", "width": 512, "height": 512}
DOC = "https://runware.ai/docs/en/video-inference/api-reference"


def _avatar_at(**fields: Any) -> dict[str, Any]:
    return {"taskType": "videoInference", "taskUUID": U, "model": AVATAR,
            "inputs": {"image": U, "audio": U}, **fields}


def _error(code: str, message: str, parameter: str, task_type: str, **more: Any) -> dict[str, Any]:
    found = {"code": code, "message": message, "parameter": parameter, **more,
             "documentation": DOC, "taskType": task_type, "taskUUID": U}
    return {key: value for key, value in found.items() if value is not None}


FORMATS = ["URL", "base64Data", "dataURI"]
WHOLE_ERRORS = [
    ({"taskType": "ping", "ping": "yes"},
     [{"code": "invalidPing", "message": "Invalid value for ping: 'yes'. ping must be a boolean.",
       "parameter": "ping", "type": "boolean", "documentation": DOC, "taskType": "ping"}]),
    ({**IMAGE, "outputType": "PDF"},
     [_error("unsupportedOutputType", "Unsupported value 'PDF' for outputType. Allowed values: "
             "URL, base64Data, dataURI.", "outputType", "imageInference", type="string",
             allowedValues=FORMATS)]),
    ({**IMAGE, "outputType": ["URL", "PDF"]},
     [_error("unsupportedOutputType", "Unsupported value 'PDF' for outputType.1. Allowed "
             "values: URL, base64Data, dataURI.", "outputType.1", "imageInference",
             type="string", allowedValues=FORMATS)]),
    ({**IMAGE, "outputType": 5},
     [_error("invalidOutputType", "Invalid value for outputType: 5. outputType must be URL, "
             "base64Data or dataURI, or a list of them.", "outputType", "imageInference")]),
    (_avatar_at(inputs={"image": U, "audio": U, "video": U}),
     [_error("unsupportedParameter", "Unsupported parameter: inputs.video. This model does not "
             "take it.", "inputs.video", "videoInference")]),
    (_avatar_at(**{"z" * 150: 1}),
     [_error("unsupportedParameter", f"Unsupported parameter: {'z' * 27}...{'z' * 28}. This "
             "model does not take it.", f"{'z' * 27}...{'z' * 28}", "videoInference")]),
    (_avatar_at(**{"z" * 100: 1}),
     [_error("unsupportedParameter", f"Unsupported parameter: {'z' * 100}. This model does not "
             "take it.", "z" * 100, "videoInference")]),
    (_avatar_at(outputQuality={"a": 1}),
     [_error("invalidOutputQuality", "Invalid value for outputQuality: {'a': 1} (object). "
             "outputQuality must be an integer from 20 to 99.", "outputQuality",
             "videoInference", type="integer")]),
    (_avatar_at(positivePrompt=["x"]),
     [_error("invalidPositivePrompt", "Invalid value for positivePrompt: ['x'] (array). "
             "positivePrompt must be a string of 1 to 2500 characters.", "positivePrompt",
             "videoInference", type="string")]),
    (_avatar_at(outputFormat="M" * 500),
     [_error("unsupportedOutputFormat", f"Unsupported value '{'M' * 60}'... (500 characters) "
             "for outputFormat. Allowed values: MP4, WEBM, MOV.", "outputFormat",
             "videoInference", type="string", allowedValues=["MP4", "WEBM", "MOV"])]),
    (_avatar_at(safety={"checkContent": "yes", "mode": "odd"}),
     [_error("invalidCheckContent", "Invalid value for safety.checkContent: 'yes'. "
             "safety.checkContent must be a boolean.", "safety.checkContent", "videoInference",
             type="boolean"),
      _error("unsupportedMode", "Unsupported value 'odd' for safety.mode. Allowed values: none, "
             "fast, full.", "safety.mode", "videoInference", type="string",
             allowedValues=["none", "fast", "full"])]),
    ({**IMAGE, "referenceImages": [U, 5]},
     [_error("invalidReferenceImages", "Invalid value for referenceImages.1: 5. "
             "referenceImages.1 must be a URL, a UUID from an upload task, a data URI or base64 "
             "data.", "referenceImages.1", "imageInference", type="string")]),
    ({"taskUUID": U},
     [{"code": "missingParameter", "message": "Missing required parameter: taskType.",
       "parameter": "taskType", "type": "string", "documentation": DOC, "taskUUID": U}]),
    ({"taskType": "videoInference", "taskUUID": U},
     [_error("missingParameter", "Missing required parameter: model.", "model",
             "videoInference", type="string")]),
]


@pytest.mark.parametrize(("task", "expected"), WHOLE_ERRORS)
def test_whole_errors(task: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    checked = check_task(task)
    assert [problem.to_json() for problem in checked.errors] == expected
    assert checked.omitted == 0 and checked.task == task


def test_unsupported_task_type_and_invalid_model_in_whole() -> None:
    (problem,) = errors_of({"taskType": "vectorize", "taskUUID": U})
    supported = list(schemas.TASK_TYPES)
    assert problem == {"code": "unsupportedTaskType", "message": "Unsupported taskType "
                       f"'vectorize'. Supported: {', '.join(supported)}.",
                       "parameter": "taskType", "type": "string", "allowedValues": supported,
                       "documentation": DOC, "taskType": "vectorize", "taskUUID": U}
    (problem,) = errors_of({"taskType": "audioInference", "taskUUID": U, "model": "x:1@1"})
    served = list(model_catalog.airs("audioInference"))
    assert problem == {"code": "invalidModel", "message": f"Invalid model 'x:1@1': this "
                       f"emulator serves {', '.join(served)} for audioInference.",
                       "parameter": "model", "type": "string", "allowedValues": served,
                       "documentation": DOC, "taskType": "audioInference", "taskUUID": U}


def test_unknown_fields_past_the_cap_are_counted() -> None:
    checked = check_task(_avatar_at(**{f"x{number}": 1 for number in range(3)}), most_errors=2)
    assert [problem.parameter for problem in checked.errors] == ["x0", "x1"]
    assert checked.omitted == 1
    nested = check_task(_avatar_at(inputs={"image": U, "audio": U, "a": 1, "b": 2, "c": 3}),
                        most_errors=1)
    assert [problem.parameter for problem in nested.errors] == ["inputs.a"]
    assert nested.omitted == 2
    # A task with exactly the fields the schema knows is checked fully too.
    full = _avatar_at(outputQuality=5)
    assert [p.code for p in check_task(full).errors] == ["invalidOutputQuality"]
