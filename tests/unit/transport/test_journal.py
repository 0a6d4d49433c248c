"""The request journal in process (transport/journal.py), against docs/webhooks-admin.md:
"The journal keeps the newest --journal-limit entries and cuts every string value to
--journal-value-limit characters (arrays to as many items)", the filters it lists, verify's
count (at least 1 by default), and docs/configuration.md's --journal-entry-bytes: "bytes of
strings one journal entry keeps, the API key and object keys included (the rest is cut)"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runware_mock.transport.journal import Expectation, Journal, JournalQuery

POLL = [{"taskType": "getResponse", "taskUUID": "AB-1"}]


def journal(limit: int = 100, value_limit: int = 256, entry_bytes: int = 4096) -> Journal:
    times = iter(range(1000, 100_000))
    return Journal(limit, value_limit, lambda: float(next(times)), entry_bytes=entry_bytes)


def poll(uuid: str) -> list[dict[str, Any]]:
    return [{"taskType": "getResponse", "taskUUID": uuid}]


def test_the_newest_entries_are_kept_oldest_first() -> None:
    kept = journal(limit=3)
    for number in range(5):
        kept.record("rest", "request", tasks=poll(f"t-{number}"))
    assert [entry.request[0]["taskUUID"] for entry in kept.entries()] == ["t-2", "t-3", "t-4"]
    assert (len(kept), kept.recorded, kept.limit) == (3, 5, 3)
    newest = kept.entries(limit=2)
    assert [entry.request[0]["taskUUID"] for entry in newest] == ["t-3", "t-4"]


def test_a_clear_forgets_every_entry() -> None:
    kept = journal()
    kept.record("rest", "request", tasks=POLL)
    kept.clear()
    assert (kept.entries(), len(kept), kept.recorded) == ([], 0, 0)


def test_strings_are_cut_to_the_value_limit_and_arrays_to_as_many_items() -> None:
    kept = journal(value_limit=10)
    media = "A" * 5000
    task = {"taskType": "imageUpload", "taskUUID": "u-1", "image": media,
            "list": list(range(50)), "prompt": "B" * 11}
    (entry,) = [kept.record("rest", "request", tasks=[task])]
    image = entry.request[0]["image"]
    assert image.startswith("A" * 10) and "A" * 11 not in image and len(image) < 100
    items = entry.request[0]["list"]
    assert items[:10] == list(range(10)) and len(items) <= 11
    assert entry.request[0]["prompt"].startswith("B" * 10) and "B" * 11 not in entry.request[0][
        "prompt"]
    assert entry.request[0]["taskUUID"] == "u-1"  # short values whole


def test_the_wire_bytes_of_a_small_message_read_back_as_what_was_sent() -> None:
    kept = journal()
    reply = {"data": [{"taskType": "getResponse", "taskUUID": "AB-1", "status": "processing"}]}
    entry = kept.record("rest", "request", raw_tasks=json.dumps(POLL).encode(),
                        raw_reply=json.dumps(reply).encode(), status=200)
    assert (entry.request, entry.response, entry.status) == (POLL, reply, 200)


def test_an_entry_keeps_at_most_its_bytes_of_strings_key_and_field_names_included() -> None:
    kept = journal(value_limit=64, entry_bytes=1024)
    task = {f"field{number:04}": "x" * 64 for number in range(1000)}
    entry = kept.record("rest", "request", api_key="k" * 64, tasks=[task])
    strings = len(json.dumps(entry.to_json()["request"])) + len(entry.api_key or "")
    assert strings < 2 * 1024, "the rest is cut"
    assert len(entry.request[0]) < 1000


def test_filters_as_documented() -> None:
    kept = journal()
    first = kept.record("rest", "request", api_key="key-a", tasks=poll("AB-1"))
    frame = kept.record("websocket", "received", api_key="key-b", session="s-1",
                        tasks=[{"taskType": "imageInference", "taskUUID": "cd-2"}],
                        reply={"errors": [{"code": "invalidModel", "taskUUID": "cd-2"}]},
                        faults=[{"kind": "latency", "delaySeconds": 1.0}])
    pushed = kept.record("websocket", "sent", session="s-1",
                         reply={"data": [{"taskType": "imageInference", "taskUUID": "cd-2"}]})

    def ids(**criteria: Any) -> list[int]:
        return [entry.id for entry in kept.entries(JournalQuery(**criteria))]

    assert ids(task_uuid="ab-1") == [first.id]  # named by the request, any case
    assert ids(task_uuid="CD-2") == [frame.id, pushed.id]  # or by the reply
    assert ids(task_type="imageInference") == [frame.id, pushed.id]  # a pushed frame: its items
    assert ids(task_type="getResponse") == [first.id]
    assert ids(transport="websocket", kind="sent") == [pushed.id]
    assert ids(api_key="key-b") == [frame.id]
    assert ids(fault="any") == [frame.id] and ids(fault="latency") == [frame.id]
    assert ids(fault="none") == [first.id, pushed.id]
    assert ids(since=frame.time, until=frame.time) == [frame.id]
    assert kept.count(JournalQuery(transport="rest")) == 1
    body = frame.to_json()
    assert set(body) >= {"id", "time", "transport", "kind", "apiKey", "taskUUIDs", "taskTypes",
                         "request", "response", "status", "faults", "session"}


def test_a_long_api_key_is_found_by_the_whole_key() -> None:
    kept = journal(value_limit=8)
    kept.record("rest", "request", api_key="k" * 40, tasks=POLL)
    assert kept.count(JournalQuery(api_key="k" * 40)) == 1


@pytest.mark.parametrize(("expectation", "holds", "fails"), [
    (Expectation(), [1, 5], [0]),  # at least once when nothing is said
    (Expectation(exactly=2), [2], [1, 3]),
    (Expectation(at_least=2), [2, 9], [1]),
    (Expectation(at_most=2), [0, 2], [3]),
    (Expectation(at_least=1, at_most=2), [1, 2], [0, 3]),
])
def test_verify_counts(expectation: Expectation, holds: list[int], fails: list[int]) -> None:
    assert all(expectation.holds(count) for count in holds)
    assert not any(expectation.holds(count) for count in fails)
