"""REST throughput of the emulator against a bare Starlette endpoint, side by side in one run.

    python benchmarks/throughput.py [--seconds 2] [--rounds 5] [--connections 16]

Prints requests/second of: a bare Starlette endpoint (one uvicorn worker, and two: what a
second process adds at best on this machine) answering every request with the same bytes the
emulator's getResponse answers; getResponse on a finished task;
a valid videoInference submit; each on an emulator with its durable store (acks wait for the
commit), on one run with ``--ephemeral`` (acks do not wait) and on one with ``--workers 2``;
and WireMock answering the same bytes (``--no-request-journal --async-response-enabled``),
when Java and its jar are here (``python benchmarks/_tools.py`` installs them). Load comes
from wrk when installed (C: it leaves the cores to the servers), else from Python.

Targets (ratios to the bare endpoint): getResponse >= 0.5 and submit >= 0.3 on one worker,
the durable ratios at most 15 % below the ephemeral ones; with ``--workers 2``, getResponse
>= 1.9 and at least WireMock's, submit >= 1.0. The servers run side by side and are measured
in interleaved rounds, so a burst of load from elsewhere on the machine hits one round of all
of them rather than one; the ratios are the medians of the rounds' ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import emulator, free_port, measure, process
from _tools import wiremock_command, wrk

from runware_mock.fixtures import seed_examples

BARE_APP = """
import pathlib
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
BODY = pathlib.Path(__file__).with_name("reply.json").read_bytes()
async def endpoint(request):
    await request.body()
    return Response(BODY, media_type="application/json")
