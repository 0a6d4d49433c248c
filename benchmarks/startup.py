"""Start-up time of an emulator whose store holds many tasks (target: under 2 s for 100,000).

    python benchmarks/startup.py [--tasks 100000] [--starts 3]

Fills two data dirs through the emulator itself (imageInference submits, 100 per request):
one whose tasks are all finished (``instant``), one whose tasks are all still waiting
(``fixed:86400``, each run again at start). Then stops each server (SIGTERM) and times,
``--starts`` times, from spawning ``runware-mock serve`` on the data dir to its first answered
getResponse of a stored task; an empty data dir is timed the same way beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import emulator, free_port, process, read_response, request_bytes

PER_REQUEST = 100
CONNECTIONS = 8
HEADERS = {"Authorization": "Bearer bench"}


def image_task() -> dict[str, object]:
    return {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": "runware:400@2",
            "positivePrompt": "a lighthouse", "width": 512, "height": 512,
            "deliveryMethod": "async"}


async def fill(port: int, tasks: int) -> str:
    """Submit ``tasks`` tasks; returns the UUID of the last one."""
    batches = [[image_task() for _ in range(PER_REQUEST)] for _ in range(tasks // PER_REQUEST)]

    async def worker(mine: list[list[dict[str, object]]]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for batch in mine:
            writer.write(request_bytes(port, "/v1", json.dumps(batch).encode(), HEADERS))
            status, body = await read_response(reader)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
        writer.close()

    await asyncio.gather(*(worker(batches[i::CONNECTIONS]) for i in range(CONNECTIONS)))
    return str(batches[-1][-1]["taskUUID"])


def time_start(data_dir: Path, task_uuid: str) -> float:
    port = free_port()
    started = time.perf_counter()
    child = subprocess.Popen(emulator(port, str(data_dir)), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                reply = httpx.post(f"http://127.0.0.1:{port}/v1", headers=HEADERS, timeout=5,
                                   json=[{"taskType": "getResponse", "taskUUID": task_uuid}])
                if reply.status_code in (200, 404):
                    break
            except httpx.HTTPError:
                time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        child.terminate()
        child.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--starts", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        stores = {"empty": (Path(scratch) / "empty", str(uuid.uuid4()))}
        for name, latency in (("finished", "instant"), ("waiting", "fixed:86400")):
            data_dir, port = Path(scratch) / name, free_port()
            begun = time.perf_counter()
            with process(emulator(port, str(data_dir), "--latency", latency,
                                  "--max-body-bytes", str(8 * 1024 * 1024)), port):
                last = asyncio.run(fill(port, arguments.tasks))
            size = sum(path.stat().st_size for path in data_dir.glob("state.sqlite3*"))
            print(f"{name:8}: {arguments.tasks} tasks stored in {time.perf_counter() - begun:.1f}"
                  f" s, store {size / 1e6:.0f} MB")
            stores[name] = (data_dir, last)
        for name, (data_dir, task_uuid) in stores.items():
            times = [time_start(data_dir, task_uuid) for _ in range(arguments.starts)]
            print(f"start-up, {name:8} store: median {statistics.median(times):.2f} s "
                  f"(runs: {', '.join(f'{t:.2f}' for t in times)}; target < 2 s)")


if __name__ == "__main__":
    main()
