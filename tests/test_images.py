"""Issue 12: imageInference and upscale/imageUpscale over real sockets, every image decoded
with Pillow at the asked size and format."""

from __future__ import annotations

import base64
import http.server
import io
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from runware_mock.contract import model_catalog
from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread
from tests.conftest import ServerFactory
from tests.helpers import PORTRAIT, RestClient, data_uri
from tests.socket_client import Socket
from tests.task_bodies import KLEIN, image_task, upscale_task

PIL_FORMATS = {"JPG": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}


def decoded(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def fetched(url: str) -> Image.Image:
    reply = httpx.get(url, timeout=30)
    assert reply.status_code == 200, url
    return decoded(reply.content)


def errors_of(body: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((problem["code"], problem.get("parameter", "")) for problem in body["errors"])


def portrait_size() -> tuple[int, int]:
    with Image.open(media_path(PORTRAIT)) as image:
        return image.size


# --- imageInference -----------------------------------------------------------------------

@pytest.mark.parametrize("output_format", ["JPG", "PNG", "WEBP"])
def test_sync_rest_images_decode_at_the_asked_size_and_format(client: RestClient,
                                                              output_format: str) -> None:
    task = image_task(width=768, height=1024, outputFormat=output_format, numberResults=2,
                      includeCost=True)
    reply = client.post([task])
    assert reply.status_code == 200, reply.text
    items = reply.json()["data"]
    assert len(items) == 2
    assert len({item["imageUUID"] for item in items}) == 2
    assert len({item["seed"] for item in items}) == 2
    for item in items:
        assert (item["taskType"], item["taskUUID"], item["status"]) == (
            "imageInference", task["taskUUID"], "success")
        assert item["cost"] == model_catalog.model(KLEIN).price.of(megapixels=768 * 1024 / 1e6) > 0
        image = fetched(item["imageURL"])
        assert (image.format, image.size) == (PIL_FORMATS[output_format], (768, 1024))
        extension = "jpg" if output_format == "JPG" else output_format.lower()
        assert item["imageURL"].endswith(f"/image/{item['imageUUID']}.{extension}")


def test_qwen_image_layered_answers_a_tiff_and_takes_only_tiff(client: RestClient) -> None:
    """runware-surface.md 3.1: "alibaba:qwen-image@layered accepts only TIFF" (so it is its
    default too); the other models keep JPG, PNG and WEBP."""
    layered = "alibaba:qwen-image@layered"
    for output_format in (None, "tiff"):
        task = image_task(model=layered, outputFormat=output_format, width=512, height=768,
                          outputType=["URL", "dataURI"])
        (item,) = client.post([task]).json()["data"]
        reply = httpx.get(item["imageURL"], timeout=30)
        assert reply.headers["content-type"] == "image/tiff"
        image = decoded(reply.content)
        assert (image.format, image.size) == ("TIFF", (512, 768))
        header, data = item["imageDataURI"].split(",", 1)
        assert header == "data:image/tiff;base64"
        assert decoded(base64.b64decode(data)).format == "TIFF"
    for model, output_format, allowed in ((layered, "JPG", ["TIFF"]),
                                          ("runware:108@22", "TIFF", ["JPG", "PNG", "WEBP"])):
        body = client.post([image_task(model=model, outputFormat=output_format)]).json()
        (problem,) = body["errors"]
        assert (problem["code"], problem["parameter"], problem["allowedValues"]) == (
            "unsupportedOutputFormat", "outputFormat", allowed)


def test_output_types_and_a_list_of_them(client: RestClient) -> None:
    (item,) = client.post([image_task(outputType="base64Data", outputFormat="PNG")]).json()["data"]
    assert "imageURL" not in item and "imageDataURI" not in item
    assert decoded(base64.b64decode(item["imageBase64Data"])).size == (512, 512)
    (item,) = client.post([image_task(outputType="dataURI")]).json()["data"]
    head, _, data = item["imageDataURI"].partition(",")
    assert head == "data:image/jpeg;base64"
    assert decoded(base64.b64decode(data)).format == "JPEG"
    (item,) = client.post([image_task(outputType=["URL", "base64Data", "dataURI"])]).json()["data"]
    assert fetched(item["imageURL"]).tobytes() == decoded(
        base64.b64decode(item["imageBase64Data"])).tobytes()
    assert item["imageDataURI"].endswith(item["imageBase64Data"])


def test_the_same_request_and_seed_give_the_same_bytes(client: RestClient) -> None:
    first = client.post([image_task(seed=1234, numberResults=2)]).json()["data"]
    again = client.post([image_task(seed=1234, numberResults=2)]).json()["data"]
    assert [item["seed"] for item in first] == [1234, 1235]
    for one, other in zip(first, again, strict=True):
        assert one["imageUUID"] != other["imageUUID"]
        assert httpx.get(one["imageURL"]).content == httpx.get(other["imageURL"]).content
    other_seed = client.post([image_task(seed=99)]).json()["data"][0]
    assert httpx.get(other_seed["imageURL"]).content != httpx.get(first[0]["imageURL"]).content
    other_prompt = client.post([image_task(seed=1234, positivePrompt="a red rose")]).json()
    assert httpx.get(other_prompt["data"][0]["imageURL"]).content != httpx.get(
        first[0]["imageURL"]).content


@pytest.mark.parametrize("output_format", ["JPG", "WEBP"])
def test_output_quality_trades_file_size(client: RestClient, output_format: str) -> None:
    sizes = []
    for quality in (20, 60, 99):
        (item,) = client.post([image_task(seed=7, width=1024, height=576,
                                          outputFormat=output_format,
                                          outputQuality=quality)]).json()["data"]
        content = httpx.get(item["imageURL"]).content
        assert decoded(content).size == (1024, 576)
        sizes.append(len(content))
    assert sizes[0] < sizes[1] < sizes[2], sizes


def test_without_a_seed_each_result_draws_one_from_the_run_seed(
        server_factory: ServerFactory) -> None:
    def seeds(seed: int, task_uuid: str) -> list[int]:
        server = server_factory(seed=seed)
        body = RestClient(server.url).post([image_task(taskUUID=task_uuid, numberResults=3)])
        return [item["seed"] for item in body.json()["data"]]

    task_uuid = str(uuid.uuid4())
    drawn = seeds(7, task_uuid)
    assert len(set(drawn)) == 3
    assert seeds(7, task_uuid) == drawn


def test_image_to_image_and_reference_inputs(client: RestClient) -> None:
    portrait = data_uri(media_path(PORTRAIT), "image/jpeg")
    body = client.post([image_task(seedImage=portrait, strength=0.3, seed=5)]).json()
    plain = client.post([image_task(seed=5)]).json()
    image = fetched(body["data"][0]["imageURL"])
    assert image.size == (512, 512)
    assert httpx.get(body["data"][0]["imageURL"]).content != httpx.get(
        plain["data"][0]["imageURL"]).content
    body = client.post([image_task(model="runware:106@1", width=None, height=None,
                                   inputs={"referenceImages": [portrait]})]).json()
    # width/height are optional for FLUX.1 Kontext: the default size.
    assert fetched(body["data"][0]["imageURL"]).size == (1024, 1024)
    broken = client.post([image_task(inputs={"seedImage": "bm90IGFuIGltYWdl"})])
    assert errors_of(broken.json()) == [("invalidValueUploadFailed", "inputs.seedImage")]
    assert broken.json()["errors"][0]["taskUUID"]


def test_content_check_reports_nsfw_content(client: RestClient) -> None:
    for flags in ({"checkNSFW": True}, {"safety": {"checkContent": True}}):
        (item,) = client.post([image_task(**flags)]).json()["data"]
        assert item["NSFWContent"] is False
    (item,) = client.post([image_task()]).json()["data"]
    assert "NSFWContent" not in item and "cost" not in item


def test_validation_errors_name_each_field(client: RestClient) -> None:
    body = client.post([image_task(width=500, height=4096, positivePrompt="", steps=0,
                                   CFGScale=51, outputFormat="GIF", outputQuality=10,
                                   numberResults=0, outputType="file", scheduler="Fast")]).json()
    assert errors_of(body) == [
        ("invalidCFGScale", "CFGScale"), ("invalidHeight", "height"),
        ("invalidNumberResults", "numberResults"), ("invalidOutputQuality", "outputQuality"),
        ("invalidPositivePromptLength", "positivePrompt"), ("invalidSteps", "steps"),
        ("invalidWidth", "width"), ("unsupportedOutputFormat", "outputFormat"),
        ("unsupportedOutputType", "outputType"), ("unsupportedScheduler", "scheduler")]
    width = next(p for p in body["errors"] if p["parameter"] == "width")
    assert "from 128 to 2048, a multiple of 64" in width["message"]
    assert all(problem["taskUUID"] for problem in body["errors"])
    # A provider model takes no sampler fields.
    body = client.post([image_task(model="openai:1@1", steps=4)]).json()
    assert errors_of(body) == [("unsupportedParameter", "steps")]
    body = client.post([image_task(model="nonexistent:999@999")]).json()
    assert errors_of(body) == [("invalidModel", "model")]
    assert KLEIN in body["errors"][0]["allowedValues"]
    body = client.post([image_task(model="openai:1@1", height=None)]).json()
    assert errors_of(body) == [("missingParameter", "height")]


def test_async_then_get_response_is_cumulative(server_factory: ServerFactory) -> None:
    server = server_factory(latency="fixed:3600")
    client = RestClient(server.url)
    task = image_task(deliveryMethod="async", numberResults=2)
    assert client.post([task]).json() == {"data": [{"taskType": "imageInference",
                                                   "taskUUID": task["taskUUID"]}]}
    polled = client.poll(task["taskUUID"]).json()["data"]
    assert [item["status"] for item in polled] == ["processing", "processing"]
    assert not any("imageURL" in item for item in polled)
    done = httpx.post(f"{server.base_url}/__admin/tasks/{task['taskUUID']}/complete", timeout=60)
    assert done.status_code == 200
    polled = client.poll(task["taskUUID"]).json()["data"]
    assert [item["status"] for item in polled] == ["success", "success"]
    assert all(fetched(item["imageURL"]).size == (512, 512) for item in polled)
    assert client.poll(task["taskUUID"]).json()["data"] == polled


def test_websocket_sync_pushes_only_the_results(server: ServerThread) -> None:
    socket = Socket(server.ws_url)
    try:
        socket.authenticate("test-key")
        task = image_task(numberResults=2)
        reply = socket.ask([task])
        assert [item["status"] for item in reply["data"]] == ["success", "success"]
        assert all(fetched(item["imageURL"]).size == (512, 512) for item in reply["data"])
        failed = socket.ask([image_task(model="nonexistent:999@999")])
        assert failed["errors"][0]["code"] == "invalidModel" and "data" not in failed
        ack = socket.ask([image_task(deliveryMethod="async")])
        assert set(ack["data"][0]) == {"taskType", "taskUUID"}
        pushed = socket.read()
        assert pushed["data"][0]["status"] == "success"
    finally:
        socket.close()


def test_images_expire_with_their_ttl(server: ServerThread, client: RestClient) -> None:
    (item,) = client.post([image_task(ttl=60)]).json()["data"]
    assert httpx.get(item["imageURL"]).status_code == 200
    advanced = httpx.post(f"{server.base_url}/__admin/clock/advance", json={"seconds": 61})
    assert advanced.status_code == 200, advanced.text
    assert httpx.get(item["imageURL"]).status_code == 404


class Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers["Content-Type"], body))
        self.send_response(200)
        self.end_headers()

    do_POST = do_PUT

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/put"
    httpd.shutdown()


