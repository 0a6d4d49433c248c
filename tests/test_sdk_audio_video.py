"""Issue 12: the official SDKs, unchanged but for URL and key, making speech, music and a
PixVerse video through the emulator (the environments and script runner of tests/test_sdks.py).
Every output is downloaded and decoded with the bundled ffmpeg at the asked length."""

# The SDK environments are test_sdks.py's fixtures, imported by name: their parameters "redefine"
# them (F811), as pytest intends.

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.runner import ServerThread
from runware_mock.tasks.audio_inference import spoken_seconds
from tests.helpers import decode, decode_audio, length_tolerance
from tests.sdks import API_KEY, SCRIPTS, run_to_end

PIXVERSE_COST = 0.299  # 5 s at $0.0598


def saved(content: bytes, tmp_path: Path) -> Path:
    path = tmp_path / f"{uuid.uuid4()}.bin"
    path.write_bytes(content)
    return path


def served(url: str, tmp_path: Path) -> Path:
    reply = httpx.get(url, timeout=30)
    assert reply.status_code == 200, url
    return saved(reply.content, tmp_path)


def check_speech(items: list[dict[str, Any]], text: str, codec: str, tmp_path: Path) -> None:
    (item,) = items
    seconds = spoken_seconds({"text": text})
    assert (item["taskType"], item["status"]) == ("audioInference", "success")
    assert item["cost"] == round(len(text) * 0.05 / 1000, 5)
    decoded = decode_audio(served(item["audioURL"], tmp_path))
    assert (decoded["codec"], decoded["errors"]) == (codec, 0)
    assert decoded["seconds"] == pytest.approx(seconds, abs=length_tolerance(decoded))


def check_pixverse(items: list[dict[str, Any]], tmp_path: Path, cost: float | None) -> None:
    (item,) = items
    assert (item["taskType"], item["status"], item.get("cost")) == (
        "videoInference", "success", cost)
    assert item["videoURL"].startswith("http")
    decoded = decode(served(item["videoURL"], tmp_path))
    assert (decoded["video_codec"], decoded["width"], decoded["height"], decoded["frames"],
            decoded["errors"]) == ("h264", 360, 640, 125, 0)
    assert decoded["audio_seconds"] == pytest.approx(5.0, abs=1 / 25)


@pytest.mark.parametrize("transport", ["websocket", "rest"])
def test_runware_sdk_makes_audio_and_a_pixverse_video(server: ServerThread,
                                                      runware_sdk_python: Path, tmp_path: Path,
                                                      transport: str) -> None:
    done = run_to_end([str(runware_sdk_python), str(SCRIPTS / "runware_sdk_audio_video.py"),
                       "--transport", transport, "--ws-url", server.ws_url, "--http-url",
                       server.url, "--api-key", API_KEY], tmp_path)
    text = "Hello from the official Python SDK."
    check_speech(done["speech"], text, "mp3", tmp_path)
    check_speech(done["sync"], text, "pcm_s16le", tmp_path)
    (music,) = done["music"]
    decoded = decode_audio(saved(base64.b64decode(music["audioBase64Data"]), tmp_path))
    assert (decoded["codec"], decoded["seconds"]) == ("mp3", pytest.approx(10.0, abs=0.002))
    check_pixverse(done["videos"], tmp_path, PIXVERSE_COST)
    invalid = done["invalid"]
    assert (invalid["raised"], invalid["code"], invalid["parameter"]) == (
        "RunwareError", "validation", "duration")


def test_runware_05_makes_audio_and_a_pixverse_video(server: ServerThread,
                                                     runware_05_python: Path,
                                                     tmp_path: Path) -> None:
    done = run_to_end([str(runware_05_python), str(SCRIPTS / "runware_05_audio_video.py"),
                       "--ws-url", server.ws_url, "--api-key", API_KEY], tmp_path)
    check_speech(done["speech"], "Hello from runware zero point five.", "flac", tmp_path)
    check_pixverse(done["videos"], tmp_path, PIXVERSE_COST)
    invalid = done["invalid"]
    assert (invalid["raised"], invalid["code"]) == ("RunwareAPIError", "unsupportedDimensions")
    assert uuid.UUID(invalid["error"]["taskUUID"])


def test_sdk_js_makes_audio_and_a_pixverse_video(server: ServerThread, sdk_js: tuple[str, Path],
                                                 tmp_path: Path) -> None:
    node, folder = sdk_js
    done = run_to_end([node, str(SCRIPTS / "sdk_js_audio_video.cjs"), server.ws_url, API_KEY,
                       str(folder)], tmp_path)
    check_speech(done["speech"], "Hello from the JavaScript SDK.", "vorbis", tmp_path)
    check_pixverse(done["videos"], tmp_path, PIXVERSE_COST)
    # skipResponse returns the ack, which has no videoURL; the poll finds the video first.
    assert "videoURL" not in done["ack"] and done["ack"]["taskUUID"]
    assert done["polled"][0]["taskUUID"] == done["ack"]["taskUUID"]
    check_pixverse(done["polled"][:1], tmp_path, PIXVERSE_COST)
    invalid = done["invalid_model"]
    assert invalid["rejected"] is True
    assert (invalid["error"]["code"], invalid["error"]["parameter"]) == ("invalidModel", "model")
