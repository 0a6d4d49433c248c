"""The official SDKs, unchanged but for URL and key, through the emulator (the environments and
script runner of tests/sdks.py): runware 0.5 running photoMaker and videoCaption (its README's
own examples), videoUpscale and inference3d; sdk-js 1.3 photoMaker and threeDInference;
runware-sdk 1.8's run() with 3dInference, a video upscale and a video caption. The examples'
public inputs are served from a --url-map folder (the video, the 3D input picture) or stood in
for (photoMaker's images); what the SDK returns is downloaded and decoded."""

from __future__ import annotations

import io
import json
import struct
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


def as_list(found: Any) -> list[dict[str, Any]]:
    return found if isinstance(found, list) else [found]


def fetched(url: str) -> bytes:
    reply = httpx.get(url, timeout=30)
    assert reply.status_code == 200, url
    return reply.content


def test_runware_05_photo_maker_video_caption_upscale_and_3d(runware_05_python: Path,
                                                             tmp_path: Path) -> None:
    served = tmp_path / "example.com"
    served.mkdir()
    small_clip(served / "video.mp4")
    Image.new("RGB", (96, 64), (200, 120, 40)).save(served / "photo.png")
    server = ServerThread(Settings(latency="instant", data_dir=tmp_path / "data",
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


def test_sdk_js_photo_maker_and_3d(sdk_js: tuple[str, Path], tmp_path: Path) -> None:
    served = tmp_path / "example.com"
    served.mkdir()
    Image.new("RGB", (96, 64), (200, 120, 40)).save(served / "person.png")
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
    finally:
        server.stop()


# Over WebSocket only: REST is the same tasks polled, and each run takes about 7 s of the
# suite (the SDK's own polling); tests/test_sdk_images.py runs both transports.
@pytest.mark.parametrize("transport", ["websocket"])
def test_runware_sdk_3d_video_upscale_and_video_caption(runware_sdk_python: Path,
                                                        tmp_path: Path, transport: str) -> None:
    clip = small_clip(tmp_path / "clip.mp4")
    picture = tmp_path / "picture.png"
    Image.new("RGB", (96, 64), (200, 120, 40)).save(picture)
    server = ServerThread(Settings(latency="instant", data_dir=tmp_path / "data")).start()
    try:
        done = run_to_end([str(runware_sdk_python), str(SCRIPTS / "runware_sdk_media_tasks.py"),
                           "--transport", transport, "--ws-url", server.ws_url, "--http-url",
                           server.url, "--api-key", API_KEY, "--image", str(picture),
                           "--video", str(clip)], tmp_path)
        (model,) = as_list(done["model"])
        (file,) = model["outputs"]["files"]
        assert fetched(file["url"])[:4] == b"glTF"
        (video,) = as_list(done["upscaled"])
        path = tmp_path / "upscaled.mp4"
        path.write_bytes(fetched(video["videoURL"]))
        decoded = decode(path)
        assert (decoded["width"], decoded["height"], decoded["frames"]) == (128, 96, 10)
        (caption,) = as_list(done["caption"])
        assert caption["text"].startswith("A 1.0-second video at 10 fps, with sound")
    finally:
        server.stop()
