"""Every task type that makes results, as the rest do (issue 24: "webhooks, uploadEndpoint,
faults, journal, dashboard, metrics, cost, --seed and restarts work for all of them"): one
task of each, and of each input kind where a task type takes two (an image or a video), sent
async over REST with a ``webhookURL``, an ``uploadEndpoint`` where its schema takes one and
``includeCost``.

What each must show, from the documentation:
- the webhook carries the item ``getResponse`` answers (docs/webhooks-admin.md), with a
  ``cost`` (runware-protocol.md: ``includeCost``);
- the upload PUT carries the very bytes the result's URL serves (docs/webhooks-admin.md);
- the journal and the dashboard's task page name the task (docs/dashboard.md), and
  ``/metrics`` counts it among the tasks held;
- a ``task_error`` fault sent in the ``X-Mock-Fault`` header fails it with its code
  (docs/faults.md);
- after a restart on the same data dir, ``getResponse`` answers the same and the URLs serve
  the same bytes (docs/configuration.md: durable by default);
- another emulator with the same ``--seed`` answers the same task (same taskUUID, same
  request) with the same item and bytes (docs/configuration.md: a run can be replayed).

Files are compared byte for byte, which holds only if each output is deterministic; the other
test files decode them. A new task type with results fails the coverage check until it has a
case here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.contract import schemas
from runware_mock.contract.receivers import Receiver
from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import PORTRAIT, RestClient, data_uri, ffmpeg
from tests.media_factory import dataset

IMAGE = data_uri(media_path(PORTRAIT), "image/jpeg")
SEED = 20261208


def _video(folder: Path) -> str:
    """Two seconds of 320x240 test pattern with a tone, as a data URI."""
    path = folder / "clip.mp4"
    made = ffmpeg("-v", "error", "-f", "lavfi", "-i", "testsrc=s=320x240:r=25:d=2", "-f",
                  "lavfi", "-i", "sine=f=440:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                  "-c:a", "aac", "-shortest", str(path))
    assert made.returncode == 0, made.stderr
    return data_uri(path, "video/mp4")


def cases(video: str) -> dict[str, dict[str, Any]]:
    """One task per task type with results, per input kind where it takes two."""
    return {
        "imageInference": {"taskType": "imageInference", "model": "runware:400@2",
                           "positivePrompt": "a lighthouse at dusk", "width": 512,
                           "height": 512},
        "upscale image": {"taskType": "upscale", "model": "runware:500@1", "inputImage": IMAGE,
                          "upscaleFactor": 2},
        "upscale video": {"taskType": "upscale", "model": "bytedance:50@1",
                          "inputs": {"video": video}, "upscaleFactor": 2},
        "promptEnhance": {"taskType": "promptEnhance", "prompt": "a lighthouse",
                          "promptMaxLength": 64, "promptVersions": 1},
        "textInference": {"taskType": "textInference", "model": "alibaba:qwen@3.5-27b",
                          "messages": [{"role": "user", "content": "hello"}]},
        "audioInference": {"taskType": "audioInference", "model": "alibaba:qwen@3-tts-1.7b-base",
                           "speech": {"text": "hello there"}},
        "videoInference": {"taskType": "videoInference", "model": "klingai:1@1",
                           "positivePrompt": "a lighthouse at dusk", "duration": 5},
        "caption image": {"taskType": "caption", "model": "runware:150@2", "inputImage": IMAGE},
        "caption video": {"taskType": "caption", "model": "memories:2@1",
                          "inputs": {"video": video}},
        "removeBackground image": {"taskType": "removeBackground", "model": "runware:109@1",
                                   "inputImage": IMAGE},
        "removeBackground video": {"taskType": "removeBackground", "model": "bria:51@1",
                                   "inputs": {"video": video}},
        "vectorize": {"taskType": "vectorize", "model": "recraft:1@1", "inputImage": IMAGE},
        "controlNetPreprocess": {"taskType": "controlNetPreprocess", "inputImage": IMAGE,
                                 "preProcessorType": "canny"},
        "imageMasking": {"taskType": "imageMasking", "model": "runware:35@1",
                         "inputImage": IMAGE},
        "photoMaker": {"taskType": "photoMaker", "model": "civitai:139562@344487",
                       "inputImages": [IMAGE], "positivePrompt": "a portrait in a garden img",
                       "width": 512, "height": 512},
        "3dInference": {"taskType": "3dInference", "model": "microsoft:trellis-2@4b",
                        "inputs": {"image": IMAGE}},
        "training": {"taskType": "training", "model": "runware:flux-1-dev@style-lora-training",
                     "inputs": {"dataset": dataset(10)}},
        "tools": {"taskType": "tools", "model": "runware:ffmpeg@0", "inputs": {"video": video}},
    }


def _takes(task_type: str, field: str) -> bool:
    return any(field in schemas.inlined(name).get("properties", {})
               for name in schemas.request_schemas(task_type))


CASE_NAMES = tuple(cases("").keys())
UPLOADING = tuple(name for name, body in cases("").items()
                  if _takes(body["taskType"], "uploadEndpoint"))


def _slug(name: str) -> str:
    return name.replace(" ", "-")


def _uuid_for(name: str, salt: str = "") -> str:
    """A fixed version-4 taskUUID per case, so a second emulator gets the same task."""
    return str(uuid.UUID(bytes=hashlib.sha256((name + salt).encode()).digest()[:16], version=4))


@dataclasses.dataclass
class Sent:
    task: dict[str, Any]
    item: dict[str, Any] = dataclasses.field(default_factory=dict)
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)


def _urls(item: dict[str, Any]) -> list[str]:
    """The result's file URLs: the ``*URL`` keys and ``outputs.files``."""
    found = [value for key, value in item.items() if key.endswith("URL")]
    found += [entry["url"] for entry in item.get("outputs", {}).get("files", ())]
    return found