app = Starlette(routes=[Route("/v1", endpoint, methods=["POST"])])
"""


def bare_server(port: int, folder: Path, reply: bytes, workers: int = 1) -> list[str]:
    (folder / "bare_app.py").write_text(BARE_APP)
    (folder / "reply.json").write_bytes(reply)
    return [sys.executable, "-m", "uvicorn", "--app-dir", str(folder), "bare_app:app",
            "--port", str(port), "--log-level", "warning", "--workers", str(workers)]


_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"
# The emulators: the durable store, --ephemeral, and --workers 2 on a durable store.
SETUPS: dict[str, tuple[str, ...]] = {"durable": (), "ephemeral": (),
                                      "workers2": ("--workers", "2")}


@dataclass(frozen=True)
class Load:
    port: int
    body: bytes
    # Where the body's taskUUID is, to be new in every request (a submit); None: fixed.
    uuid_at: int | None = None

    def body_of(self, sequence: int) -> bytes:
        """The body with a new taskUUID spliced in: the load generator shares the machine's
        two cores with the servers, and every microsecond it spends is one they do not get."""
        if self.uuid_at is None:
            return self.body
        fresh = str(uuid.UUID(int=sequence + 1, version=4)).encode()
        return self.body[:self.uuid_at] + fresh + self.body[self.uuid_at + 36:]


@functools.cache
def submit_template() -> tuple[bytes, int]:
    """The first seed example as a body, and where its taskUUID is."""
    task = dict(seed_examples()[0]["request"], taskUUID=_PLACEHOLDER)
    body = json.dumps([task]).encode()
    return body, body.index(_PLACEHOLDER.encode())


def finished_task(url: str) -> tuple[str, bytes]:
    """A finished task's UUID, and the reply getResponse gives for it."""
    task = dict(seed_examples()[0]["request"], taskUUID=str(uuid.uuid4()))
    headers = {"Authorization": "Bearer bench"}
    httpx.post(url, json=[task], headers=headers).raise_for_status()
    for _ in range(600):
        reply = httpx.post(url, json=[{"taskType": "getResponse", "taskUUID": task["taskUUID"]}],
                           headers=headers)
        if reply.json()["data"][0]["status"] == "success":
            return task["taskUUID"], reply.content
        time.sleep(0.1)
    raise RuntimeError("the warm-up task did not finish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    arguments = parser.parse_args()
    print(f"load from {'wrk' if shutil.which('wrk') else 'Python'}, "
          f"{arguments.connections} connections")
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as servers:
        folder = Path(scratch)
        loads: dict[str, Load] = {}
        reply = b""
        submit, uuid_at = submit_template()
        for setup, flags in SETUPS.items():
            data_dir = None if setup == "ephemeral" else str(folder / setup)
            poll_port, submit_port = free_port(), free_port()
            # realistic latency for submits: tasks stay pending, as they would while a
            # client floods the API.
            servers.enter_context(process(emulator(poll_port, data_dir and f"{data_dir}-poll",
                                                   "--latency", "instant", *flags), poll_port))
            servers.enter_context(process(emulator(submit_port, data_dir and f"{data_dir}-submit",
                                                   "--latency", "realistic", *flags),
                                          submit_port))
            task_uuid, reply = finished_task(f"http://127.0.0.1:{poll_port}/v1")
            poll = json.dumps([{"taskType": "getResponse", "taskUUID": task_uuid}]).encode()
            loads[f"poll {setup}"] = Load(poll_port, poll)
            loads[f"submit {setup}"] = Load(submit_port, submit, uuid_at)
        bare_port, bare2_port = free_port(), free_port()
        servers.enter_context(process(bare_server(bare_port, folder, reply), bare_port))
        servers.enter_context(process(bare_server(bare2_port, folder, reply, workers=2),
                                      bare2_port))
        loads = {"bare": Load(bare_port, poll), "bare2": Load(bare2_port, poll), **loads}
        wiremock_port = free_port()
        command = wiremock_command(wiremock_port, folder / "wiremock", reply)
        # The Python load generator reads Content-Length replies only; WireMock's are chunked.
        if command is not None and shutil.which("wrk"):
            servers.enter_context(process(command, wiremock_port, timeout=120))
            loads["wiremock"] = Load(wiremock_port, poll)
            warm_up(loads["wiremock"], arguments)
        else:
            print("WireMock: not measured (it needs Java, its jar and wrk: "
                  "python benchmarks/_tools.py)")
        rounds = [measure_round(loads, arguments) for _ in range(arguments.rounds)]
    report(rounds)


def warm_up(load: Load, arguments: argparse.Namespace, seconds: float = 30.0) -> None:
    """Load a server a while unmeasured: the JVM compiles WireMock's hot paths as it runs, and
    a long-running server is measured compiled."""
    rate(load, seconds, arguments.connections)


def measure_round(loads: dict[str, Load], arguments: argparse.Namespace) -> dict[str, float]:
    """One measurement of each load, back to back, so they share the machine's state; the
    submit loads number their tasks on from the previous rounds."""
    return {name: rate(load, arguments.seconds, arguments.connections)
            for name, load in loads.items()}


def rate(load: Load, seconds: float, connections: int) -> float:
    """Requests per second under wrk, or under the Python load generator without it."""
    found = wrk(load.port, load.body, seconds, connections, uuid_at=load.uuid_at)
    if found is not None:
        return found
    first = next(_submitted)
    return measure(load.port, lambda n: load.body_of(first + n), seconds=seconds,
                   connections=connections)


_submitted = itertools.count(0, 1_000_000_000)  # measure() numbers 16 workers 10**7 apart


def report(rounds: list[dict[str, float]]) -> None:
    """Each round's figures, then the medians; the ratios are medians of per-round ratios."""
    for number, figures in enumerate(rounds, 1):
        print(f"round {number}: " + "  ".join(f"{name} {value:7.0f}"
                                              for name, value in figures.items()) + " req/s")

    def ratio(name: str, to: str = "bare") -> float:
        return statistics.median(figures[name] / figures[to] for figures in rounds)

    def median(name: str) -> float:
        return statistics.median(figures[name] for figures in rounds)

    print(f"bare Starlette endpoint : {median('bare'):8.0f} req/s (median)")
    # What a second process adds at best here: the load generator shares the two cores.
    scaling = ratio("bare2")
    print(f"bare endpoint, 2 workers: {median('bare2'):8.0f} req/s  ratio {scaling:.2f}")
    if "wiremock" in rounds[0]:
        print(f"WireMock                : {median('wiremock'):8.0f} req/s  "
              f"ratio {ratio('wiremock'):.2f}")
    targets = {"poll": {"durable": 0.5, "ephemeral": 0.5, "workers2": 1.9},
               "submit": {"durable": 0.3, "ephemeral": 0.3, "workers2": 1.0}}
    for load, title in (("poll", "getResponse (finished)"), ("submit", "videoInference submit ")):
        for setup, target in targets[load].items():
            name = f"{load} {setup}"
            print(f"{title} {setup:9}: {median(name):8.0f} req/s  ratio {ratio(name):.2f} "
                  f"(target >= {target})")
        kept = ratio(f"{load} durable") / ratio(f"{load} ephemeral")
        print(f"{title} durable / ephemeral: {kept:.2f} (target >= 0.85)")
        print(f"{title} workers2 / durable : {ratio(f'{load} workers2', f'{load} durable'):.2f}"
              f" (the bare endpoint's: {scaling:.2f})")
    if "wiremock" in rounds[0]:
        print(f"getResponse workers2 / WireMock: {ratio('poll workers2', 'wiremock'):.2f} "
              "(target >= 1.0)")


if __name__ == "__main__":
    main()
