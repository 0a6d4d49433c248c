"""promptEnhance, textInference (sync, async, stream) and modelSearch over real sockets."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from runware_mock.contract import model_catalog
from runware_mock.media.text import count_tokens
from runware_mock.runner import ServerThread
from tests.conftest import ServerFactory
from tests.helpers import RestClient
from tests.sdks import wait_until

GEMMA = "google:gemma@4-31b"
MESSAGES = [{"role": "user", "content": "Reply with exactly: hello"}]
REQUIRED_MODEL_FIELDS = ("air", "name", "version", "category", "architecture", "tags",
                         "heroImage", "private", "comment")


def text_task(**overrides: Any) -> dict[str, Any]:
    return {"taskType": "textInference", "taskUUID": str(uuid.uuid4()), "model": GEMMA,
            "messages": MESSAGES, **overrides}


def enhance_task(**overrides: Any) -> dict[str, Any]:
    return {"taskType": "promptEnhance", "taskUUID": str(uuid.uuid4()),
            "prompt": "a cat sitting on a chair", **overrides}


def search_task(**overrides: Any) -> dict[str, Any]:
    return {"taskType": "modelSearch", "taskUUID": str(uuid.uuid4()), **overrides}


def codes(reply: httpx.Response) -> list[tuple[str, Any]]:
    return [(problem["code"], problem.get("parameter")) for problem in reply.json()["errors"]]


def assert_rejected(client: RestClient, task: dict[str, Any],
                    expected: tuple[str, str]) -> None:
    """The task gets exactly one error, the expected one, naming the task."""
    reply = client.post([task])
    assert reply.status_code == 400
    assert codes(reply) == [expected]
    assert reply.json()["errors"][0]["taskUUID"] == task["taskUUID"]


def sse(body: str) -> list[Any]:
    """The events of a stream: every one a single ``data:`` line followed by a blank line."""
    assert body.endswith("\n\n")
    events = body[:-2].split("\n\n")
    assert all(event.startswith("data: ") and "\n" not in event for event in events), body
    return [event[6:] if event == "data: [DONE]" else json.loads(event[6:])
            for event in events]


def stream(client: RestClient, task: dict[str, Any],
           headers: dict[str, str] | None = None) -> tuple[httpx.Response, list[Any]]:
    reply = client.http.post(client.url, json=[task], headers=headers or {})
    assert reply.headers["content-type"].startswith("text/event-stream"), reply.text
    return reply, sse(reply.text)


# --- promptEnhance ---------------------------------------------------------------------------

def test_prompt_enhance_gives_distinct_versions_within_the_length(client: RestClient) -> None:
    task = enhance_task(promptVersions=5, promptMaxLength=12, includeCost=True)
    reply = client.post([task])
    assert reply.status_code == 200, reply.text
    items = reply.json()["data"]
    assert len(items) == 5
    assert len({item["text"] for item in items}) == 5
    for item in items:
        assert item["taskType"] == "promptEnhance"
        assert item["taskUUID"] == task["taskUUID"]
        assert item["status"] == "success"
        assert "code" not in item
        assert 0 < len(item["text"]) <= 12
        assert item["cost"] > 0


def test_prompt_enhance_defaults_to_one_version_of_the_default_model(client: RestClient) -> None:
    reply = client.post([enhance_task()])
    (item,) = reply.json()["data"]
    assert "cat sitting on a chair" in item["text"] and len(item["text"]) <= 380
    assert "cost" not in item


def test_prompt_enhance_async_is_acknowledged_then_polled(client: RestClient) -> None:
    task = enhance_task(deliveryMethod="async", promptVersions=2)
    ack = client.post([task]).json()["data"]
    assert ack == [{"taskType": "promptEnhance", "taskUUID": task["taskUUID"]}]
    items = client.wait(task["taskUUID"])["data"]
    assert [item["status"] for item in items] == ["success", "success"]
    assert items[0]["text"] != items[1]["text"]


def test_prompt_enhance_depends_on_the_prompt_and_the_seed_only(
        server_factory: ServerFactory) -> None:
    def versions(server: ServerThread, prompt: str) -> list[str]:
        reply = RestClient(server.url).post([enhance_task(prompt=prompt, promptVersions=3)])
        return [item["text"] for item in reply.json()["data"]]

    first, again, other = (server_factory(seed=seed) for seed in (7, 7, 8))
    assert versions(first, "a red fox") == versions(again, "a red fox")
    assert versions(first, "a red fox") != versions(other, "a red fox")
    assert versions(first, "a red fox") != versions(first, "a blue fox")


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"prompt": ""}, ("invalidPrompt", "prompt")),
    ({"prompt": "x" * 301}, ("invalidPrompt", "prompt")),
    ({"promptMaxLength": 11}, ("invalidPromptMaxLength", "promptMaxLength")),
    ({"promptMaxLength": 401}, ("invalidPromptMaxLength", "promptMaxLength")),
    ({"promptVersions": 0}, ("invalidPromptVersions", "promptVersions")),
    ({"promptVersions": 6}, ("invalidPromptVersions", "promptVersions")),
    ({"model": GEMMA}, ("invalidModel", "model")),
    ({"deliveryMethod": "stream"}, ("unsupportedDeliveryMethod", "deliveryMethod")),
    ({"numberResults": 2}, ("unsupportedParameter", "numberResults")),
])
def test_prompt_enhance_rejects_values_out_of_bounds(client: RestClient,
                                                     overrides: dict[str, Any],
                                                     expected: tuple[str, str]) -> None:
    assert_rejected(client, enhance_task(**overrides), expected)


# --- textInference ---------------------------------------------------------------------------

def test_text_inference_answers_with_usage_and_cost(client: RestClient) -> None:
    task = text_task(includeCost=True)
    reply = client.post([task])
    (item,) = reply.json()["data"]
    assert (item["taskType"], item["taskUUID"], item["status"]) == (
        "textInference", task["taskUUID"], "success")
    assert 'answers "Reply with exactly: hello"' in item["text"]
    usage = item["usage"]
    assert usage["promptTokens"] == count_tokens(MESSAGES[0]["content"])
    assert usage["completionTokens"] == count_tokens(item["text"])
    assert usage["totalTokens"] == usage["promptTokens"] + usage["completionTokens"]
    assert item["finishReason"] == "stop"
    assert item["cost"] == model_catalog.model(GEMMA).price.of(tokens=usage["totalTokens"])


def test_text_inference_is_reproducible_from_the_request_seed(client: RestClient) -> None:
    def answer(**overrides: Any) -> str:
        return str(client.post([text_task(**overrides)]).json()["data"][0]["text"])

    assert answer(settings={"seed": 42}) == answer(seed=42)
    assert answer(seed=42) != answer(seed=43)
    assert answer() != answer()  # without a seed, each task draws its own


def test_text_inference_results_differ_and_stop_at_max_tokens(client: RestClient) -> None:
    items = client.post([text_task(numberResults=3, maxTokens=7)]).json()["data"]
    assert len({item["text"] for item in items}) == 3
    for item in items:
        assert (item["finishReason"], item["usage"]["completionTokens"]) == ("length", 7)
        assert count_tokens(item["text"]) == 7


def test_text_inference_async_is_acknowledged_then_polled(client: RestClient) -> None:
    task = text_task(deliveryMethod="async")
    assert client.post([task]).json()["data"] == [{"taskType": "textInference",
                                                    "taskUUID": task["taskUUID"]}]
    (item,) = client.wait(task["taskUUID"])["data"]
    assert item["status"] == "success" and item["text"]


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"model": "nonexistent:999@999"}, ("invalidModel", "model")),
    ({"messages": []}, ("invalidMessages", "messages")),
    ({"messages": [{"role": "assistant", "content": "hi"}]}, ("invalidMessages", "messages")),
    ({"messages": [{"role": "system", "content": "hi"}]}, ("unsupportedRole", "messages.0.role")),
    ({"messages": [{"role": "user", "content": ""}]}, ("invalidContent", "messages.0.content")),
    ({"temperature": 2.5}, ("invalidTemperature", "temperature")),
    ({"settings": {"maxTokens": 0}}, ("invalidMaxTokens", "settings.maxTokens")),
    ({"settings": {"topP": -0.1}}, ("invalidTopP", "settings.topP")),
    ({"numberResults": 5}, ("invalidNumberResults", "numberResults")),
    ({"deliveryMethod": "push"}, ("unsupportedDeliveryMethod", "deliveryMethod")),
    ({"tools": []}, ("invalidTools", "tools")),
    ({"tool_choice": "auto"}, ("unsupportedParameter", "tool_choice")),
])
def test_text_inference_rejects_values_out_of_bounds(client: RestClient,
                                                     overrides: dict[str, Any],
                                                     expected: tuple[str, str]) -> None:
    assert_rejected(client, text_task(**overrides), expected)


# --- textInference, streamed ------------------------------------------------------------------

def test_a_stream_sends_deltas_then_the_final_chunk_then_done(client: RestClient) -> None:
    task = text_task(deliveryMethod="stream", includeCost=True)
    reply, events = stream(client, task)
    assert reply.status_code == 200
    *deltas, final, done = events
    assert done == "[DONE]"
    assert all(set(chunk) == {"taskType", "taskUUID", "delta"} for chunk in deltas)
    assert all(chunk["taskUUID"] == task["taskUUID"] for chunk in events[:-1])
    assert (final["delta"], final["finishReason"]) == ({}, "stop")
    (polled,) = client.poll(task["taskUUID"]).json()["data"]
    assert "".join(chunk["delta"]["text"] for chunk in deltas) == polled["text"]
    assert len(deltas) == polled["usage"]["completionTokens"]
    assert (final["usage"], final["cost"]) == (polled["usage"], polled["cost"])


def test_a_stream_of_several_results_names_each_chunks_result(client: RestClient) -> None:
    task = text_task(deliveryMethod="stream", numberResults=2, maxTokens=5)
    _, events = stream(client, task)
    *chunks, done = events
    assert done == "[DONE]"
    assert [chunk["resultIndex"] for chunk in chunks] == [0] * 5 + [1] * 5 + [0, 1]
    assert all("cost" not in chunk for chunk in chunks)  # includeCost was not asked
    polled = client.poll(task["taskUUID"]).json()["data"]
    for index, item in enumerate(polled):
        mine = [chunk for chunk in chunks[:10] if chunk["resultIndex"] == index]
        assert "".join(chunk["delta"]["text"] for chunk in mine) == item["text"]


def test_a_stream_is_paced_by_the_simulated_clock(server_factory: ServerFactory) -> None:
    server = server_factory(latency="fixed:1000")
    task = text_task(deliveryMethod="stream", maxTokens=10)
    received: list[str] = []
    with httpx.Client(timeout=30) as http, http.stream(
            "POST", server.url, json=[task], headers={"Authorization": "Bearer k"}) as reply:
        lines = reply.iter_lines()
        # Half the latency: the first half of the ten deltas is due, the task is not done.
        _advance(server, 500)
        received += _data_lines(lines, 5)
        polled = RestClient(server.url, "k").poll(task["taskUUID"]).json()["data"]
        assert polled[0]["status"] == "processing"
        _advance(server, 500)
        received += _data_lines(lines, 7)
    assert [json.loads(line).get("finishReason") for line in received[:10]] == [None] * 10
    assert json.loads(received[10])["finishReason"] == "length"
    assert received[11] == "[DONE]"


def _advance(server: ServerThread, seconds: float) -> None:
    reply = httpx.post(f"{server.base_url}/__admin/clock/advance", json={"seconds": seconds},
                       timeout=30)
    assert reply.status_code == 200, reply.text


def _data_lines(lines: Iterator[str], count: int) -> list[str]:
    found: list[str] = []
    while len(found) < count:
        line = next(lines)
        if line:
            found.append(line.removeprefix("data: "))
    return found


def test_an_admin_complete_sends_the_rest_of_a_stream_at_once(
        server_factory: ServerFactory) -> None:
    server = server_factory(latency="fixed:3600")
    client = RestClient(server.url)
    task = text_task(deliveryMethod="stream")
    events: list[Any] = []
    streaming = threading.Thread(target=lambda: events.extend(stream(client, task)[1]))
    streaming.start()
    wait_until(lambda: client.poll(task["taskUUID"]).status_code == 200, "the task exists")
    reply = httpx.post(f"{server.base_url}/__admin/tasks/{task['taskUUID']}/complete",
                       timeout=30)
    assert reply.status_code == 200, reply.text
    streaming.join(timeout=60)
    assert events[-1] == "[DONE]" and events[-2]["finishReason"] == "stop"
    assert all("delta" in event for event in events[:-1])


def test_a_stream_cut_fault_ends_the_stream_with_the_error(client: RestClient) -> None:
    task = text_task(deliveryMethod="stream")
    _, events = stream(client, task, {"X-Mock-Fault": "stream_cut; after=3; code=timeoutProvider"})
    *deltas, last = events
    assert len(deltas) == 3 and all("delta" in chunk for chunk in deltas)
    assert set(last) == {"errors", "error"}
    assert last["errors"] == [last["error"]]
    assert (last["error"]["code"], last["error"]["taskUUID"]) == ("timeoutProvider",
                                                                  task["taskUUID"])
    polled = client.poll(task["taskUUID"]).json()
    assert polled["errors"][0]["code"] == "timeoutProvider"


def test_a_stream_cut_rule_matches_the_model(server: ServerThread, client: RestClient) -> None:
    rule = {"kind": "stream_cut", "after": 0, "taskType": "textInference",
            "model": "openai:gpt@5-mini"}
    assert httpx.post(f"{server.base_url}/__admin/faults", json=rule, timeout=30).status_code == 201
    _, untouched = stream(client, text_task(deliveryMethod="stream"))
    assert untouched[-1] == "[DONE]"
    _, cut = stream(client, text_task(deliveryMethod="stream", model="openai:gpt@5-mini"))
    assert [set(event) for event in cut] == [{"errors", "error"}]


def test_a_stream_cut_only_applies_to_streams(server: ServerThread) -> None:
    bad = {"kind": "stream_cut", "transport": "websocket"}
    reply = httpx.post(f"{server.base_url}/__admin/faults", json=bad, timeout=30)
    assert reply.status_code == 400
    sync = RestClient(server.url).http.post(server.url, json=[text_task()],
                                            headers={"X-Mock-Fault": "stream_cut; after=0"})
    assert sync.json()["data"][0]["status"] == "success"


def test_a_task_error_fault_ends_a_stream_after_its_deltas(client: RestClient) -> None:
    task = text_task(deliveryMethod="stream", maxTokens=4)
    _, events = stream(client, task, {"X-Mock-Fault": "task_error; code=inferenceError"})
    assert [("delta" in event, "error" in event) for event in events] == [(True, False)] * 4 + [
        (False, True)]


def test_stream_is_answered_like_sync_over_websocket(server: ServerThread) -> None:
    task = text_task(deliveryMethod="stream", includeCost=True)
    with connect(server.ws_url, open_timeout=10) as socket:
        socket.send(json.dumps([{"taskType": "authentication", "apiKey": "k"}]))
        socket.recv(30)
        socket.send(json.dumps([task]))
        (item,) = json.loads(socket.recv(30))["data"]
    assert (item["status"], item["finishReason"]) == ("success", "stop")
    assert item["text"] and item["cost"] > 0


def test_stream_beside_another_task_is_answered_like_sync(client: RestClient) -> None:
    reply = client.post([text_task(deliveryMethod="stream"), enhance_task()])
    assert reply.headers["content-type"] == "application/json"
    assert [item["taskType"] for item in reply.json()["data"]] == ["textInference",
                                                                  "promptEnhance"]


def test_runware_05s_stream_url_is_served_too(server: ServerThread) -> None:
    """0.5 maps ws://localhost:8080 to http://localhost:8080: the POST comes to /."""
    root = RestClient(server.base_url + "/")
    _, events = stream(root, text_task(deliveryMethod="stream"))
    assert events[-1] == "[DONE]"


