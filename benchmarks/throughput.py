"""REST throughput of the emulator against a bare Starlette endpoint, side by side in one run.

    python benchmarks/throughput.py [--seconds 2] [--rounds 5] [--connections 16]

Prints requests/second of: a bare Starlette endpoint returning a fixed JSON body; getResponse
on a finished task; a valid videoInference submit; each on an emulator with its durable store
(acks wait for the commit) and on one run with ``--ephemeral`` (acks do not wait); and the
ratios. Targets: getResponse >= 0.5 of the bare endpoint, submit >= 0.3, and the durable
ratios at most 15 % below the ephemeral ones. The servers run side by side and are measured in
interleaved rounds, so a burst of load from elsewhere on the machine hits one round of all of
them rather than one; the ratios are the medians of the rounds' ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import MakeBody, emulator, fixed, free_port, measure, process

from runware_mock.fixtures import seed_examples

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


_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"
PING = [{"taskType": "ping", "ping": True}]
STORES = ("durable", "ephemeral")


def submit_body(sequence: int) -> bytes:
    """The first seed example with a new taskUUID: spliced into the encoded body, because the
    load generator shares the machine's two cores with the server, and every microsecond it
    spends is one the server does not get."""
    before, after = _encoded_seed_task()
    return before + str(uuid.UUID(int=sequence + 1, version=4)).encode() + after


@functools.cache
def _encoded_seed_task() -> tuple[bytes, bytes]:
    task = dict(seed_examples()[0]["request"], taskUUID=_PLACEHOLDER)
    before, _, after = json.dumps([task]).encode().partition(_PLACEHOLDER.encode())
    return before, after


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
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as servers:
        folder = Path(scratch)
        bare_port = free_port()
        servers.enter_context(process(bare_server(bare_port, folder), bare_port))
        loads: dict[str, tuple[int, MakeBody]] = {"bare": (bare_port, fixed(PING))}
        for store in STORES:
            data_dir = str(folder / store) if store == "durable" else None
            poll_port, submit_port = free_port(), free_port()
            # realistic latency for submits: tasks stay pending, as they would while a
            # client floods the API.
            servers.enter_context(process(emulator(poll_port, data_dir and f"{data_dir}-poll",
                                                   "--latency", "instant"), poll_port))
            servers.enter_context(process(emulator(submit_port, data_dir and f"{data_dir}-submit",
                                                   "--latency", "realistic"), submit_port))
            task_uuid = finished_task(f"http://127.0.0.1:{poll_port}/v1")
            loads[f"poll {store}"] = (poll_port, fixed([{"taskType": "getResponse",
                                                         "taskUUID": task_uuid}]))
            loads[f"submit {store}"] = (submit_port, submit_body)
        rounds = [measure_round(loads, arguments) for _ in range(arguments.rounds)]
    report(rounds)


def measure_round(loads: dict[str, tuple[int, MakeBody]],
                  arguments: argparse.Namespace) -> dict[str, float]:
    """One measurement of each load, back to back, so they share the machine's state; the
    submit load numbers its tasks on from the previous rounds."""
    figures = {}
    for name, (port, make_body) in loads.items():
        first = next(_submitted) if name.startswith("submit") else 0
        figures[name] = measure(port, lambda n, first=first, make=make_body: make(first + n),
                                seconds=arguments.seconds, connections=arguments.connections)
    return figures


_submitted = itertools.count(0, 1_000_000_000)  # measure() numbers 16 workers 10**7 apart


def report(rounds: list[dict[str, float]]) -> None:
    """Each round's figures, then the medians; the ratios are medians of per-round ratios."""
    for number, figures in enumerate(rounds, 1):
        print(f"round {number}: " + "  ".join(f"{name} {value:7.0f}"
                                              for name, value in figures.items()) + " req/s")

    def ratio(name: str) -> float:
        return statistics.median(figures[name] / figures["bare"] for figures in rounds)

    bare = statistics.median(figures["bare"] for figures in rounds)
    print(f"bare Starlette endpoint : {bare:8.0f} req/s (median)")
    for load, title, target in (("poll", "getResponse (finished)", 0.5),
                                ("submit", "videoInference submit ", 0.3)):
        for store in STORES:
            name = f"{load} {store}"
            median = statistics.median(figures[name] for figures in rounds)
            print(f"{title} {store:9}: {median:8.0f} req/s  ratio {ratio(name):.2f} "
                  f"(target >= {target})")
        kept = ratio(f"{load} durable") / ratio(f"{load} ephemeral")
        print(f"{title} durable / ephemeral: {kept:.2f} (target >= 0.85)")


if __name__ == "__main__":
    main()
