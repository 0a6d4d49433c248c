"""Small clients and media helpers the tests share."""

from __future__ import annotations

import base64
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg

from runware_mock.fixtures import media_path

PORTRAIT = "b06de116-9865-4f69-85aa-47389348df02.jpg"
VOICE = "f7e9776d-d6d9-40d3-aa53-120611f4b9c8.mp3"  # 12.266 s
MODEL = "klingai:avatar@2.0-standard"


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def raw_base64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def avatar_task(**overrides: Any) -> dict[str, Any]:
    """A valid avatar task with inline inputs (no network needed)."""
    task: dict[str, Any] = {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": MODEL,
        "inputs": {"image": data_uri(media_path(PORTRAIT), "image/jpeg"),
                   "audio": raw_base64(media_path(VOICE))},
    }
    task.update(overrides)
    return task


class RestClient:
    def __init__(self, url: str, api_key: str = "test-key") -> None:
        self.url = url
        self.http = httpx.Client(timeout=30, headers={"Authorization": f"Bearer {api_key}"})

    def post(self, tasks: list[Any]) -> httpx.Response:
        return self.http.post(self.url, json=tasks)

    def poll(self, task_uuid: str) -> httpx.Response:
        return self.post([{"taskType": "getResponse", "taskUUID": task_uuid}])

    def wait(self, task_uuid: str, timeout: float = 60.0) -> dict[str, Any]:
        """Poll until no generation is processing; returns the last reply body."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.poll(task_uuid).json()
            if not any(item.get("status") == "processing" for item in body.get("data", [])):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task_uuid} still processing: {body}")
            time.sleep(0.05)

    def run(self, task: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
        ack = self.post([task])
        assert ack.status_code == 200, ack.text
        return self.wait(task["taskUUID"], timeout)


def ffmpeg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", *args],
                          capture_output=True, text=True, check=False)


def mono_pcm(path: Path) -> subprocess.CompletedProcess[bytes]:
    """The first audio track decoded to 48 kHz mono 16-bit samples (stdout), errors on stderr."""
    return subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0",
         "-ac", "1", "-ar", "48000", "-f", "s16le", "-"], capture_output=True, check=False)


def decode(path: Path) -> dict[str, Any]:
    """Decode a video fully with ffmpeg: codecs, size, frame count, audio seconds."""
    info = ffmpeg("-i", str(path))
    video = re.search(r"Video: (\w+).*?, (\d{2,5})x(\d{2,5})", info.stderr)
    audio = re.search(r"Audio: (\w+)", info.stderr)
    frames = ffmpeg("-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "null", "-",
                    "-stats")
    counted = re.findall(r"frame=\s*(\d+)", frames.stderr)
    samples = mono_pcm(path)
    return {
        "video_codec": video.group(1) if video else None,
        "width": int(video.group(2)) if video else 0,
        "height": int(video.group(3)) if video else 0,
        "frames": int(counted[-1]) if counted else 0,
        "audio_codec": audio.group(1) if audio else None,
        "audio_seconds": len(samples.stdout) / 2 / 48000,
        "errors": frames.stderr.count("Error") + samples.stderr.count(b"Error"),
    }


def length_tolerance(decoded: dict[str, Any]) -> float:
    """How far a decoded track's length may be from the asked one, in seconds: 2 ms, or for
    Vorbis (OGG) half a short block, 128 samples at its rate, which libvorbis may leave off the
    end of a track of about a second (docs/audio-video.md)."""
    if decoded["codec"] == "vorbis" and decoded["sample_rate"]:
        return max(0.002, 128 / decoded["sample_rate"] + 1e-6)
    return 0.002


def decode_audio(path: Path) -> dict[str, Any]:
    """Decode an audio file fully with ffmpeg: codec, sample rate, channels, seconds."""
    info = ffmpeg("-i", str(path))
    stream = re.search(r"Audio: (\w+).*?, (\d+) Hz, (mono|stereo)", info.stderr)
    samples = mono_pcm(path)
    return {
        "codec": stream.group(1) if stream else None,
        "sample_rate": int(stream.group(2)) if stream else 0,
        "channels": {"mono": 1, "stereo": 2}[stream.group(3)] if stream else 0,
        "seconds": len(samples.stdout) / 2 / 48000,
        "errors": samples.stderr.count(b"Error") + samples.returncode,
    }