def test_a_streamed_reply_is_journaled(server: ServerThread, client: RestClient) -> None:
    task = text_task(deliveryMethod="stream")
    stream(client, task)
    entries = httpx.get(f"{server.base_url}/__admin/journal",
                        params={"taskUUID": task["taskUUID"]}, timeout=30).json()["entries"]
    assert [(entry["status"], entry["response"]) for entry in entries] == [
        (200, {"stream": "text/event-stream"})]


def test_a_bad_stream_request_is_a_json_error(client: RestClient) -> None:
    reply = client.post([text_task(deliveryMethod="stream", model="nonexistent:1@1")])
    assert reply.status_code == 400
    assert codes(reply) == [("invalidModel", "model")]


def test_a_stream_the_client_leaves_still_finishes_its_task(server: ServerThread,
                                                           client: RestClient) -> None:
    task = text_task(deliveryMethod="stream")
    with httpx.Client(timeout=30) as http, http.stream(
            "POST", server.url, json=[task], headers={"Authorization": "Bearer test-key"}
    ) as reply:
        assert next(reply.iter_lines()).startswith("data: {")
    (item,) = client.wait(task["taskUUID"])["data"]
    assert item["status"] == "success" and item["text"]


# --- modelSearch -----------------------------------------------------------------------------

def search(client: RestClient, **fields: Any) -> dict[str, Any]:
    reply = client.post([search_task(**fields)])
    assert reply.status_code == 200, reply.text
    (item,) = reply.json()["data"]
    assert item["taskType"] == "modelSearch"
    for model in item["results"]:
        assert all(model.get(name) is not None for name in REQUIRED_MODEL_FIELDS), model
        assert isinstance(model["tags"], list) and isinstance(model["private"], bool)
    return dict(item)


