"""Video upscale (``upscale`` with ``inputs.video``) and video caption (``caption`` with
``inputs.video``) over REST, as runware 0.5 and runware-sdk 1.8 send them (runware-surface.md
§2.8, §2.1): acknowledged (async, their default) then polled, or answered sync when asked; the
upscaled video downloaded and decoded by the bundled ffmpeg (its size, frames and sound), the
caption's text checked against what the input is; refused values answered with the
documented codes. One server for the file; the input is a 1 s 64x48 clip at 10 fps."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import RestClient, data_uri, decode, ffmpeg

SIZE, FPS = (64, 48), 10


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestClient]:
    folder = tmp_path_factory.mktemp("video-tasks")
    server = ServerThread(Settings(latency="instant", data_dir=folder / "data")).start()
    yield RestClient(server.url)
    server.stop()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second at 10 fps, 64x48, with sound: a red box on a blue backdrop."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    made = ffmpeg("-v", "error", "-y", "-f", "lavfi", "-i",
                  f"color=c=0x285ac8:s={SIZE[0]}x{SIZE[1]}:r={FPS}:d=1", "-f", "lavfi", "-i",
                  "sine=d=1", "-vf", "drawbox=x=20:y=10:w=24:h=28:color=0xe6281e:t=fill",
                  "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                  str(path))
    assert made.returncode == 0, made.stderr
    return path


@pytest.fixture(scope="module")
def video(clip: Path) -> str:
    return data_uri(clip, "video/mp4")


def upscale(video: str, **overrides: Any) -> dict[str, Any]:
    """A video upscale as runware 0.5's videoUpscale sends it."""
    return {"taskType": "upscale", "taskUUID": str(uuid.uuid4()), "model": "bytedance:50@1",
            "inputs": {"video": video}, "upscaleFactor": 2, **overrides}


def caption(video: str, **overrides: Any) -> dict[str, Any]:
    return {"taskType": "caption", "taskUUID": str(uuid.uuid4()), "model": "memories:1@1",
            "inputs": {"video": video}, **overrides}


def finished(client: RestClient, sent: dict[str, Any]) -> dict[str, Any]:
    """Acknowledged at once (no result keys, no status), then polled to its one result."""
    (ack,) = client.post([sent]).json()["data"]
    assert ack == {"taskType": sent["taskType"], "taskUUID": sent["taskUUID"]}
    (item,) = client.wait(sent["taskUUID"])["data"]
    assert (item["status"], item["taskUUID"]) == ("success", sent["taskUUID"])
    return item


def downloaded(item: dict[str, Any], folder: Path, extension: str) -> dict[str, Any]:
    reply = httpx.get(item["videoURL"], timeout=30)
    assert reply.status_code == 200
    path = folder / f"{item['videoUUID']}.{extension}"
    path.write_bytes(reply.content)
    return decode(path)


# --- video upscale --------------------------------------------------------------------------

def test_a_video_is_upscaled_by_the_factor_and_keeps_its_length(client, clip, video, tmp_path):
    item = finished(client, upscale(video, includeCost=True))
    made, source = downloaded(item, tmp_path, "mp4"), decode(clip)
    assert (made["width"], made["height"]) == (SIZE[0] * 2, SIZE[1] * 2)
    assert made["video_codec"] == "h264" and made["errors"] == 0
    assert made["frames"] == source["frames"] == FPS
    assert abs(made["audio_seconds"] - source["audio_seconds"]) < 0.05
    assert item["cost"] > 0


@pytest.mark.parametrize(("sent_format", "extension", "codec"), [("webm", "webm", "vp9"),
                                                                  ("MOV", "mov", "h264")])
def test_a_factor_of_four_and_each_container_in_any_case(client, video, tmp_path, sent_format,
                                                         extension, codec):
    item = finished(client, upscale(video, upscaleFactor=4, outputFormat=sent_format))
    assert item["videoURL"].endswith(f".{extension}")
    made = downloaded(item, tmp_path, extension)
    assert (made["width"], made["height"], made["video_codec"]) == (256, 192, codec)


