"""``training`` over REST as the SDKs send it (runware-surface.md §2.12): async only (the ack
first, then getResponse reports ``processing`` with ``progress`` until ``success``), the
dataset a ZIP of 10 to 50 images, the result's ``outputs.files`` a LoRA downloaded and read
as safetensors, the model imported for the key (modelSearch finds it), and the documented
refusals. One server for the file, its latency fixed at 30 min and moved on by the admin
clock: no test waits for time to pass."""

from __future__ import annotations

import base64
import io
import json
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from runware_mock.contract import schemas
from runware_mock.contract.receivers import Receiver
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import RestClient
from tests.media_factory import dataset

LATENCY = 1800.0


DATASET = dataset(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    folder = tmp_path_factory.mktemp("training")
    server = ServerThread(Settings(latency=f"fixed:{LATENCY:g}", data_dir=folder / "data",
                                   air_sources=("qatests",))).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(server: ServerThread) -> RestClient:
    return RestClient(server.url)


def task(**overrides: Any) -> dict[str, Any]:
    """As runware 0.5's training() sends it: model, inputs.dataset, importModel, async."""
    return {"taskType": "training", "taskUUID": str(uuid.uuid4()),
            "model": "runware:flux-1-dev@style-lora-training", "inputs": {"dataset": DATASET},
            "deliveryMethod": "async", **overrides}


def admin_task(server: ServerThread, task_uuid: str) -> dict[str, Any]:
    return httpx.get(f"{server.base_url}/__admin/tasks/{task_uuid}").json()


def measured(server: ServerThread, task_uuid: str) -> None:
    """Until the dataset is fetched and counted (or refused): the latency runs from then."""
    deadline = time.monotonic() + 60
    while True:
        generations = admin_task(server, task_uuid)["generations"]
        if all(g["readyInSeconds"] is not None or g["status"] != "processing"
               for g in generations):
            return
        assert time.monotonic() < deadline, generations
        time.sleep(0.02)


def advance(server: ServerThread, seconds: float) -> None:
    reply = httpx.post(f"{server.base_url}/__admin/clock/advance", json={"seconds": seconds})
    assert reply.status_code == 200, reply.text


def finished(client: RestClient, server: ServerThread, sent: dict[str, Any]) -> dict[str, Any]:
    (ack,) = client.post([sent]).json()["data"]
    assert ack == {"taskType": "training", "taskUUID": sent["taskUUID"]}
    measured(server, sent["taskUUID"])
    advance(server, LATENCY)
    return client.wait(sent["taskUUID"])


def read_safetensors(data: bytes) -> dict[str, Any]:
    """The header, every tensor's offsets checked against the file (the format: an 8-byte
    little-endian header length, the JSON header, the tensors' bytes)."""
    (length,) = struct.unpack_from("<Q", data)
    header = json.loads(data[8:8 + length])
    body = len(data) - 8 - length
    tensors = {name: spec for name, spec in header.items() if name != "__metadata__"}
    assert tensors
    for spec in tensors.values():
        start, end = spec["data_offsets"]
        assert spec["dtype"] == "F16" and 0 <= start < end <= body
        assert end - start == 2 * spec["shape"][0] * spec["shape"][1]
    return header


def test_acknowledged_then_processing_with_progress_then_a_lora(client, server):
    sent = task(includeCost=True, triggerWord="wtrclr", trainingSteps=800,
                learningRate=0.0004)
    (ack,) = client.post([sent]).json()["data"]
    assert ack == {"taskType": "training", "taskUUID": sent["taskUUID"]}
    measured(server, sent["taskUUID"])
    (running,) = client.poll(sent["taskUUID"]).json()["data"]
    assert running["status"] == "processing" and running["progress"] < 50
    advance(server, LATENCY / 2)
    (halfway,) = client.poll(sent["taskUUID"]).json()["data"]
    assert halfway["status"] == "processing" and halfway["progress"] >= 50
    advance(server, LATENCY / 2)
    (item,) = client.wait(sent["taskUUID"])["data"]
    assert (item["status"], item["taskType"]) == ("success", "training")
    assert item["cost"] == 0  # no price published (docs/task-types/training.md)
    assert "air" not in item  # nothing imported
    (found,) = item["outputs"]["files"]
    reply = httpx.get(found["url"], timeout=30)
    assert reply.status_code == 200 and found["uuid"] in found["url"]
    metadata = read_safetensors(reply.content)["__metadata__"]
    assert metadata["ss_base_model"] == sent["model"]
    assert (metadata["ss_trigger_word"], metadata["ss_steps"]) == ("wtrclr", "800")
    assert metadata["ss_num_images"] == "10"  # the captions are not images


def test_the_result_is_posted_to_the_webhook(client, server):
    """runware-protocol.md 7: the service POSTs the task response for the result to webhookURL
    (the emulator's body: ``{"data": [item]}``, docs/webhooks-admin.md)."""
    with Receiver() as hook:
        sent = task(webhookURL=hook.url, triggerWord="wtrclr")
        (item,) = finished(client, server, sent)["data"]
        (received,) = hook.wait_for(1)
    assert received.method == "POST"
    body = received.json()
    schemas.validator("response.webhook").validate(body)
    assert body == {"data": [item]}
    assert (item["taskUUID"], item["status"]) == (sent["taskUUID"], "success")
    (found,) = item["outputs"]["files"]
    assert httpx.get(found["url"], timeout=30).status_code == 200


def test_an_imported_model_is_found_by_its_air_for_that_key(client, server):
    air = f"qatests:{uuid.uuid4().int % 10**6}@1"
    imported = {"air": air, "name": "Watercolour", "uniqueIdentifier": "wc-1",
                "version": "1", "private": True}
    (item,) = finished(client, server, task(importModel=imported,
                                            triggerWord="wtrclr"))["data"]
    assert (item["status"], item["air"]) == ("success", air)
    search = {"taskType": "modelSearch", "taskUUID": str(uuid.uuid4()),
              "visibility": "owned", "search": "Watercolour"}
    (found,) = client.post([search]).json()["data"][0]["results"]
    assert (found["air"], found["category"], found["architecture"]) == (air, "lora", "flux1d")
    other = RestClient(server.url, api_key="another-key").post([search]).json()
    assert other["data"][0]["results"] == []


def test_a_trained_checkpoint_is_an_image_model_of_that_key(client, server):
    """runware 0.5's README: train runware:illustrative@training, then run imageInference
    with the trained model's AIR."""
    air = f"qatests:illustrative-{uuid.uuid4().hex[:8]}@0"
    imported = {"air": air, "name": "Illustrative", "uniqueIdentifier": "il-1",
                "version": "1.0", "private": False}
    (item,) = finished(client, server, task(model="runware:illustrative@training",
                                            importModel=imported))["data"]
    assert item["status"] == "success"
    image = {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": air,
             "positivePrompt": "a horse", "width": 512, "height": 512,
             "deliveryMethod": "async"}
    assert client.post([image]).status_code == 200
    advance(server, 3600)
    (made,) = client.wait(image["taskUUID"])["data"]
    assert made["status"] == "success" and made["imageURL"]
    image["taskUUID"] = str(uuid.uuid4())
    (problem,) = RestClient(server.url, api_key="another-key").post([image]).json()["errors"]
    assert (problem["code"], problem["parameter"]) == ("invalidModel", "model")


@pytest.mark.parametrize("images", [9, 51])
def test_a_dataset_outside_10_to_50_images_fails_naming_it(client, server, images):
    (problem,) = finished(client, server, task(inputs={"dataset": dataset(images, False)}))[
        "errors"]
    assert (problem["code"], problem["parameter"], problem["status"]) == (
        "invalidDataset", "inputs.dataset", "error")
    assert (problem["min"], problem["max"]) == (10, 50)


def test_a_dataset_that_is_no_zip_fails_naming_it(client, server):
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    not_zip = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    (problem,) = finished(client, server, task(inputs={"dataset": not_zip}))["errors"]
    assert (problem["code"], problem["parameter"]) == ("invalidDataset", "inputs.dataset")


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"deliveryMethod": "sync"}, "unsupportedDeliveryMethod", "deliveryMethod"),
    ({"model": "runware:0@0"}, "invalidModel", "model"),
    ({"inputs": {}}, "missingParameter", "inputs.dataset"),
    ({"trainingSteps": 0}, "invalidTrainingSteps", "trainingSteps"),
    ({"learningRate": 0}, "invalidLearningRate", "learningRate"),
    ({"importModel": {"air": "elsewhere:1@1", "name": "n", "uniqueIdentifier": "u",
                      "version": "1"}}, "unsupportedAirSource", "importModel.air"),
    ({"importModel": {"air": "qatests:1@1"}}, "missingParameter", "importModel.name"),
])
def test_refused_values(client, overrides, code, parameter):
    problems = client.post([task(**overrides)]).json()["errors"]
    assert (code, parameter, "training") in [
        (problem["code"], problem["parameter"], problem["taskType"]) for problem in problems]


def test_an_unreachable_dataset_gets_a_stand_in_zip_of_10_images(client, server):
    url = "https://datasets.example.invalid/watercolours.zip"  # .invalid: never looked up
    sent = task(inputs={"dataset": url})
    (item,) = finished(client, server, sent)["data"]
    assert item["status"] == "success"
    data = httpx.get(item["outputs"]["files"][0]["url"], timeout=30).content
    assert read_safetensors(data)["__metadata__"]["ss_num_images"] == "10"
    (stood_in,) = admin_task(server, sent["taskUUID"])["standIns"]
    assert (stood_in["parameter"], stood_in["url"], stood_in["kind"]) == (
        "inputs.dataset", url, "dataset")
