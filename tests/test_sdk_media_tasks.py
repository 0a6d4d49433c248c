"""The official SDKs, unchanged but for URL and key, through the emulator (the environments and
script runner of tests/sdks.py): runware 0.5 running photoMaker and videoCaption (its README's
own examples), videoUpscale, inference3d and training (its README's); sdk-js 1.3 photoMaker,
threeDInference, caption of a video (its README's), getResponse and training; runware-sdk
1.8's run() with 3dInference, a video upscale, a video caption and a training. The examples'
public inputs are served from a --url-map folder (the video, the 3D input picture, the
training ZIP, for runware 0.5's placeholder "example/pictures.zip") or stood in
for (photoMaker's images); what the SDK returns is downloaded and decoded."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import decode, ffmpeg
from tests.sdks import API_KEY, SCRIPTS, run_to_end


def small_clip(path: Path) -> Path:
    """One second, 64x48 at 10 fps, with sound."""
    made = ffmpeg("-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x285ac8:s=64x48:r=10:d=1",
                  "-f", "lavfi", "-i", "sine=d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                  "-c:a", "aac", "-shortest", str(path))
    assert made.returncode == 0, made.stderr
    return path


def pictures_zip(path: Path, count: int = 10) -> None:
    """A training dataset: a ZIP of ``count`` small pictures."""
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(count):
            picture = io.BytesIO()
            Image.new("RGB", (32, 32), (20 * index, 90, 160)).save(picture, "PNG")
            archive.writestr(f"picture-{index}.png", picture.getvalue())


def lora_metadata(data: bytes) -> dict[str, str]:
    """A safetensors file's header ``__metadata__`` (an 8-byte length, then JSON)."""
    (length,) = struct.unpack_from("<Q", data)
    return json.loads(data[8:8 + length])["__metadata__"]


def as_list(found: Any) -> list[dict[str, Any]]:
    return found if isinstance(found, list) else [found]


def fetched(url: str) -> bytes:
    reply = httpx.get(url, timeout=30)
    assert reply.status_code == 200, url
    return reply.content


def test_runware_05_photo_maker_video_caption_upscale_3d_and_training(runware_05_python: Path,
                                                             tmp_path: Path) -> None:
    served = tmp_path / "example.com"
    served.mkdir()
    small_clip(served / "video.mp4")
    Image.new("RGB", (96, 64), (200, 120, 40)).save(served / "photo.png")
    pictures_zip(served / "pictures.zip")
    # The README's training imports its model as runware:illustrative@0: the organization
    # owns that AIR source here.
    server = ServerThread(Settings(latency="instant", data_dir=tmp_path / "data",
                                   air_sources=("runware",),
                                   url_map=(("https://example.com/", str(served)),))).start()
    try:
        done = run_to_end([str(runware_05_python), str(SCRIPTS / "runware_05_media_tasks.py"),
                           "--ws-url", server.ws_url, "--api-key", API_KEY], tmp_path)
        check(done, tmp_path)
    finally:
        server.stop()


def check(done: dict[str, Any], tmp_path: Path) -> None:
    (photo,) = done["photos"]
    assert photo["taskType"] == "photoMaker" and photo["cost"] > 0
    image = Image.open(io.BytesIO(fetched(photo["imageURL"])))
    assert (image.format, image.size) == ("WEBP", (512, 512))

    (caption,) = done["caption"] if isinstance(done["caption"], list) else [done["caption"]]
    assert caption["text"].startswith("A 1.0-second video at 10 fps, with sound")
    assert caption["cost"] == 0

    (video,) = done["upscaled"]
    assert video["taskType"] == "upscale" and video["status"] == "success"
    path = tmp_path / "upscaled.mp4"
    path.write_bytes(fetched(video["videoURL"]))
    decoded = decode(path)
    assert (decoded["width"], decoded["height"], decoded["frames"]) == (128, 96, 10)

    (model,) = done["models"]
    assert model["taskType"] == "3dInference" and model["cost"] == 0.0256
    (file,) = model["outputs"]["files"]
    glb = fetched(file["url"])
    magic, version, length = struct.unpack_from("<4sII", glb)
    assert (magic, version, length) == (b"glTF", 2, len(glb))
    json_length, json_type = struct.unpack_from("<II", glb, 12)
    assert json_type == 0x4E4F534A
    assert json.loads(glb[20:20 + json_length])["asset"]["version"] == "2.0"

    (trained,) = as_list(done["trained"])
    assert (trained["taskType"], trained["status"]) == ("training", "success")
    (lora,) = trained["outputs"]["files"]
    assert lora_metadata(fetched(lora["url"]))["ss_num_images"] == "10"