def test_width_and_height_and_fps_set_the_output(client, video, tmp_path):
    item = finished(client, upscale(video, width=160, height=96, fps=5))
    made = downloaded(item, tmp_path, "mp4")
    assert (made["width"], made["height"], made["frames"]) == (160, 96, 5)


def test_sync_is_answered_with_the_result(client, video):
    sent = upscale(video, deliveryMethod="sync")
    (item,) = client.post([sent]).json()["data"]
    assert item["status"] == "success" and item["videoUUID"] in item["videoURL"]


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"upscaleFactor": 3}, "invalidUpscaleFactor", "upscaleFactor"),
    ({"outputFormat": "PNG"}, "unsupportedOutputFormat", "outputFormat"),
    ({"outputFormat": "AVI"}, "unsupportedOutputFormat", "outputFormat"),
    ({"model": "runware:504@1"}, "unsupportedModel", "model"),
    ({"fps": 0}, "invalidFps", "fps"),
])
def test_refused_video_upscales(client, video, overrides, code, parameter):
    sent = upscale(video, **overrides)
    (problem,) = client.post([sent]).json()["errors"]
    assert (problem["code"], problem["parameter"], problem["taskUUID"]) == (
        code, parameter, sent["taskUUID"])


def test_an_image_upscale_refuses_a_video_format_and_video_fields(client, video):
    image = {"taskType": "imageUpscale", "taskUUID": str(uuid.uuid4()),
             "inputImage": video, "upscaleFactor": 2}
    for extra, code in (({"outputFormat": "mp4"}, "unsupportedOutputFormat"),
                        ({"fps": 24}, "unsupportedParameter")):
        (problem,) = client.post([{**image, **extra, "taskUUID": str(uuid.uuid4())}]).json()[
            "errors"]
        assert problem["code"] == code


def test_an_input_that_is_no_video_fails_the_task(client):
    sent = upscale(data_uri_of(b"not a video at all"))
    client.post([sent])
    (problem,) = client.wait(sent["taskUUID"])["errors"]
    assert problem["parameter"] == "inputs.video" and "not a decodable video" in \
        problem["message"]


def data_uri_of(content: bytes) -> str:
    return "data:video/mp4;base64," + base64.b64encode(content).decode()


# --- video caption --------------------------------------------------------------------------

def test_a_video_caption_says_what_the_video_is(client, video):
    item = finished(client, caption(video, includeCost=True))
    text = item["text"]
    assert "1.0-second" in text and "with sound" in text and f"{FPS} fps" in text
    assert f"{SIZE[0]}x{SIZE[1]}" in text and "blue" in text
    assert item["cost"] == 0
    assert finished(client, caption(video))["text"] == text  # deterministic


def test_the_video_age_model_answers_structured_data(client, video):
    item = finished(client, caption(video, model="memories:2@1"))
    assert "text" not in item
    assert isinstance(item["structuredData"]["ageGroup"], str)
    assert 0 <= item["structuredData"]["confidence"] <= 100


def test_a_video_caption_may_be_sync(client, video):
    sent = caption(video, deliveryMethod="sync")
    (item,) = client.post([sent]).json()["data"]
    assert item["text"].startswith("A 1.0-second")


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"model": "runware:150@2"}, "unsupportedModel", "model"),
    ({"inputImage": "00000000-0000-4000-8000-000000000001"}, "unsupportedModel", "model"),
    ({"inputs": {}}, "missingParameter", "inputs.video"),
])
def test_refused_video_captions(client, video, overrides, code, parameter):
    sent = caption(video, **overrides)
    (problem,) = client.post([sent]).json()["errors"]
    assert (problem["code"], problem["parameter"]) == (code, parameter)