def _files(item: dict[str, Any]) -> dict[str, bytes]:
    """Each file's bytes by the URL's path (the host and port differ between emulators)."""
    files = {}
    for url in _urls(item):
        reply = httpx.get(url, timeout=60)
        assert reply.status_code == 200, (url, reply.status_code)
        files[httpx.URL(url).path] = reply.content
    return files


def _without_hosts(item: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(item)
    for url in _urls(item):
        text = text.replace(url, httpx.URL(url).path)
    return json.loads(text)


def _settings(folder: Path) -> Settings:
    return Settings(latency="instant", seed=SEED, data_dir=folder)


def _run(client: RestClient, task: dict[str, Any], headers: dict[str, str] | None = None
         ) -> dict[str, Any]:
    """The task's one item once it has finished: its result, or its error."""
    reply = client.http.post(client.url, json=[task], headers=headers or {})
    assert reply.status_code == 200, reply.text
    body = client.wait(task["taskUUID"], timeout=120)
    (item,) = body.get("data") or body["errors"]
    return item


@dataclasses.dataclass
class Campaign:
    server: ServerThread
    sent: dict[str, Sent]
    webhooks: Receiver
    uploads: Receiver
    failed: dict[str, dict[str, Any]]
    restarted: dict[str, Sent]
    replayed: dict[str, Sent]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Campaign]:
    folder = tmp_path_factory.mktemp("every-task-type")
    bodies = cases(_video(folder))
    with Receiver() as webhooks, Receiver() as uploads:
        server = ServerThread(_settings(folder / "data")).start()
        client = RestClient(server.url)
        sent, failed = {}, {}
        for name, body in bodies.items():
            task = {**body, "taskUUID": _uuid_for(name), "deliveryMethod": "async",
                    "includeCost": True, "webhookURL": f"{webhooks.base_url}/{_slug(name)}"}
            if _takes(body["taskType"], "uploadEndpoint"):
                task["uploadEndpoint"] = f"{uploads.base_url}/{_slug(name)}"
            item = _run(client, task)
            sent[name] = Sent(task, item, _files(item))
            faulty = {**body, "taskUUID": _uuid_for(name, "fault"), "deliveryMethod": "async"}
            failed[name] = _run(client, faulty,
                                {"X-Mock-Fault": "task_error; code=timeoutProvider"})
        campaign = Campaign(server, sent, webhooks, uploads, failed, {}, {})
        webhooks.wait_for(len(bodies))
        try:
            uploads.wait_for(len(UPLOADING), timeout=10)
        except AssertionError:
            print("UPLOADS", [r.path for r in uploads.requests], UPLOADING)
        yield campaign
        server.stop()


