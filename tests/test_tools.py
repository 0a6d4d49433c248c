"""``tools`` (FFmpeg, ``runware:ffmpeg@0``) over REST (runware-surface.md §2.13;
runware.ai/docs/models/ffmpeg: one output file from up to 10 media inputs): acknowledged and
polled, or answered when sync; each output downloaded and decoded by ffmpeg as the format
asked (a video from a video, an image or an audio track; a track from a video or audio; a
picture from a video or image); refused models, formats and inputs answered with the
documented codes. One server for the file."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from runware_mock.contract import schemas
from runware_mock.contract.receivers import Receiver
from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import (
    PORTRAIT,
    VOICE,
    RestClient,
    data_uri,
    decode,
    decode_audio,
    ffmpeg,
    raw_base64,
)

IMAGE = data_uri(media_path(PORTRAIT), "image/jpeg")  # 512x768
AUDIO = raw_base64(media_path(VOICE))  # 12.266 s


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestClient]:
    folder = tmp_path_factory.mktemp("tools")
    server = ServerThread(Settings(latency="instant", data_dir=folder / "data")).start()
    yield RestClient(server.url)
    server.stop()


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two seconds of 320x240 test pattern with a tone, as a data URI."""
    path = tmp_path_factory.mktemp("tools-input") / "clip.mp4"
    made = ffmpeg("-v", "error", "-f", "lavfi", "-i", "testsrc=s=320x240:r=25:d=2", "-f",
                  "lavfi", "-i", "sine=f=440:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                  "-c:a", "aac", "-shortest", str(path))
    assert made.returncode == 0, made.stderr
    return data_uri(path, "video/mp4")


def task(**overrides: Any) -> dict[str, Any]:
    return {"taskType": "tools", "taskUUID": str(uuid.uuid4()), "model": "runware:ffmpeg@0",
            "inputs": {"image": IMAGE}, **overrides}


def output(client: RestClient, sent: dict[str, Any], tmp_path: Path) -> Path:
    """The task acknowledged, polled to success, and its one file downloaded."""
    (ack,) = client.post([sent]).json()["data"]
    assert ack == {"taskType": "tools", "taskUUID": sent["taskUUID"]}
    (item,) = client.wait(sent["taskUUID"])["data"]
    assert (item["status"], item["taskType"]) == ("success", "tools")
    (found,) = item["outputs"]["files"]
    reply = httpx.get(found["url"], timeout=30)
    assert reply.status_code == 200 and found["uuid"] in found["url"]
    path = tmp_path / found["url"].rpartition("/")[2]
    path.write_bytes(reply.content)
    return path


def test_a_video_is_transcoded_with_its_sound(client, video, tmp_path):
    path = output(client, task(inputs={"video": video}, outputFormat="webm"), tmp_path)
    assert path.suffix == ".webm"
    decoded = decode(path)
    assert (decoded["video_codec"], decoded["audio_codec"]) == ("vp8", "opus")
    assert (decoded["width"], decoded["height"], decoded["frames"]) == (320, 240, 50)
    assert decoded["errors"] == 0 and abs(decoded["audio_seconds"] - 2) < 0.05


@pytest.mark.parametrize(("sent_format", "codec"), [("mp3", "mp3"), ("FLAC", "flac"),
                                                     ("Wav", "pcm_s16le")])
def test_an_audio_track_in_each_format_any_case(client, sent_format, codec, tmp_path):
    path = output(client, task(inputs={"audio": AUDIO}, outputFormat=sent_format), tmp_path)
    decoded = decode_audio(path)
    assert (decoded["codec"], decoded["errors"]) == (codec, 0)
    assert abs(decoded["seconds"] - 12.266) < 0.1


def test_an_image_becomes_a_one_second_video(client, tmp_path):
    path = output(client, task(outputFormat="MP4"), tmp_path)
    decoded = decode(path)
    assert (decoded["video_codec"], decoded["width"], decoded["height"]) == ("h264", 512, 768)
    assert (decoded["frames"], decoded["audio_codec"]) == (25, None)
    assert ffmpeg("-v", "error", "-i", str(path), "-f", "null", "-").stderr == ""


def test_a_video_frame_as_a_picture(client, video, tmp_path):
    path = output(client, task(inputs={"videos": [video], "audio": AUDIO},
                               outputFormat="png", settings={"outputOptions": ["-ss", "1"]}),
                  tmp_path)
    with Image.open(io.BytesIO(path.read_bytes())) as picture:
        assert (picture.format, picture.size) == ("PNG", (320, 240))


def test_sync_answers_the_result(client):
    sent = task(deliveryMethod="sync", outputFormat="jpg", includeCost=True)
    (item,) = client.post([sent]).json()["data"]
    assert item["status"] == "success" and item["cost"] == 0
    reply = httpx.get(item["outputs"]["files"][0]["url"], timeout=30)
    with Image.open(io.BytesIO(reply.content)) as picture:
        assert (picture.format, picture.size) == ("JPEG", (512, 768))


def test_the_result_is_posted_to_the_webhook(client):
    """runware-protocol.md 7: the service POSTs the task response for the result to webhookURL
    (the emulator's body: ``{"data": [item]}``, docs/webhooks-admin.md)."""
    with Receiver() as hook:
        sent = task(outputFormat="JPG", webhookURL=hook.url)
        (ack,) = client.post([sent]).json()["data"]
        assert ack == {"taskType": "tools", "taskUUID": sent["taskUUID"]}
        (received,) = hook.wait_for(1)
    assert received.method == "POST"
    body = received.json()
    schemas.validator("response.webhook").validate(body)
    (item,) = body["data"]
    assert (item["taskType"], item["taskUUID"], item["status"]) == (
        "tools", sent["taskUUID"], "success")
    assert client.wait(sent["taskUUID"])["data"] == [item]
    reply = httpx.get(item["outputs"]["files"][0]["url"], timeout=30)
    with Image.open(io.BytesIO(reply.content)) as picture:
        assert (picture.format, picture.size) == ("JPEG", (512, 768))


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"model": "runware:0@0"}, "invalidModel", "model"),
    ({"outputFormat": "GIF"}, "unsupportedOutputFormat", "outputFormat"),
    ({"inputs": {}}, "missingParameter", "inputs"),
    ({"inputs": {"images": [IMAGE] * 11}}, "invalidImages", "inputs.images"),
    ({"inputs": {"images": [IMAGE] * 6, "audios": [AUDIO] * 5}}, "invalidInputs", "inputs"),
    ({"settings": {"command": "-i x"}}, "unsupportedParameter", "settings.command"),
])
def test_refused_values(client, overrides, code, parameter):
    problems = client.post([task(**overrides)]).json()["errors"]
    assert (code, parameter, "tools") in [
        (problem["code"], problem["parameter"], problem["taskType"]) for problem in problems]


def test_an_input_that_does_not_decode_fails_naming_it(client):
    sent = task(inputs={"audio": "bm90IGF1ZGlv"})  # base64 of "not audio"
    assert client.post([sent]).status_code == 200
    (problem,) = client.wait(sent["taskUUID"])["errors"]
    assert (problem["code"], problem["parameter"]) == ("invalidValueUploadFailed",
                                                       "inputs.audio")
