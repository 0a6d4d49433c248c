"""audioInference and generated videoInference with ``--latency instant``: how long the
placeholders take to make.

    python benchmarks/audio_video.py [--runs 10]

Prints, for a sync TTS request (a 62-character text: 4.1 s of speech), a sync 30 s music
request and a pixverse:1@5 video (5 s, polled every 10 ms until it is done), each in MP3/MP4:
the median and worst time of the whole request when every request is new (a new seed each
time: the sound or video is made) and when it repeats one (the file is on disk already).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import emulator, free_port, process

TEXT = "Hello, I am your guide to this emulator, and this is my voice."


def speech(seed: int) -> dict[str, Any]:
    return {"taskType": "audioInference", "model": "inworld:tts@1.5-max", "seed": seed,
            "speech": {"text": TEXT, "voice": "Dennis"}}


def music(seed: int) -> dict[str, Any]:
    return {"taskType": "audioInference", "model": "minimax:music@2.6", "seed": seed,
            "positivePrompt": "calm piano", "duration": 30}


def video(size: tuple[int, int]) -> Callable[[int], dict[str, Any]]:
    def task(seed: int) -> dict[str, Any]:
        return {"taskType": "videoInference", "model": "pixverse:1@5", "seed": seed,
                "positivePrompt": "a mountain lake", "duration": 5, "width": size[0],
                "height": size[1]}
    return task


def timed(client: httpx.Client, url: str, task: dict[str, Any]) -> float:
    task = {**task, "taskUUID": str(uuid.uuid4())}
    started = time.perf_counter()
    reply = client.post(url, json=[task]).json()
    while task["taskType"] == "videoInference" and "videoURL" not in reply["data"][0]:
        time.sleep(0.01)
        reply = client.post(url, json=[{"taskType": "getResponse",
                                        "taskUUID": task["taskUUID"]}]).json()
    elapsed = time.perf_counter() - started
    if "errors" in reply:
        raise RuntimeError(f"unexpected answer: {reply}")
    return elapsed


def measure(client: httpx.Client, url: str, label: str, make: Callable[[int], dict[str, Any]],
            runs: int) -> None:
    fresh = [timed(client, url, make(seed)) for seed in range(1000, 1000 + runs)]
    again = [timed(client, url, make(1000)) for _ in range(runs)]
    print(f"{label:34} new: p50 {statistics.median(fresh) * 1000:7.1f} ms  max "
          f"{max(fresh) * 1000:7.1f} ms   repeated: p50 {statistics.median(again) * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        url = f"http://127.0.0.1:{port}/v1"
        with (process(emulator(port, folder, "--latency", "instant"), port),
              httpx.Client(timeout=120, headers={"Authorization": "Bearer bench"}) as client):
            timed(client, url, speech(1))  # warm up
            measure(client, url, "sync TTS, 4.1 s MP3", speech, args.runs)
            measure(client, url, "sync music, 30 s MP3", music, args.runs)
            measure(client, url, "pixverse 5 s 360x640 MP4", video((360, 640)), args.runs)
            measure(client, url, "pixverse 5 s 720x1280 MP4", video((720, 1280)), args.runs)
            measure(client, url, "pixverse 5 s 1080x1920 MP4", video((1080, 1920)), args.runs)


if __name__ == "__main__":
    main()
