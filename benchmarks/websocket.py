"""WebSocket capacity and getResponse round-trip, WebSocket against REST, side by side in one run.

    python benchmarks/websocket.py [--sockets 1000] [--seconds 10] [--ping-every 1]
                                   [--calls 2000] [--rounds 10]

Starts its own emulator on 127.0.0.1 (a subprocess, so the load generator has its own core),
then:

1. opens ``--sockets`` WebSockets, authenticates each, and has every one ping every
   ``--ping-every`` seconds for ``--seconds``; prints how many stayed authenticated and answered
   every ping, the pong round-trip, and the server's memory. Target: 1,000 sockets.
2. times ``getResponse`` on a finished task, one call at a time, over one authenticated socket
   and over one keep-alive REST connection, alternating the two in ``--rounds`` rounds so both
   see the same machine; prints the round-trips and their ratio.

The REST client speaks minimal HTTP/1.1 over asyncio streams, so neither side pays for a
heavyweight client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import emulator, free_port, process, read_response, request_bytes

TARGET_SOCKETS = 1000
API_KEY = "bench"
AUTH = json.dumps([{"taskType": "authentication", "apiKey": API_KEY}])
PING = json.dumps([{"taskType": "ping", "ping": True}])
HANDSHAKES_AT_ONCE = 64
SEED_ASSETS = "https://assets.runware.ai/assets/inputs/"


# --- the server under test ------------------------------------------------------------------------

@contextmanager
def emulator_process(port: int) -> Iterator[subprocess.Popen[bytes]]:
    with (tempfile.TemporaryDirectory() as data_dir,
          process(emulator(port, data_dir, "--latency", "instant"), port) as child):
        yield child


def resident_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def allow_many_files(wanted: int) -> None:
    """Each socket costs a descriptor on both ends; the child inherits the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


# --- 1. how many authenticated sockets, with pings flowing ------------------------------------

@dataclass
class Holding:
    authenticated: int = 0
    failed: list[str] = field(default_factory=list)
    pongs: int = 0
    pings: int = 0
    answered_all: int = 0
    round_trips: list[float] = field(default_factory=list)


async def hold_one(url: str, holding: Holding, handshakes: asyncio.Semaphore,
                   start: asyncio.Event, stop_at: list[float], every: float,
                   phase: float) -> None:
    try:
        async with handshakes:
            ws = await connect(url, max_size=None, ping_interval=None, open_timeout=60)
        async with ws:
            await authenticate(ws)
            holding.authenticated += 1
            await start.wait()
            await asyncio.sleep(phase)
            missed = 0
            while time.monotonic() < stop_at[0]:
                holding.pings += 1
                if await ping(ws, holding):
                    holding.pongs += 1
                else:
                    missed += 1
                await asyncio.sleep(every)
            if missed == 0:
                holding.answered_all += 1
    except Exception as exc:
        holding.failed.append(f"{type(exc).__name__}: {exc}")


async def authenticate(ws: ClientConnection) -> None:
    await ws.send(AUTH)
    reply = json.loads(await ws.recv())
    if "connectionSessionUUID" not in reply.get("data", [{}])[0]:
        raise RuntimeError(f"authentication failed: {reply}")


async def ping(ws: ClientConnection, holding: Holding) -> bool:
    sent = time.perf_counter()
    await ws.send(PING)
    reply = json.loads(await ws.recv())
    holding.round_trips.append(time.perf_counter() - sent)
    return bool(reply.get("data") and reply["data"][0].get("pong") is True)


async def measure_capacity(port: int, pid: int, sockets: int, seconds: float,
                           every: float) -> Holding:
    url = f"ws://127.0.0.1:{port}/v1"
    holding = Holding()
    handshakes = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
    start = asyncio.Event()
    stop_at = [float("inf")]
    holders = [asyncio.create_task(hold_one(url, holding, handshakes, start, stop_at, every,
                                            every * index / sockets))
               for index in range(sockets)]
    idle_mb = resident_mb(pid)
    opened = time.monotonic()
    while holding.authenticated + len(holding.failed) < sockets:
        await asyncio.sleep(0.05)
    print(f"  {holding.authenticated} sockets authenticated in {time.monotonic() - opened:.1f} s"
          f" ({len(holding.failed)} failed)")
    stop_at[0] = time.monotonic() + seconds
    start.set()
    await asyncio.sleep(seconds / 2)
    busy_mb = resident_mb(pid)
    await asyncio.gather(*holders)
    if idle_mb is not None and busy_mb is not None:
        per_socket = (busy_mb - idle_mb) * 1024 / max(1, holding.authenticated)
        print(f"  server memory: {idle_mb:.0f} MB idle, {busy_mb:.0f} MB holding them "
              f"({per_socket:.0f} KB per socket)")
    return holding


