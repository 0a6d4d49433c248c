"""Render speed: the emulator's still-image renderer against a plain one-pass ffmpeg encode of
the same inputs, side by side in one run, plus getResponse latency while 8 renders run.

    python benchmarks/render.py [--seconds 300]

Targets: a 300 s audio rendered to MP4 in under 3 s wall on 2 cores, WEBM under 6 s;
getResponse answers within 50 ms while 8 five-minute renders run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import imageio_ffmpeg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import emulator, free_port, process

from runware_mock.fixtures import media_path
from runware_mock.media.ffmpeg import FFmpegPool
from runware_mock.media.render import FORMATS, Renderer, RenderRequest

PORTRAIT = media_path("b06de116-9865-4f69-85aa-47389348df02.jpg")
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def make_voice(folder: Path, seconds: float, name: str = "voice.mp3",
               frequency: int = 200) -> Path:
    path = folder / name
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=f={frequency}:d={seconds}:r=48000", "-ac", "1", "-c:a", "libmp3lame",
                    "-b:a", "64k", str(path)], check=True)
    return path


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def plain_encode(voice: Path, out: Path, fmt: str) -> None:
    """What a straightforward emulator would do: encode every frame of the still picture."""
    codecs = FORMATS[fmt]
    video = [*codecs.video_args(95), *codecs.audio_args(95)]
    subprocess.run([FFMPEG, "-v", "error", "-y", "-loop", "1", "-framerate", "25",
                    "-i", str(PORTRAIT), "-i", str(voice), "-vf", "scale=480:720,format=yuv420p",
                    "-ac", "1", *video, "-shortest", "-f", codecs.muxer, str(out)], check=True)


def emulator_render(renderer: Renderer, voice: Path, seconds: float, fmt: str,
                    label: str) -> Path:
    request = RenderRequest(PORTRAIT, voice, seconds, fmt, 95, label)
    return asyncio.run(renderer.render(request))


def poll_latencies_during_renders(folder: Path, seconds: float, renders: int) -> list[float]:
    """Submit ``renders`` tasks with distinct voices (no shared work), poll while they render."""
    voices = folder / "voices"
    voices.mkdir()
    for index in range(renders):
        make_voice(voices, seconds, f"voice-{index}.mp3", 150 + 10 * index)
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    portrait = "https://assets.runware.ai/assets/inputs/b06de116-9865-4f69-85aa-47389348df02.jpg"
    tasks = [{"taskType": "videoInference", "taskUUID": str(uuid.uuid4()),
              "model": "klingai:avatar@2.0-standard",
              "inputs": {"image": portrait, "audio": f"https://bench.test/voice-{index}.mp3"}}
             for index in range(renders)]
    polls = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]} for task in tasks]
    latencies: list[float] = []
    with (process(emulator(port, str(folder / "server-data"), "--latency", "instant",
                           "--url-map", f"https://bench.test/={voices}",
                           "--url-map", f"https://assets.runware.ai/assets/inputs/="
                           f"{PORTRAIT.parent}"), port),
          httpx.Client(headers={"Authorization": "Bearer bench"}) as client):
        client.post(url, json=tasks).raise_for_status()
        while True:
            start = time.perf_counter()
            body = client.post(url, json=polls).json()
            latencies.append(time.perf_counter() - start)
            if all(item["status"] != "processing" for item in body.get("data", [])):
                return latencies
            time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--renders", type=int, default=8)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        voice = make_voice(folder, arguments.seconds)
        renderer = Renderer(FFmpegPool(2), folder, max_long_side=720)
        print(f"{arguments.seconds:.0f} s voice track, portrait {PORTRAIT.name}, 2 cores")
        for fmt in FORMATS:
            ours = timed(lambda fmt=fmt: emulator_render(renderer, voice, arguments.seconds, fmt,
                                                          "cold"))
            cached = timed(lambda fmt=fmt: emulator_render(renderer, voice, arguments.seconds,
                                                            fmt, "cold"))
            relabel = timed(lambda fmt=fmt: emulator_render(renderer, voice, arguments.seconds,
                                                             fmt, "another result"))
            plain = timed(lambda fmt=fmt: plain_encode(voice, folder / f"plain.{fmt}", fmt))
            print(f"{fmt:5s} emulator cold {ours:6.2f} s | other label, same audio "
                  f"{relabel:5.2f} s | cached {cached * 1000:5.1f} ms | plain one-pass "
                  f"{plain:6.2f} s | speed-up x{plain / ours:4.1f}")
        latencies = poll_latencies_during_renders(folder, arguments.seconds, arguments.renders)
        print(f"getResponse while {arguments.renders} x {arguments.seconds:.0f} s MP4 renders "
              f"run: {len(latencies)} polls, median {statistics.median(latencies) * 1000:.1f} ms"
              f", max {max(latencies) * 1000:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
