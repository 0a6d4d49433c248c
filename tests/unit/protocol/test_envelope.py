"""The request envelope's value count in process (protocol/envelope.py), against
docs/configuration.md's --max-json-values: "most JSON values one request body or WebSocket
frame may hold (arrays, objects and the strings, numbers, booleans and nulls in them; object
keys are not counted, nor commas or brackets inside strings)". The expected counts come from
parsing each body with the standard library and walking what it gives."""

from __future__ import annotations

import asyncio
import json

import pytest

from runware_mock.protocol import envelope
from runware_mock.protocol.envelope import RequestLimits, read_task_array

BODIES = [
    '[{"taskType":"ping","ping":true}]',
    '[{"systemPrompt":"' + "," * 500 + '"}]',
    '[{"a":"[{,}]","b":[ ],"c":{ },"d":[[],{},[1, 2,{"e":null}]]}]',
    '[{"quote":"a \\" , [ b","slash":"c:\\\\","after":[1,2]}]',
    '[{"tail":"\\\\\\\\","x":"\\\\\\"[,","n":[1,[ \n\t],{"k":"v"}]}]',
    '["\\u0022,", "\\\\", "[{", {}, [], 3.5, -1e3, false]',
    "[{\"list\":[" + ", ".join(['"a,b"', "[]", "{ }", "[1]"] * 40) + "]}]",
]


def values_in(body: str) -> int:
    """Every array, object and scalar of the parsed body, keys left out."""
    counted, pending = 0, [json.loads(body)]
    while pending:
        value = pending.pop()
        counted += 1
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return counted


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("slice_bytes", [1, 2, 3, 7, 1 << 20])
def test_the_exact_count_is_the_parsed_documents(body: str, slice_bytes: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Slices of a few bytes cut strings, escapes and empty brackets at every place.
    monkeypatch.setattr(envelope, "_COUNT_SLICE", slice_bytes)
    expected = values_in(body)
    for raw in (body, body.encode()):
        counted, _ = asyncio.run(envelope._count_values_exactly(raw, 10**9))
        assert counted == expected, (raw, slice_bytes)


@pytest.mark.parametrize("body", BODIES)
def test_a_body_at_the_limit_is_read_and_one_past_it_refused(body: str) -> None:
    exact = values_in(body)
    tasks, problem = asyncio.run(read_task_array(body, limits=RequestLimits(json_values=exact)))
    assert problem is None and tasks == json.loads(body)
    _, problem = asyncio.run(read_task_array(body, limits=RequestLimits(json_values=exact - 1)))
    assert problem is not None
    assert [e.code for e in problem.errors] == ["payloadTooLarge"]


def test_commas_in_strings_leave_nesting_checked() -> None:
    """Past the first bound the exact count also gives the brackets the depth check needs."""
    deep = "[" * 8 + "]" * 8
    body = '[{"p":"' + "," * 100 + '","d":' + deep + "}]"
    _, problem = asyncio.run(read_task_array(
        body, limits=RequestLimits(json_values=50, nesting_depth=5)))
    assert problem is not None and [e.code for e in problem.errors] == ["nestingTooDeep"]
