"""The REST transport end to end: auth, envelopes, lifecycle, cost, seeds and a real video."""

from __future__ import annotations

import copy
import itertools
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.contract import schemas
from runware_mock.fixtures import seed_examples
from tests.conftest import ServerFactory
from tests.helpers import RestClient, avatar_task, decode

# Also against serve --workers 2: one emulator whichever worker a connection reaches.
pytestmark = pytest.mark.workers

KEY = {"Authorization": "Bearer test-key"}


def schema_check(name: str, instance: dict[str, Any]) -> None:
    schemas.validator(name).validate(instance)


# --- authentication -------------------------------------------------------------------------

def test_any_non_empty_key_is_accepted_by_default(server) -> None:
    for key in ("a", "another-key"):
        reply = httpx.post(server.url, json=[avatar_task()],
                           headers={"Authorization": f"Bearer {key}"})
        assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic x"}])
def test_missing_key_is_401(server, headers: dict[str, str]) -> None:
    reply = httpx.post(server.url, json=[avatar_task()], headers=headers)
    assert reply.status_code == 401
    problem = reply.json()["errors"][0]
    assert (problem["code"], problem["parameter"], problem["taskType"]) == (
        "invalidApiKey", "apiKey", "authentication")


def test_only_listed_keys_with_api_key_option(server_factory: ServerFactory) -> None:
    server = server_factory(api_keys=("good-1", "good-2"))
    good = httpx.post(server.url, json=[avatar_task()], headers={"Authorization": "Bearer good-2"})
    bad = httpx.post(server.url, json=[avatar_task()], headers={"Authorization": "Bearer nope"})
    assert good.status_code == 200
    assert bad.status_code == 401 and bad.json()["errors"][0]["code"] == "invalidApiKey"
    via_task = httpx.post(server.url, json=[{"taskType": "authentication", "apiKey": "good-1"},
                                            avatar_task()])
    assert via_task.status_code == 200
    items = via_task.json()["data"]
    assert items[0]["taskType"] == "authentication"
    assert isinstance(items[0]["connectionSessionUUID"], str)
    assert items[1]["taskType"] == "videoInference"
    bad_task = httpx.post(server.url, json=[{"taskType": "authentication", "apiKey": "x"}])
    assert bad_task.status_code == 401


def test_ping_needs_no_key(server) -> None:
    reply = httpx.post(server.url, json=[{"taskType": "ping", "ping": True}])
    assert reply.status_code == 200
    assert reply.json() == {"data": [{"taskType": "ping", "pong": True}]}


def test_tasks_are_namespaced_by_key(server) -> None:
    owner, other = RestClient(server.url, "owner"), RestClient(server.url, "other")
    task = avatar_task()
    assert owner.post([task]).status_code == 200
    assert owner.poll(task["taskUUID"]).status_code == 200
    reply = other.poll(task["taskUUID"])
    assert reply.status_code == 404
    assert reply.json()["errors"][0]["code"] == "taskNotFound"


# --- envelope -------------------------------------------------------------------------------

def test_ack_is_one_item_per_task_with_no_url_key(client: RestClient) -> None:
    task = avatar_task(numberResults=3, webhookURL="http://127.0.0.1:9/hook", includeCost=True)
    reply = client.post([task])
    assert reply.status_code == 200
    body = reply.json()
    assert body == {"data": [{"taskType": "videoInference", "taskUUID": task["taskUUID"]}]}
    schema_check("response.ack", body["data"][0])


def test_several_tasks_are_independent(client: RestClient) -> None:
    good, bad, also_good = avatar_task(), avatar_task(outputQuality=5), avatar_task()
    reply = client.post([good, bad, {"taskType": "ping", "ping": True}, also_good])
    assert reply.status_code == 200
    body = reply.json()
    assert [item.get("taskUUID") for item in body["data"]] == [
        good["taskUUID"], None, also_good["taskUUID"]]
    assert [(e["code"], e["taskUUID"]) for e in body["errors"]] == [
        ("invalidOutputQuality", bad["taskUUID"])]
    schema_check("response.envelope", body)


def test_reused_task_uuid_is_a_conflict_and_runs_once(client: RestClient, server) -> None:
    task = avatar_task()
    assert client.post([task]).status_code == 200
    again = client.post([copy.deepcopy(task)])
    assert again.status_code == 409
    problem = again.json()["errors"][0]
    assert (problem["code"], problem["taskUUID"]) == ("conflictTaskUUID", task["taskUUID"])
    tasks = httpx.get(f"{server.base_url}/__admin/tasks").json()["tasks"]
    assert [t["taskUUID"] for t in tasks].count(task["taskUUID"]) == 1


def test_unknown_task_is_not_found(client: RestClient) -> None:
    unknown = str(uuid.uuid4())
    reply = client.poll(unknown)
    assert reply.status_code == 404
    problem = reply.json()["errors"][0]
    assert (problem["code"], problem["taskUUID"], problem["parameter"]) == (
        "taskNotFound", unknown, "taskUUID")


def test_unknown_routes_and_methods_are_runware_shaped(server) -> None:
    assert httpx.get(server.url).json()["errors"][0]["code"] == "methodNotAllowed"
    missing = httpx.get(f"{server.base_url}/nothing")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "notFound"
    no_video = httpx.get(f"{server.base_url}/video/{uuid.uuid4()}.mp4")
    assert no_video.status_code == 404
    assert no_video.json()["errors"][0]["code"] == "mediaNotFound"


