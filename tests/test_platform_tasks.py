"""The platform task types over REST, as a client sends them (runware-surface.md §2.9-2.11):
getTaskDetails answers a past task's request and response from the store; modelUpload
streams its statuses and makes the model the key's own (found by modelSearch, run by
imageInference, kept across restarts); accountManagement reports what the key spent, and a
key whose balance is spent is refused a paid task with insufficientCredits (HTTP 402).
What each answers: docs/task-types/{get-task-details,model-upload,account-management}.md."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import PORTRAIT, RestClient, data_uri
from tests.socket_client import Socket

IMAGE_MODEL = "runware:101@1"
# runware 0.5.24's README example (Model Upload), as its SDK sends it.
UPLOAD = {"taskType": "modelUpload", "air": "qatests:68487@08629", "name": "yWO8IaKwez",
          "heroImageURL": "https://raw.githubusercontent.com/adilentiq/test-images/refs/heads/"
                          "main/image.jpg",
          "downloadURL": "https://repo-controlnets-r2.runware.ai/controlnet-zoe-depth-sdxl-1.0"
                         ".safetensors/controlnet-zoe-depth-sdxl-1.0.safetensors.part-001-1",
          "uniqueIdentifier": "aq2w3e4r5t6y7u8i9o0p1q2w3e4r5t6y7u8i9o0p1q2w3e4r5t6y7u8i9o0p1234",
          "version": "1.0", "tags": ["tag1", "tag2", "tag2"], "architecture": "flux1d",
          "type": "base", "defaultWeight": 0.8, "format": "safetensors",
          "positiveTriggerWords": "my trigger word", "shortDescription": "a model description",
          "private": False, "defaultScheduler": "Default", "category": "checkpoint",
          "comment": "some comments if you want to add for internal use"}
STATUSES = ["validated", "downloaded", "optimized", "stored", "ready"]


def settings(data_dir: Path, **overrides: Any) -> Settings:
    return dataclasses.replace(Settings(latency="instant", data_dir=data_dir), **overrides)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    with ServerThread(settings(tmp_path_factory.mktemp("platform"))) as started:
        yield started


def key_client(server: ServerThread) -> RestClient:
    """A client of its own API key: each test starts from an empty account."""
    return RestClient(server.url, api_key=f"key-{uuid.uuid4()}")


def image(**overrides: Any) -> dict[str, Any]:
    return {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": IMAGE_MODEL,
            "positivePrompt": "a lighthouse at dusk", "width": 512, "height": 512,
            **overrides}


def upload(**overrides: Any) -> dict[str, Any]:
    return {**UPLOAD, "taskUUID": str(uuid.uuid4()), **overrides}


def only_item(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    (item,) = response.json()["data"]
    return item


def only_error(response: httpx.Response) -> dict[str, Any]:
    (problem,) = response.json()["errors"]
    return problem


def details(client: RestClient, task_uuid: str) -> httpx.Response:
    return client.post([{"taskType": "getTaskDetails", "taskUUID": task_uuid}])


def account(client: RestClient, operation: str = "getDetails", **fields: Any) -> dict[str, Any]:
    return only_item(client.post([{"taskType": "accountManagement",
                                   "taskUUID": str(uuid.uuid4()), "operation": operation,
                                   **fields}]))


# --- getTaskDetails -------------------------------------------------------------------------

def test_task_details_answer_the_request_as_sent_and_the_response_as_received(
        server: ServerThread) -> None:
    client = key_client(server)
    sent = image(deliveryMethod="async", includeCost=True, numberResults=2)
    received = client.run(sent)
    item = only_item(details(client, sent["taskUUID"]))
    assert (item["taskType"], item["taskUUID"]) == ("getTaskDetails", sent["taskUUID"])
    (request,) = item["request"]
    assert {name: request[name] for name in sent} == sent
    assert item["response"] == received


def test_task_details_of_a_failed_task_carry_its_errors(server: ServerThread) -> None:
    client = key_client(server)
    sent = image(deliveryMethod="async")
    # Its generation fails in the provider (an injected fault: docs/faults.md).
    client.http.post(client.url, json=[sent],
                     headers={"X-Mock-Fault": "task_error; code=timeoutProvider"})
    client.wait(sent["taskUUID"])
    response = only_item(details(client, sent["taskUUID"]))["response"]
    assert list(response) == ["errors"]
    assert [(problem["code"], problem["taskUUID"]) for problem in response["errors"]] == \
        [("timeoutProvider", sent["taskUUID"])]


def test_task_details_of_an_unknown_or_another_keys_task_are_not_found(
        server: ServerThread) -> None:
    owner, other = key_client(server), key_client(server)
    sent = image()
    owner.post([sent])
    for client, task_uuid in ((owner, str(uuid.uuid4())), (other, sent["taskUUID"])):
        response = details(client, task_uuid)
        assert response.status_code == 404
        assert (only_error(response)["code"], only_error(response)["parameter"]) == \
            ("taskNotFound", "taskUUID")


# --- modelUpload ----------------------------------------------------------------------------

def test_an_upload_streams_its_statuses_until_ready(server: ServerThread) -> None:
    client = key_client(server)
    sent = upload()
    items = client.post([sent]).json()["data"]
    assert [item["status"] for item in items] == STATUSES
    assert {(item["taskType"], item["taskUUID"], item["air"]) for item in items} == \
        {("modelUpload", sent["taskUUID"], UPLOAD["air"])}


def test_over_websocket_ready_comes_first_in_a_frame_of_its_own(server: ServerThread) -> None:
    """The statuses answer the upload, and ``ready`` follows in a frame of its own (or alone,
    if the upload was ready before its answer): @runware/sdk-js reads only the first item of
    each frame."""
    socket = Socket(server.ws_url)
    try:
        socket.authenticate(f"key-{uuid.uuid4()}")
        sent = upload()
        frames = [socket.ask([sent])["data"]]
        while frames[-1][-1]["status"] != "ready":
            frames.append(socket.read()["data"])
        statuses = [item["status"] for frame in frames for item in frame]
        assert statuses in (STATUSES, ["ready"])
        assert frames[-1] == [{"taskType": "modelUpload", "taskUUID": sent["taskUUID"],
                               "status": "ready", "air": UPLOAD["air"],
                               "message": frames[-1][0]["message"]}]
    finally:
        socket.close()


def test_an_upload_is_a_task_faults_reach(server: ServerThread) -> None:
    """An upload names no model: a task fault armed for its task type still finds it, and
    fails it as asked (docs/faults.md)."""
    client = key_client(server)
    sent = upload()
    response = client.http.post(client.url, json=[sent], headers={
        "X-Mock-Fault": "task_error; taskType=modelUpload; code=inferenceError"})
    assert [item["status"] for item in response.json()["data"]] == STATUSES[:-1]
    assert [(problem["code"], problem["taskUUID"]) for problem in response.json()["errors"]] == \
        [("inferenceError", sent["taskUUID"])]


def test_an_uploaded_checkpoint_is_the_keys_own_model(server: ServerThread) -> None:
    owner, other = key_client(server), key_client(server)
    owner.post([upload()])
    ran = only_item(owner.post([image(model=UPLOAD["air"], deliveryMethod="sync")]))
    assert ran["status"] == "success" and ran["imageURL"]
    refused = only_error(other.post([image(model=UPLOAD["air"])]))
    assert (refused["code"], refused["parameter"]) == ("invalidModel", "model")


def test_model_search_finds_the_keys_uploads_only(server: ServerThread) -> None:
    owner, other = key_client(server), key_client(server)
    owner.post([upload(private=True)])

    def search(client: RestClient, visibility: str) -> list[str]:
        found = only_item(client.post([{"taskType": "modelSearch", "taskUUID": str(uuid.uuid4()),
                                        "search": "yWO8IaKwez", "visibility": visibility}]))
        return [model["air"] for model in found["results"]]

    assert search(owner, "owned") == search(owner, "private") == search(owner, "all") == \
        [UPLOAD["air"]]
    assert search(owner, "public") == []  # uploaded private
    assert search(other, "all") == search(other, "owned") == []


def test_the_same_air_updates_the_model_but_not_its_type(server: ServerThread) -> None:
    client = key_client(server)
    client.post([upload()])
    updated = client.post([upload(name="renamed")]).json()["data"]
    assert updated[-1]["status"] == "ready"
    found = only_item(client.post([{"taskType": "modelSearch", "taskUUID": str(uuid.uuid4()),
                                    "visibility": "owned"}]))
    assert [model["name"] for model in found["results"]] == ["renamed"]
    problem = only_error(client.post([upload(type="inpainting")]))
    assert (problem["code"], problem["parameter"]) == ("conflictModelType", "type")


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"air": "civitai:68487@08629"}, "unsupportedAirSource", "air"),
    ({"air": "not an air"}, "invalidAir", "air"),
    ({"category": "lora"}, "unsupportedType", "type"),  # type is a checkpoint's
    ({"category": "controlnet", "type": None}, "missingParameter", "conditioning"),
    ({"defaultSteps": 101}, "invalidDefaultSteps", "defaultSteps"),
    ({"architecture": "dalle"}, "unsupportedArchitecture", "architecture"),
])
def test_what_the_upload_page_does_not_allow_is_refused(
        server: ServerThread, overrides: dict[str, Any], code: str, parameter: str) -> None:
    sent = {name: value for name, value in upload(**overrides).items() if value is not None}
    problem = only_error(key_client(server).post([sent]))
    assert (problem["code"], problem["parameter"], problem["taskType"]) == \
        (code, parameter, "modelUpload")


# --- accountManagement ----------------------------------------------------------------------

def test_usage_is_what_the_key_spent(server: ServerThread) -> None:
    client = key_client(server)
    costs = [only_item(client.post([image(includeCost=True, deliveryMethod="sync")]))["cost"]
             for _ in range(2)]
    client.post([image(deliveryMethod="sync")])  # charged too, though its cost is not shown
    item = account(client)
    assert item["operation"] == "getDetails" and item["AIRSource"] == "qatests"
    assert item["balance"] is None  # unlimited: no --balance
    for window in ("total", "today", "last7Days", "last30Days"):
        assert item["usage"][window] == {"credits": pytest.approx(costs[0] * 3),
                                         "requests": 3}
    (key,) = item["apiKeys"]
    assert key["requests"] == 3 and "*" in key["apiKey"]


def test_usage_reports_group_the_keys_results(server: ServerThread) -> None:
    client = key_client(server)
    cost = only_item(client.post([image(includeCost=True, deliveryMethod="sync")]))["cost"]
    report = account(client, "getUsageActivity", groupBy=["model"])
    assert report["usage"]["groups"] == [{"model": IMAGE_MODEL, "credits": cost,
                                          "requests": 1}]
    assert account(client, "getUsageErrors")["usage"]["groups"] == []
    later = account(client, "getUsageActivity", startDate="2999-01-01")
    assert later["usage"]["total"] == {"credits": 0, "requests": 0}


@pytest.mark.parametrize(("fields", "code"), [
    ({"timezone": "Europe"}, "invalidTimezone"),  # a folder of zones, not a zone
    ({"timezone": "Mars/Olympus"}, "invalidTimezone"),
    ({"startDate": "yesterday"}, "invalidStartDate"),
    ({"endDate": "2026-13-01"}, "invalidEndDate"),
    ({"endDate": "9999-12-31"}, None),  # its day's end is past the last date: no bound
])
def test_usage_report_dates_and_zones_are_checked(server: ServerThread, fields: dict[str, Any],
                                                   code: str | None) -> None:
    response = key_client(server).post([{"taskType": "accountManagement",
                                         "taskUUID": str(uuid.uuid4()),
                                         "operation": "getUsagePerformance", **fields}])
    if code is None:
        assert only_item(response)["usage"]["total"] == {"credits": 0, "requests": 0}
    else:
        assert (response.status_code, only_error(response)["code"]) == (400, code)


def test_a_spent_balance_refuses_the_next_paid_task(server: ServerThread) -> None:
    client = key_client(server)
    api_key = client.http.headers["Authorization"].removeprefix("Bearer ")
    admin = f"{server.url.removesuffix('/v1')}/__admin/accounts/{api_key}"
    assert httpx.put(f"{admin}/balance", json={"balance": 0.001}).status_code == 200
    spent = only_item(client.post([image(includeCost=True, deliveryMethod="sync")]))["cost"]
    assert spent > 0.001  # a 512x512 image costs more than what was left
    assert account(client)["balance"] == pytest.approx(0.001 - spent)
    refused = client.post([image()])
    assert refused.status_code == 402
    assert only_error(refused)["code"] == "insufficientCredits"
    # A caption is free (its documented cost is 0): it still runs.
    free = {"taskType": "caption", "taskUUID": str(uuid.uuid4()), "model": "runware:150@2",
            "inputImage": data_uri(media_path(PORTRAIT), "image/jpeg")}
    assert only_item(client.post([free]))["text"]
    assert httpx.put(f"{admin}/balance", json={"balance": None}).status_code == 200
    assert client.post([image()]).status_code == 200


# --- what outlives a restart ----------------------------------------------------------------

def test_uploads_spending_and_the_balance_flag_survive_a_restart(tmp_path: Path) -> None:
    kept = settings(tmp_path / "data", balance=0.0015)
    with ServerThread(kept) as first:
        client = RestClient(first.url, api_key="restart-key")
        client.post([upload()])
        sent = image(includeCost=True, deliveryMethod="sync")
        received = client.post([sent]).json()
        cost = received["data"][0]["cost"]
    with ServerThread(kept) as second:
        client = RestClient(second.url, api_key="restart-key")
        assert only_item(details(client, sent["taskUUID"]))["response"] == received
        assert account(client)["balance"] == pytest.approx(0.0015 - cost)
        ran = client.post([image(model=UPLOAD["air"], deliveryMethod="sync")])
        assert only_item(ran)["status"] == "success"
        refused = client.post([image()])  # now spent: 0.0015 - 2 x 512x512 images < 0
        assert (refused.status_code, only_error(refused)["code"]) == (402, "insufficientCredits")