def test_model_search_finds_realistic_checkpoints(client: RestClient) -> None:
    found = search(client, search="realistic", category="checkpoint", limit=3)
    assert len(found["results"]) == 3 and found["totalResults"] > 3
    for model in found["results"]:
        assert model["category"] == "checkpoint"
        assert "realistic" in " ".join([model["name"], *model["tags"],
                                        model["comment"]]).lower()
    page = search(client, search="realistic", category="checkpoint", limit=3, offset=3)
    assert not {m["air"] for m in page["results"]} & {m["air"] for m in found["results"]}


def test_model_search_finds_the_catalog_models(client: RestClient) -> None:
    found = search(client, search="gemma")
    assert [model["air"] for model in found["results"]] == [GEMMA]
    assert found["results"][0]["source"] == "official"
    text = search(client, capabilities=["textInference"], limit=100)
    assert text["totalResults"] == len(model_catalog.airs("textInference"))


@pytest.mark.parametrize(("fields", "expected"), [
    ({"category": "lora"}, {"lora"}),
    ({"architecture": "flux1d", "source": "community"}, {"flux1d"}),
    ({"tags": ["controlnet", "depth"]}, {"controlnet", "depth"}),
    ({"conditioning": "canny"}, {"canny"}),
])
def test_model_search_filters(client: RestClient, fields: dict[str, Any],
                              expected: set[str]) -> None:
    found = search(client, **fields)["results"]
    assert found
    for model in found:
        assert expected & {model["category"], model["architecture"], model["conditioning"],
                           *model["tags"]}


def test_model_search_finds_no_private_models(client: RestClient) -> None:
    found = search(client, visibility="private")
    assert (found["totalResults"], found["results"]) == (0, [])


@pytest.mark.parametrize(("fields", "expected"), [
    ({"limit": 0}, ("invalidLimit", "limit")),
    ({"limit": 101}, ("invalidLimit", "limit")),
    ({"offset": -1}, ("invalidOffset", "offset")),
    ({"category": "sampler"}, ("unsupportedCategory", "category")),
    ({"search": "x" * 201}, ("invalidSearch", "search")),
    ({"tags": "realistic"}, ("invalidTags", "tags")),
])
def test_model_search_rejects_values_out_of_bounds(client: RestClient, fields: dict[str, Any],
                                                   expected: tuple[str, str]) -> None:
    assert_rejected(client, search_task(**fields), expected)