@pytest.fixture(scope="module")
def restarted(campaign: Campaign) -> dict[str, Sent]:
    """The first emulator stopped and started again on its data dir (and port)."""
    settings = campaign.server.settings
    campaign.server.stop()
    server = ServerThread(settings).start()
    campaign.server = server
    client = RestClient(server.url)
    found = {}
    for name, sent in campaign.sent.items():
        (item,) = client.poll(sent.task["taskUUID"]).json()["data"]
        found[name] = Sent(sent.task, item, _files(item))
    return found


@pytest.fixture(scope="module")
def replayed(campaign: Campaign, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sent]:
    """A second emulator with the same --seed, sent the same tasks (no webhook or upload)."""
    folder = tmp_path_factory.mktemp("every-task-type-replay")
    with ServerThread(_settings(folder / "data")) as server:
        client = RestClient(server.url)
        found = {}
        for name, sent in campaign.sent.items():
            task = {key: value for key, value in sent.task.items()
                    if key not in ("webhookURL", "uploadEndpoint")}
            item = _run(client, task)
            found[name] = Sent(task, item, _files(item))
        return found


def test_every_task_type_with_results_has_a_case() -> None:
    with_results = {name for name in schemas.TASK_TYPES if _takes(name, "webhookURL")}
    covered = {name for name in with_results
               if any(schemas.request_schemas(name) == schemas.request_schemas(case_type)
                      for case_type in {cases("")[case]["taskType"] for case in CASE_NAMES})}
    assert covered == with_results


@pytest.mark.parametrize("name", CASE_NAMES)
def test_the_result_succeeds_with_files_and_a_cost(campaign: Campaign, name: str) -> None:
    sent = campaign.sent[name]
    assert sent.item["status"] == "success", sent.item
    assert sent.item["taskType"] == sent.task["taskType"]
    assert isinstance(sent.item["cost"], int | float) and sent.item["cost"] >= 0
    assert all(sent.files.values()), "every URL serves a file"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_the_webhook_carries_what_get_response_answers(campaign: Campaign, name: str) -> None:
    (delivered,) = [request for request in campaign.webhooks.requests
                    if request.path == f"/{_slug(name)}"]
    body = delivered.json()
    items = body["data"] if isinstance(body, dict) and "data" in body else [body]
    (item,) = [item for item in items if item.get("taskUUID") == campaign.sent[name].task[
        "taskUUID"]]
    assert item == campaign.sent[name].item


@pytest.mark.parametrize("name", UPLOADING)
def test_the_upload_puts_the_bytes_the_url_serves(campaign: Campaign, name: str) -> None:
    (put,) = [request for request in campaign.uploads.requests
              if request.path == f"/{_slug(name)}"]
    assert put.method == "PUT"
    assert put.body in campaign.sent[name].files.values()


@pytest.mark.parametrize("name", CASE_NAMES)
def test_the_journal_the_dashboard_and_metrics_show_it(campaign: Campaign, name: str) -> None:
    task_uuid = campaign.sent[name].task["taskUUID"]
    base = campaign.server.base_url
    count = httpx.get(f"{base}/__admin/journal/count", params={"taskUUID": task_uuid}).json()
    assert count["count"] >= 2, "the submit and at least one poll"
    page = httpx.get(f"{base}/__admin/ui/tasks/{task_uuid}")
    assert page.status_code == 200 and campaign.sent[name].task["taskType"] in page.text
    metrics = httpx.get(f"{base}/metrics").text
    (line,) = [line for line in metrics.splitlines()
               if line.startswith('runware_mock_tasks{state="success"}')]
    assert float(line.split()[-1]) >= len(CASE_NAMES)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_a_task_error_fault_fails_it_with_its_code(campaign: Campaign, name: str) -> None:
    failed = campaign.failed[name]
    assert failed.get("code") == "timeoutProvider", failed


@pytest.mark.parametrize("name", CASE_NAMES)
def test_a_restart_answers_the_same(restarted: dict[str, Sent], campaign: Campaign,
                                   name: str) -> None:
    before, after = campaign.sent[name], restarted[name]
    assert after.item == before.item
    assert after.files == before.files


@pytest.mark.parametrize("name", CASE_NAMES)
def test_the_same_seed_answers_the_same(replayed: dict[str, Sent], campaign: Campaign,
                                        name: str) -> None:
    before, again = campaign.sent[name], replayed[name]
    assert _without_hosts(again.item) == _without_hosts(before.item)
    assert again.files == before.files
