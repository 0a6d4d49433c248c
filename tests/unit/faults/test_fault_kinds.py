"""The fault kinds in process (faults/fault_kinds.py), against docs/faults.md's catalog:
parameters and their bounds, which traffic each acts on, what each draws.
(Expected values come from the documentation, never from the code under test;
`python3 dev.py mutate` runs these against its mutants.)"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from runware_mock.faults import fault_kinds as faults
from runware_mock.faults.fault_kinds import FaultSpecError, Traffic, kind_named

DOCS = Path(__file__).resolve().parents[3] / "docs"


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
