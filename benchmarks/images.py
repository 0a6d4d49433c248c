"""Sync imageInference at 1024x1024 with ``--latency instant``, and the placeholder's own cost.

    python benchmarks/images.py [--seconds 5] [--connections 4] [--draws 30]

Prints, for requests that each draw a new picture (a new seed every time) and for requests
that repeat one (the picture is on disk already): p50 and p99 latency of the whole request,
and requests/second. Then the cost of one placeholder in-process, per outputFormat (and for WEBP,
whose cost depends most on it, per outputQuality): drawn and encoded from nothing (cold: a new
seed and a prompt never drawn before, each time), at 1024x1024 and, for reference, 2048x2048;
and found in the cache (cached). Target (issue 12): a cold 1024x1024 placeholder in at most
20 ms in every format, at any outputQuality.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import emulator, free_port, process, read_response, request_bytes

from runware_mock.media.images import ImageMaker
from runware_mock.media.placeholder import Picture, draw

PROMPT = "A serene mountain lake at dawn, mist over the water, pines on the far shore"
# outputQuality of the cold figures: the default, and for WEBP the ends of the allowed range.
QUALITIES = {"JPG": (95,), "PNG": (95,), "WEBP": (20, 80, 95, 99)}


def caption(seed: int, size: int, output_format: str) -> tuple[str, ...]:
    """A caption never drawn before: nothing of a cold draw's text can come from a cache."""
    return (f"{PROMPT} (variant {seed})", "model runware:400@2",
            f"seed {seed}   {size}x{size}   {output_format}")


def task_body(seed: int) -> bytes:
    task = {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()),
            "model": "runware:400@2", "positivePrompt": PROMPT, "width": 1024,
            "height": 1024, "seed": seed, "deliveryMethod": "sync"}
    return json.dumps([task]).encode()


async def _worker(port: int, seconds: float, seeds: list[int], latencies: list[float],
                  repeat: bool) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    deadline = time.monotonic() + seconds
    headers = {"Authorization": "Bearer bench"}
    try:
        while time.monotonic() < deadline:
            seed = 1 if repeat else seeds.pop()
            started = time.perf_counter()
            writer.write(request_bytes(port, "/v1", task_body(seed), headers))
            status, body = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200 or b'"imageURL"' not in body:
                raise RuntimeError(f"unexpected answer {status}: {body[:200]!r}")
    finally:
        writer.close()


def load(port: int, seconds: float, connections: int, repeat: bool) -> tuple[float, float, float]:
    """p50 and p99 latency (ms) and requests/second."""
    latencies: list[float] = []
    seeds = list(range(10_000_000, 9_000_000, -1))

    async def run() -> float:
        start = time.monotonic()
        await asyncio.gather(*(_worker(port, seconds, seeds, latencies, repeat)
                               for _ in range(connections)))
        return len(latencies) / (time.monotonic() - start)

    rate = asyncio.run(run())
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000, rate


def cold_cost(size: int, output_format: str, quality: int, draws: int) -> list[float]:
    """Seconds per placeholder drawn and encoded from nothing."""
    draw(Picture(size, size, output_format, quality, 0, caption(0, size, output_format)))
    times = []
    for seed in range(1, draws + 1):
        picture = Picture(size, size, output_format, quality, seed,
                          caption(seed, size, output_format))
        started = time.perf_counter()
        draw(picture)
        times.append(time.perf_counter() - started)
    return times


def cached_cost(folder: Path, output_format: str, draws: int) -> list[float]:
    """Seconds per placeholder found already on disk."""
    maker = ImageMaker(folder)
    picture = Picture(1024, 1024, output_format, 95, 1, caption(1, 1024, output_format))

    async def hits() -> list[float]:
        await maker.picture(picture)
        times = []
        for _ in range(draws):
            started = time.perf_counter()
            await maker.picture(picture)
            times.append(time.perf_counter() - started)
        return times

    return asyncio.run(hits())


def placeholder_costs(draws: int, folder: Path) -> None:
    for size in (1024, 2048):
        for output_format, qualities in QUALITIES.items():
            for quality in qualities:
                cold = cold_cost(size, output_format, quality, draws)
                print(f"placeholder {size}x{size} {output_format:4} quality {quality:2}  cold p50 "
                      f"{statistics.median(cold) * 1000:6.2f} ms  max {max(cold) * 1000:6.2f} ms")
    for output_format in QUALITIES:
        hits = cached_cost(folder, output_format, draws)
        print(f"placeholder 1024x1024 {output_format:4} cached p50 "
              f"{statistics.median(hits) * 1e6:6.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--draws", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        with process(emulator(port, folder, "--latency", "instant"), port):
            load(port, 1.0, args.connections, repeat=True)  # warm up
            for label, repeat in (("new seed each request", False), ("same request again", True)):
                p50, p99, rate = load(port, args.seconds, args.connections, repeat)
                print(f"sync imageInference 1024x1024, {label:22}: p50 {p50:6.1f} ms  "
                      f"p99 {p99:6.1f} ms  {rate:6.1f} req/s ({args.connections} connections)")
        placeholder_costs(args.draws, Path(folder))


if __name__ == "__main__":
    main()