def test_sdk_js_photo_maker_3d_caption_and_training(sdk_js: tuple[str, Path],
                                                    tmp_path: Path) -> None:
    served = tmp_path / "example.com"
    served.mkdir()
    Image.new("RGB", (96, 64), (200, 120, 40)).save(served / "person.png")
    small_clip(served / "video.mp4")
    pictures_zip(served / "pictures.zip")
    server = ServerThread(Settings(latency="instant", data_dir=tmp_path / "data",
                                   url_map=(("https://example.com/", str(served)),))).start()
    node, sdk_folder = sdk_js
    try:
        done = run_to_end([node, str(SCRIPTS / "sdk_js_media_tasks.cjs"), server.ws_url,
                           API_KEY, "https://example.com/person.png", str(sdk_folder)], tmp_path)
        photos = done["photoMaker"]
        assert len({photo["imageUUID"] for photo in photos}) == 2
        for photo in photos:
            assert photo["taskType"] == "photoMaker" and photo["cost"] > 0
            image = Image.open(io.BytesIO(fetched(photo["imageURL"])))
            assert (image.format, image.size) == ("WEBP", (512, 512))
        # sdk-js sends a random seed up to 2**53 - 1: each result reports its own, in turn.
        assert photos[1]["seed"] == photos[0]["seed"] + 1
        sync3d = done["sync3d"]
        (found,) = (sync3d if isinstance(sync3d, list) else [sync3d])
        assert found["taskType"] == "3dInference" and found["status"] == "success"
        (file,) = found["outputs"]["files"]
        assert fetched(file["url"])[:4] == b"glTF"
        assert done["caption"]["taskType"] == "caption"  # the acknowledgement
        # sdk-js's getResponse answers every item its polls gathered for the task (a
        # processing one, the result, the result pushed as well): its own polling keeps the
        # successes, one per result.
        (text,) = {item["text"] for item in done["captions"] if item["status"] == "success"}
        assert text.startswith("A 1.0-second video at 10 fps, with sound")
        assert done["trained"]["taskType"] == "training"  # the acknowledgement
        (air,) = {item["air"] for item in done["trainings"] if item["status"] == "success"}
        assert air == "qatests:illustrative-js@0"
    finally:
        server.stop()


# Both transports runware-sdk offers (each run is about 8 s of the suite: the SDK's own polling
# of five async tasks).
@pytest.mark.parametrize("transport", ["websocket", "rest"])
def test_runware_sdk_3d_video_upscale_caption_training_and_ffmpeg(runware_sdk_python: Path,
                                                        tmp_path: Path, transport: str) -> None:
    clip = small_clip(tmp_path / "clip.mp4")
    picture = tmp_path / "picture.png"
    Image.new("RGB", (96, 64), (200, 120, 40)).save(picture)
    pictures_zip(tmp_path / "pictures.zip")
    server = ServerThread(Settings(latency="instant", data_dir=tmp_path / "data")).start()
    try:
        done = run_to_end([str(runware_sdk_python), str(SCRIPTS / "runware_sdk_media_tasks.py"),
                           "--transport", transport, "--ws-url", server.ws_url, "--http-url",
                           server.url, "--api-key", API_KEY, "--image", str(picture),
                           "--video", str(clip), "--dataset", str(tmp_path / "pictures.zip")],
                          tmp_path)
        (model,) = as_list(done["model"])
        (file,) = model["outputs"]["files"]
        assert fetched(file["url"])[:4] == b"glTF"
        (video,) = as_list(done["upscaled"])
        path = tmp_path / "upscaled.mp4"
        path.write_bytes(fetched(video["videoURL"]))
        decoded = decode(path)
        assert (decoded["width"], decoded["height"], decoded["frames"]) == (128, 96, 10)
        (caption,) = as_list(done["caption"])
        assert "text" in caption, done["caption"]
        assert caption["text"].startswith("A 1.0-second video at 10 fps, with sound")
        (trained,) = as_list(done["trained"])
        assert (trained["taskType"], trained["status"]) == ("training", "success")
        (lora,) = trained["outputs"]["files"]
        assert lora_metadata(fetched(lora["url"]))["ss_num_images"] == "10"
        (tools,) = as_list(done["transcoded"])
        (file,) = tools["outputs"]["files"]
        path = tmp_path / "transcoded.webm"
        path.write_bytes(fetched(file["url"]))
        decoded = decode(path)
        assert (decoded["video_codec"], decoded["audio_codec"]) == ("vp8", "opus")
        assert (decoded["width"], decoded["height"], decoded["frames"]) == (64, 48, 10)
    finally:
        server.stop()