# --- lifecycle ------------------------------------------------------------------------------

def test_instant_lifecycle_gives_a_playable_video(client: RestClient, tmp_path: Path) -> None:
    task = avatar_task(includeCost=True, positivePrompt="talking head")
    body = client.run(task)
    assert "errors" not in body
    [item] = body["data"]
    schema_check("response.success", item)
    assert item["cost"] == 0.5397  # 12.266 s x $0.044/s
    video = httpx.get(item["videoURL"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    path = tmp_path / "out.mp4"
    path.write_bytes(video.content)
    decoded = decode(path)
    assert (decoded["video_codec"], decoded["audio_codec"]) == ("h264", "aac")
    assert decoded["errors"] == 0
    assert abs(decoded["frames"] / 25 - 12.266) <= 1 / 25
    assert abs(decoded["audio_seconds"] - 12.266) <= 1 / 25


def measured(base_url: str, task_uuid: str) -> None:
    """Wait until the task's inputs are measured: its latency runs from then on."""
    deadline = time.monotonic() + 60
    while True:
        task = httpx.get(f"{base_url}/__admin/tasks/{task_uuid}").json()
        if all(item["readyInSeconds"] is not None for item in task["generations"]):
            return
        assert time.monotonic() < deadline, task
        time.sleep(0.02)


def test_a_lifecycle_reports_progress_that_never_decreases(
        server_factory: ServerFactory) -> None:
    """Progress over a task's latency, moved on by the simulated clock (not by waiting): a
    poll between each quarter of it."""
    server = server_factory(latency="fixed:60")
    client = RestClient(server.url)
    task = avatar_task(numberResults=2)
    assert client.post([task]).status_code == 200
    measured(server.base_url, task["taskUUID"])
    seen: list[list[int]] = []
    while True:
        body = client.poll(task["taskUUID"]).json()
        assert "errors" not in body
        assert len(body["data"]) == 2
        if all(item["status"] == "success" for item in body["data"]):
            break
        for item in body["data"]:
            if item["status"] == "processing":
                schema_check("response.processing", item)
        seen.append([item.get("progress", 100) for item in body["data"]])
        assert len(seen) <= 5, seen  # four quarters of the latency, and the file made
        advanced = httpx.post(f"{server.base_url}/__admin/clock/advance", json={"seconds": 15})
        assert advanced.status_code == 200, advanced.text
    assert len(seen) >= 4, seen
    for before, after in itertools.pairwise(seen):
        assert all(a >= b for a, b in zip(after, before, strict=True))
    assert any(0 < p < 100 for row in seen for p in row)
    for item in body["data"]:
        schema_check("response.success", item)


def test_seeds_are_distinct_and_reproducible(server_factory: ServerFactory) -> None:
    task = avatar_task(numberResults=4)

    def seeds(server) -> list[int]:
        items = RestClient(server.url).run(copy.deepcopy(task))["data"]
        return [item["seed"] for item in items]

    first, replay, other = (seeds(server_factory(seed=7)), seeds(server_factory(seed=7)),
                            seeds(server_factory(seed=8)))
    assert len(set(first)) == 4
    assert first == replay
    assert first != other


def test_undecodable_inputs_fail_the_task_not_the_server(client: RestClient,
                                                        server_factory: ServerFactory) -> None:
    cases = {
        "inputs.image": {"image": "data:image/png;base64,bm90IGFuIGltYWdl", "audio": None},
        "inputs.audio": {"image": None, "audio": "aGVsbG8gd29ybGQ="},
    }
    default = avatar_task()["inputs"]
    for parameter, inputs in cases.items():
        task = avatar_task(inputs={k: v or default[k] for k, v in inputs.items()})
        body = client.run(task)
        assert "data" not in body
        [problem] = body["errors"]
        assert (problem["code"], problem["parameter"]) == ("invalidValueUploadFailed", parameter)
        assert (problem["status"], problem["taskUUID"]) == ("error", task["taskUUID"])
    unfetchable = avatar_task(inputs={"image": "http://127.0.0.1:9/nothing.jpg",
                                      "audio": default["audio"]})
    # Unreachable inputs fail only under --unreachable-inputs error (else a stand-in).
    strict = RestClient(server_factory(unreachable_inputs="error").url)
    problem = strict.run(unfetchable)["errors"][0]
    assert problem["parameter"] == "inputs.image" and "could not fetch" in problem["message"]


# --- the seed document's four examples ------------------------------------------------------

@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e["name"])
def test_seed_examples_end_to_end(example: dict[str, Any], client: RestClient, file_server: str,
                                  tmp_path: Path) -> None:
    task = copy.deepcopy(example["request"])
    task["taskUUID"] = str(uuid.uuid4())
    for name, url in task["inputs"].items():
        task["inputs"][name] = f"{file_server}/{url.rsplit('/', 1)[1]}"
    task["includeCost"] = True
    body = client.run(task)
    [item] = body["data"]
    assert item["cost"] == example["response"]["cost"]
    assert set(example["response"]) <= set(item)
    path = tmp_path / "video.mp4"
    path.write_bytes(httpx.get(item["videoURL"]).content)
    seconds = round(example["response"]["cost"] / 0.044, 3)
    decoded = decode(path)
    assert abs(decoded["frames"] / 25 - seconds) <= 1 / 25
    assert abs(decoded["audio_seconds"] - seconds) <= 1 / 25
