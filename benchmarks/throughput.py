"""REST throughput of the emulator against a bare Starlette endpoint, side by side in one run.

    python benchmarks/throughput.py [--seconds 5] [--connections 16]

Prints requests/second of: a bare Starlette endpoint returning a fixed JSON body; getResponse
on a finished task; a valid videoInference submit; and the ratios. Targets: getResponse >= 0.5
of the bare endpoint, submit >= 0.3.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import emulator, fixed, free_port, measure, process

from fixtures import seed_examples

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
BODY = {"data": [{"taskType": "ping", "pong": True}]}
async def endpoint(request):
    await request.body()
    return JSONResponse(BODY)
app = Starlette(routes=[Route("/v1", endpoint, methods=["POST"])])
"""


def bare_server(port: int, folder: Path) -> list[str]:
    (folder / "bare_app.py").write_text(BARE_APP)
    return [sys.executable, "-m", "uvicorn", "--app-dir", str(folder), "bare_app:app",
            "--port", str(port), "--log-level", "warning"]


def submit_body(sequence: int) -> bytes:
    task = dict(seed_examples()[0]["request"])
    task["taskUUID"] = str(uuid.UUID(int=sequence + 1, version=4))
    return json.dumps([task]).encode()


def finished_task(url: str) -> str:
    task = dict(seed_examples()[0]["request"], taskUUID=str(uuid.uuid4()))
    headers = {"Authorization": "Bearer bench"}
    httpx.post(url, json=[task], headers=headers).raise_for_status()
    for _ in range(600):
        body = httpx.post(url, json=[{"taskType": "getResponse", "taskUUID": task["taskUUID"]}],
                          headers=headers).json()
        if body["data"][0]["status"] == "success":
            return task["taskUUID"]
        time.sleep(0.1)
    raise RuntimeError("the warm-up task did not finish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        bare_port, mock_port = free_port(), free_port()
        with process(bare_server(bare_port, folder), bare_port):
            bare = measure(bare_port, fixed([{"taskType": "ping", "ping": True}]),
                           seconds=arguments.seconds, connections=arguments.connections)
        # realistic latency: submitted tasks stay pending (their renders are queued at low
        # priority), as they would be while a client floods the API.
        with process(emulator(mock_port, str(folder / "data"), "--latency", "instant"),
                     mock_port):
            task_uuid = finished_task(f"http://127.0.0.1:{mock_port}/v1")
            poll = measure(mock_port, fixed([{"taskType": "getResponse", "taskUUID": task_uuid}]),
                           seconds=arguments.seconds, connections=arguments.connections)
        with process(emulator(mock_port, str(folder / "data2"), "--latency", "realistic"),
                     mock_port):
            submit = measure(mock_port, submit_body, seconds=arguments.seconds,
                             connections=arguments.connections)
    print(f"bare Starlette endpoint : {bare:8.0f} req/s")
    print(f"getResponse (finished)  : {poll:8.0f} req/s  ratio {poll / bare:.2f} (target >= 0.5)")
    print(f"videoInference submit   : {submit:8.0f} req/s  ratio {submit / bare:.2f} "
          "(target >= 0.3)")


if __name__ == "__main__":
    main()
