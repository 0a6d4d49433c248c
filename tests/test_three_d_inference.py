"""``3dInference`` over REST as the SDKs send it (runware-surface.md §2.7): acknowledged (async,
the default of runware 0.5 and ComfyUI) and polled, or answered at once when sync (sdk-js);
the result's ``outputs.files`` downloaded and parsed: the GLB's header, its JSON chunk and its
mesh; the other documented formats by their own signatures; refused models, formats and
missing inputs answered with the documented codes. One server for the file."""

from __future__ import annotations

import io
import json
import struct
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import PORTRAIT, RestClient, data_uri

IMAGE = data_uri(media_path(PORTRAIT), "image/jpeg")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestClient]:
    folder = tmp_path_factory.mktemp("three-d")
    server = ServerThread(Settings(latency="instant", data_dir=folder / "data")).start()
    yield RestClient(server.url)
    server.stop()


def task(**overrides: Any) -> dict[str, Any]:
    """TRELLIS.2 as runware 0.5's inference3d sends it (inputs.image, async)."""
    return {"taskType": "3dInference", "taskUUID": str(uuid.uuid4()),
            "model": "microsoft:trellis-2@4b", "inputs": {"image": IMAGE},
            "deliveryMethod": "async", **overrides}


def finished(client: RestClient, sent: dict[str, Any]) -> dict[str, Any]:
    (ack,) = client.post([sent]).json()["data"]
    assert ack == {"taskType": "3dInference", "taskUUID": sent["taskUUID"]}
    (item,) = client.wait(sent["taskUUID"])["data"]
    assert (item["status"], item["taskUUID"]) == ("success", sent["taskUUID"])
    return item


def the_file(item: dict[str, Any]) -> httpx.Response:
    (found,) = item["outputs"]["files"]
    assert set(found) == {"uuid", "url"} and found["uuid"] in found["url"]
    reply = httpx.get(found["url"], timeout=30)
    assert reply.status_code == 200
    return reply


def read_glb(data: bytes) -> dict[str, Any]:
    """The JSON chunk, the header and both chunks checked as glTF 2.0's binary format lays
    them out (magic, version 2, total length; a JSON then a BIN chunk, 4-byte aligned)."""
    magic, version, length = struct.unpack_from("<4sII", data)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A and json_length % 4 == 0
    document = json.loads(data[20:20 + json_length])
    bin_length, bin_type = struct.unpack_from("<II", data, 20 + json_length)
    assert bin_type == 0x004E4942 and 28 + json_length + bin_length == len(data)
    assert document["buffers"][0]["byteLength"] == bin_length
    return document


def test_an_async_task_is_polled_to_a_valid_glb(client):
    item = finished(client, task(includeCost=True))
    reply = the_file(item)
    assert reply.headers["content-type"] == "model/gltf-binary"
    document = read_glb(reply.content)
    assert document["asset"]["version"] == "2.0"
    (primitive,) = document["meshes"][0]["primitives"]
    positions = document["accessors"][primitive["attributes"]["POSITION"]]
    indices = document["accessors"][primitive["indices"]]
    assert positions["type"] == "VEC3" and positions["count"] > 3
    assert indices["count"] % 3 == 0 and indices["count"] > 0
    # The portrait input (512x768) is kept in the mesh's proportions: 2 wide for 3 tall.
    width = positions["max"][0] - positions["min"][0]
    height = positions["max"][1] - positions["min"][1]
    assert abs(width / height - 512 / 768) < 0.05
    assert document["images"][0]["mimeType"] == "image/jpeg"  # the input as its texture
    assert item["cost"] == 0.0256  # TRELLIS.2 at 1024² (surface §8)
    assert isinstance(item["seed"], int)


def test_sync_as_sdk_js_sends_it_answers_the_result(client):
    sent = task(deliveryMethod="sync")
    (item,) = client.post([sent]).json()["data"]
    assert item["status"] == "success"
    read_glb(the_file(item).content)


@pytest.mark.parametrize(("sent_format", "signature"), [
    ("FBX", b"Kaydara FBX Binary  \x00"), ("obj", b"# runware-mock"),
    ("PLY", b"ply\nformat binary_little_endian"), ("3mf", b"PK"), ("usdz", b"PK")])
def test_each_documented_format_in_any_case(client, sent_format, signature):
    item = finished(client, task(outputFormat=sent_format))
    content = the_file(item).content
    assert content.startswith(signature)
    assert item["outputs"]["files"][0]["url"].endswith(f".{sent_format.lower()}")
    if sent_format == "3mf":
        assert "3D/3dmodel.model" in zipfile.ZipFile(io.BytesIO(content)).namelist()


def test_stl_is_binary_stl_with_its_triangle_count(client):
    content = the_file(finished(client, task(outputFormat="stl"))).content
    (triangles,) = struct.unpack_from("<I", content, 80)
    assert triangles > 0 and len(content) == 84 + 50 * triangles


def test_a_prompt_alone_makes_a_model_where_the_model_takes_one(client):
    item = finished(client, task(model="tripo:v3.1@0", inputs={}, positivePrompt="a teapot",
                                 seed=7))
    assert item["seed"] == 7
    read_glb(the_file(item).content)


def test_the_same_input_gives_the_same_file(client):
    first, second = (the_file(finished(client, task(seed=3))).content for _ in range(2))
    assert first == second


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"model": "runware:0@0"}, "invalidModel", "model"),
    ({"inputs": {}}, "missingParameter", "inputs.image"),
    ({"model": "meta:sam@3d"}, "missingParameter", "positivePrompt"),
    ({"outputFormat": "DAE"}, "unsupportedOutputFormat", "outputFormat"),
    ({"outputType": "base64Data"}, "unsupportedOutputType", "outputType"),
    ({"settings": {"faceLimit": 100}}, "invalidFaceLimit", "settings.faceLimit"),
    ({"unknownField": 1}, "unsupportedParameter", "unknownField"),
])
def test_refused_values(client, overrides, code, parameter):
    sent = task(**overrides)
    (problem,) = client.post([sent]).json()["errors"]
    assert (problem["code"], problem["parameter"], problem["taskType"]) == (
        code, parameter, "3dInference")
