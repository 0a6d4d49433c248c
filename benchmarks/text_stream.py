"""Streamed textInference: first-chunk latency and chunks per second, with instant latency.

    python benchmarks/text_stream.py [--streams 300] [--connections 8]

Starts its own emulator on 127.0.0.1 (a subprocess, ``--latency instant``) and streams
``google:gemma@4-31b`` answers (``deliveryMethod: "stream"``) over keep-alive connections:
first ``--streams`` streams one after another on one connection (the first chunk's latency,
from the request's last byte to the first ``data:`` event, p50/p99, and the whole stream's
time), then the same number spread over ``--connections`` concurrent connections (deltas per
second across all of them). The client reads the chunked body with raw asyncio streams, so it
measures the server rather than an HTTP library.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._load import emulator, free_port, process, request_bytes

HEADERS = {"Authorization": "Bearer bench"}


def stream_body() -> bytes:
    return json.dumps([{"taskType": "textInference", "taskUUID": str(uuid.uuid4()),
                        "model": "google:gemma@4-31b", "deliveryMethod": "stream",
                        "messages": [{"role": "user", "content": "Reply with exactly: hello"}]
                        }]).encode()


async def one_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     port: int) -> tuple[float, float, int]:
    """(first chunk seconds, whole stream seconds, deltas) of one streamed answer."""
    writer.write(request_bytes(port, "/v1", stream_body(), HEADERS))
    await writer.drain()
    sent = time.perf_counter()
    first: float | None = None
    deltas = 0
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"chunked" in head.lower(), head
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        payload = await reader.readexactly(size + 2)
        if size == 0:
            break
        if first is None and payload.startswith(b"data: {"):
            first = time.perf_counter() - sent
        deltas += payload.count(b'"delta":{"text"')
    assert first is not None
    return first, time.perf_counter() - sent, deltas


async def sequential(port: int, count: int) -> tuple[list[float], list[float], int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    firsts, wholes, deltas = [], [], 0
    for _ in range(count):
        first, whole, got = await one_stream(reader, writer, port)
        firsts.append(first)
        wholes.append(whole)
        deltas += got
    writer.close()
    return firsts, wholes, deltas


async def concurrent(port: int, count: int, connections: int) -> tuple[float, int, list[float]]:
    async def worker(share: int) -> tuple[int, list[float]]:
        deltas = 0
        firsts: list[float] = []
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(share):
            first, _, got = await one_stream(reader, writer, port)
            firsts.append(first)
            deltas += got
        writer.close()
        return deltas, firsts

    shares = [count // connections + (i < count % connections) for i in range(connections)]
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(worker(share) for share in shares))
    seconds = time.perf_counter() - started
    return seconds, sum(d for d, _ in outcomes), [f for _, fs in outcomes for f in fs]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def measure(port: int, streams: int, connections: int) -> None:
    await sequential(port, 20)  # warm up: imports, caches, the first connection
    started = time.perf_counter()
    firsts, wholes, deltas = await sequential(port, streams)
    seconds = time.perf_counter() - started
    print(f"sequential, 1 connection: {streams} streams, {deltas / streams:.1f} deltas each")
    print(f"  first chunk   p50 {ms(statistics.median(firsts))}  p99 "
          f"{ms(percentile(firsts, 0.99))}")
    print(f"  whole stream  p50 {ms(statistics.median(wholes))}  p99 "
          f"{ms(percentile(wholes, 0.99))}")
    print(f"  {deltas / seconds:,.0f} deltas/s, {streams / seconds:,.1f} streams/s")
    seconds, deltas, firsts = await concurrent(port, streams, connections)
    print(f"concurrent, {connections} connections: {streams} streams")
    print(f"  first chunk   p50 {ms(statistics.median(firsts))}  p99 "
          f"{ms(percentile(firsts, 0.99))}")
    print(f"  {deltas / seconds:,.0f} deltas/s, {streams / seconds:,.1f} streams/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir, process(
            emulator(port, data_dir, "--latency", "instant", "--api-key", "bench"), port):
        asyncio.run(measure(port, args.streams, args.connections))


if __name__ == "__main__":
    main()