# --- 2. getResponse round-trip, WebSocket against REST -------------------------------------------

class RestConnection:
    def __init__(self, port: int) -> None:
        self._port = port
        self._reader: asyncio.StreamReader
        self._writer: asyncio.StreamWriter

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self._port)

    async def post(self, tasks: list[dict[str, Any]]) -> dict[str, Any]:
        self._writer.write(request_bytes(self._port, "/v1", json.dumps(tasks).encode(),
                                         {"Authorization": f"Bearer {API_KEY}"}))
        status, body = await read_response(self._reader)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
        return dict(json.loads(body))

    def close(self) -> None:
        self._writer.close()


async def finished_task(rest: RestConnection) -> str:
    """A task to poll; the seed's asset URLs are served from the fixtures (default url map)."""
    task_uuid = str(uuid.uuid4())
    inputs = {"image": SEED_ASSETS + "b06de116-9865-4f69-85aa-47389348df02.jpg",
              "audio": SEED_ASSETS + "f7e9776d-d6d9-40d3-aa53-120611f4b9c8.mp3"}
    await rest.post([{"taskType": "videoInference", "taskUUID": task_uuid,
                      "model": "klingai:avatar@2.0-standard", "inputs": inputs}])
    while True:
        reply = await rest.post([{"taskType": "getResponse", "taskUUID": task_uuid}])
        if reply["data"][0]["status"] == "success":
            return task_uuid
        await asyncio.sleep(0.1)


async def time_calls(call: Callable[[], Awaitable[None]], count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


async def measure_round_trips(port: int, calls: int, rounds: int) -> dict[str, list[float]]:
    rest = RestConnection(port)
    await rest.open()
    task_uuid = await finished_task(rest)
    poll = [{"taskType": "getResponse", "taskUUID": task_uuid}]
    encoded = json.dumps(poll)
    async with connect(f"ws://127.0.0.1:{port}/v1", max_size=None, ping_interval=None) as ws:
        await authenticate(ws)

        async def over_socket() -> None:
            await ws.send(encoded)
            reply = json.loads(await ws.recv())
            if reply["data"][0]["status"] != "success":
                raise RuntimeError(f"unexpected reply {reply}")

        async def over_rest() -> None:
            reply = await rest.post(poll)
            if reply["data"][0]["status"] != "success":
                raise RuntimeError(f"unexpected reply {reply}")

        timings: dict[str, list[float]] = {"websocket": [], "rest": []}
        await time_calls(over_socket, 50)  # warm both paths before measuring
        await time_calls(over_rest, 50)
        per_round = max(1, calls // rounds)
        for _ in range(rounds):
            timings["websocket"] += await time_calls(over_socket, per_round)
            timings["rest"] += await time_calls(over_rest, per_round)
    rest.close()
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report_round_trips(timings: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(values) for name, values in timings.items()}
    for name, values in timings.items():
        print(f"  {name:<9}  p50 {medians[name] * 1000:6.3f} ms   p95 "
              f"{percentile(values, 0.95) * 1000:6.3f} ms   {len(values) / sum(values):7.0f} "
              "calls/s one at a time")
    print(f"  REST / WebSocket round-trip (p50): {medians['rest'] / medians['websocket']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=TARGET_SOCKETS)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ping-every", type=float, default=1.0)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    allow_many_files(2 * args.sockets + 256)
    port = free_port()
    print(f"runware-mock WebSocket benchmark on 127.0.0.1:{port}, {os.cpu_count()} CPUs")
    with emulator_process(port) as server:
        print(f"1. {args.sockets} authenticated sockets, each pinging every {args.ping_every:g} s"
              f" for {args.seconds:g} s")
        holding = asyncio.run(measure_capacity(port, server.pid, args.sockets, args.seconds,
                                               args.ping_every))
        rtts = holding.round_trips or [0.0]
        print(f"  pongs: {holding.pongs} of {holding.pings} pings; ping round-trip p50 "
              f"{statistics.median(rtts) * 1000:.2f} ms, p99 {percentile(rtts, 0.99) * 1000:.2f} "
              "ms")
        for reason in sorted(set(holding.failed))[:5]:
            print(f"  failure: {reason}")
        held = holding.answered_all
        verdict = "met" if held >= TARGET_SOCKETS else "MISSED"
        print(f"  held with pings flowing: {held} sockets (target {TARGET_SOCKETS}: {verdict})")
        print(f"2. getResponse on a finished task, one call at a time, {args.calls} calls each, "
              f"alternating in {args.rounds} rounds")
        report_round_trips(asyncio.run(measure_round_trips(port, args.calls, args.rounds)))
    return 0 if held >= min(args.sockets, TARGET_SOCKETS) else 1


if __name__ == "__main__":
    sys.exit(main())