def received(count: int) -> list[tuple[str, bytes]]:
    for _ in range(600):
        if len(Receiver.received) >= count:
            break
        threading.Event().wait(0.05)
    return Receiver.received


def test_upload_endpoint_receives_the_image(client: RestClient, receiver: str) -> None:
    (item,) = client.post([image_task(uploadEndpoint=receiver, outputFormat="PNG")]).json()["data"]
    ((content_type, body),) = received(1)
    assert content_type == "image/png"
    assert body == httpx.get(item["imageURL"]).content


def test_webhook_receives_each_result(client: RestClient, receiver: str) -> None:
    task = image_task(webhookURL=receiver, deliveryMethod="async", numberResults=2)
    assert client.post([task]).status_code == 200
    posts = received(2)
    items = [json.loads(body)["data"][0] for _, body in posts]
    assert sorted(item["imageUUID"] for item in items) == sorted(
        item["imageUUID"] for item in client.poll(task["taskUUID"]).json()["data"])
    assert all(fetched(item["imageURL"]).size == (512, 512) for item in items)


# --- upscale / imageUpscale ----------------------------------------------------------------

@pytest.mark.parametrize("task_type", ["upscale", "imageUpscale"])
def test_upscale_makes_the_input_factor_times_larger(client: RestClient, task_type: str) -> None:
    width, height = portrait_size()
    task = upscale_task(task_type, upscaleFactor=3, outputFormat="WEBP", includeCost=True)
    (item,) = client.post([task]).json()["data"]
    assert (item["taskType"], item["status"]) == (task_type, "success")
    image = fetched(item["imageURL"])
    assert (image.format, image.size) == ("WEBP", (width * 3, height * 3))
    assert item["cost"] == model_catalog.model("runware:504@1").price.of(
        megapixels=width * height * 9 / 1e6)


def test_upscale_takes_an_upload_uuid_inputs_image_and_a_model(client: RestClient) -> None:
    upload = client.post([{"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()),
                           "image": data_uri(media_path(PORTRAIT), "image/jpeg")}]).json()
    image_uuid = upload["data"][0]["imageUUID"]
    width, height = portrait_size()
    task = upscale_task(model="runware:500@1", inputs={"image": image_uuid},
                        upscaleFactor=2.5, outputType="base64Data", outputFormat="PNG")
    del task["inputImage"]
    (item,) = client.post([task]).json()["data"]
    assert item["inputImageUUID"] == image_uuid
    assert decoded(base64.b64decode(item["imageBase64Data"])).size == (
        round(width * 2.5), round(height * 2.5))


def test_upscale_errors(client: RestClient, server_factory: ServerFactory,
                        file_server: str) -> None:
    assert errors_of(client.post([upscale_task(model="nonexistent:999@999")]).json()) == [
        ("invalidModel", "model")]
    assert errors_of(client.post([upscale_task(model="bytedance:50@1")]).json()) == [
        ("unsupportedModel", "model")]
    assert errors_of(client.post([upscale_task(upscaleFactor=5)]).json()) == [
        ("invalidUpscaleFactor", "upscaleFactor")]
    task = upscale_task()
    del task["inputImage"]
    assert errors_of(client.post([task]).json()) == [("missingParameter", "inputImage")]
    assert errors_of(client.post([upscale_task(inputs={"image": "x" * 8})]).json()) == [
        ("invalidInputImage", "inputImage")]
    # Over --max-upscale-pixels: refused with the sizes, not drawn.
    small = RestClient(server_factory(max_upscale_pixels=100_000).url)
    body = small.post([upscale_task(upscaleFactor=4)]).json()
    assert errors_of(body) == [("invalidUpscaleFactor", "upscaleFactor")]
    # A URL is fetched (here from a local file server); one answering 404 is an upload error
    # (an unreachable host gets a stand-in: tests/test_unreachable_inputs.py).
    (item,) = client.post([upscale_task(inputImage=f"{file_server}/{PORTRAIT}")]).json()["data"]
    assert fetched(item["imageURL"]).size == tuple(2 * side for side in portrait_size())
    body = client.post([upscale_task(inputImage=f"{file_server}/none.png")]).json()
    assert errors_of(body) == [("invalidValueUploadFailed", "inputImage")]


def test_an_unfetchable_url_works_under_the_url_map(server_factory: ServerFactory,
                                                    tmp_path: Path) -> None:
    (tmp_path / "wiki").mkdir()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(tmp_path / "wiki" / "Example.png")
    server = server_factory(url_map=(("https://upload.wikimedia.org/", str(tmp_path / "wiki")),))
    task = upscale_task(inputImage="https://upload.wikimedia.org/Example.png")
    (item,) = RestClient(server.url).post([task]).json()["data"]
    assert fetched(item["imageURL"]).size == (128, 96)
