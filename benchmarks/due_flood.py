"""Load that comes due: ten thousand avatar tasks that all finish at about the same time.

    python benchmarks/due_flood.py [--tasks 10000] [--latency fixed:15] [--connections 4]
                                   [--downloads 20] [--renders lazy]

Starts the emulator (a subprocess on a free port of 127.0.0.1, the bundled fixtures as
inputs), submits ``--tasks`` avatar tasks over a few WebSocket connections (MP4, MOV and WEBM
in turn), and takes each result as it is pushed. Prints:

- lateness: when each task's success arrived, after its due time (sent + the fixed latency;
  the send time is at most the ack's round trip before the server's submit time, so this
  overstates lateness by that much), p50, p99 and max;
- the emulator's CPU seconds per completed task (utime + stime of the server process and of
  its store writer process, from /proc; ffmpeg renders are child processes and not counted),
  for the submits, for the flood coming due, and for both;
- the render backlog (/__admin/health) over time;
- the time to download ``--downloads`` of the videos picked at random, each decoded with the
  bundled ffmpeg and checked to last as long as its voice track;
- how long the server takes to stop on SIGTERM with its backlog.

Targets (issue 17): p99 lateness under 1 s, under 1 ms of CPU per completed task.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import emulator, free_port, wait_for_port

from runware_mock.fixtures import seed_examples, seed_url_map

API_KEY = "bench"
FORMATS = ("MP4", "MOV", "WEBM")
TASKS_PER_FRAME = 25
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Seconds between two samples of the backlog and the CPU.
SAMPLE_EVERY = 0.5
# How much a decoded video's audio may differ from its voice track (one AAC/Opus frame).
DURATION_SLACK = 0.1


@dataclass
class Flood:
    sent: dict[str, float] = field(default_factory=dict)
    done: dict[str, float] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    voices: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, Any] = field(default_factory=dict)
    all_done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    def record(self, item: dict[str, Any]) -> None:
        task_uuid = item.get("taskUUID")
        if task_uuid is None or task_uuid in self.done:
            return
        if item.get("status") == "success" and "videoURL" in item:
            self.done[task_uuid] = time.monotonic()
            self.results[task_uuid] = item
        elif item.get("status") == "error":
            self.done[task_uuid] = time.monotonic()
            self.failed[task_uuid] = item
        if len(self.done) >= self.expected:
            self.all_done.set()


def cpu_seconds(pid: int) -> float:
    """The server process's CPU and its store writer's (ffmpeg renders are not counted)."""
    return sum(_own_cpu_seconds(process) for process in (pid, *_store_writers(pid)))


def _own_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _store_writers(pid: int) -> list[int]:
    children = [int(child) for thread in Path(f"/proc/{pid}/task").iterdir()
                for child in (thread / "children").read_text().split()]
    return [child for child in children
            if b"runware_mock.store.writer" in _cmdline(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def task_for(index: int) -> dict[str, Any]:
    examples = seed_examples()
    request = dict(examples[index % len(examples)]["request"])
    request["taskUUID"] = str(uuid.UUID(int=random.getrandbits(128), version=4))
    request["outputFormat"] = FORMATS[index % len(FORMATS)]
    return request


async def open_session(url: str) -> ClientConnection:
    connection = await connect(url, max_size=None, open_timeout=30)
    await connection.send(json.dumps([{"taskType": "authentication", "apiKey": API_KEY}]))
    reply = json.loads(await connection.recv())
    if "errors" in reply:
        raise RuntimeError(f"authentication refused: {reply}")
    return connection


async def listen(connection: ClientConnection, flood: Flood, acks: asyncio.Queue[None]) -> None:
    async for message in connection:
        body = json.loads(message)
        for item in body.get("data", []):
            if item.get("status") == "processing" or "status" not in item:
                acks.put_nowait(None)  # one ack per task submitted
            flood.record(item)
        for problem in body.get("errors", []):
            if problem.get("taskUUID") in flood.sent:
                flood.done[problem["taskUUID"]] = time.monotonic()
                flood.failed[problem["taskUUID"]] = problem
                acks.put_nowait(None)


async def submit(connection: ClientConnection, flood: Flood, acks: asyncio.Queue[None],
                 indexes: range) -> None:
    """Frames of TASKS_PER_FRAME tasks, each sent once the previous frame is acknowledged."""
    batch: list[dict[str, Any]] = []
    for index in indexes:
        batch.append(task_for(index))
        if len(batch) == TASKS_PER_FRAME or index == indexes[-1]:
            now = time.monotonic()
            for task in batch:
                flood.sent[task["taskUUID"]] = now
                flood.voices[task["taskUUID"]] = voice_of(task)
            await connection.send(json.dumps(batch))
            for _ in batch:
                await acks.get()
            batch = []


async def sample(base_url: str, pid: int, started: float, samples: list[dict[str, Any]],
                 stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        while not stop.is_set():
            health = (await client.get(f"{base_url}/__admin/health")).json()
            renders = health.get("renders", {})
            samples.append({"t": time.monotonic() - started, "cpu": cpu_seconds(pid),
                            "processing": health["processing"], **renders})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SAMPLE_EVERY)


async def flood_server(base_url: str, pid: int, args: argparse.Namespace,
                       started: float) -> dict[str, Any]:
    flood = Flood(expected=args.tasks)
    ws_url = base_url.replace("http://", "ws://") + "/v1"
    connections = [await open_session(ws_url) for _ in range(args.connections)]
    queues: list[asyncio.Queue[None]] = [asyncio.Queue() for _ in connections]
    pairs = list(zip(connections, queues, strict=True))
    listeners = [asyncio.create_task(listen(c, flood, q)) for c, q in pairs]
    cpu_start = cpu_seconds(pid)
    share = -(-args.tasks // args.connections)
    await asyncio.gather(*(
        submit(c, flood, q, range(i * share, min(args.tasks, (i + 1) * share)))
        for i, (c, q) in enumerate(pairs)))
    submitted_in = time.monotonic() - started
    cpu_submitted = cpu_seconds(pid)
    await asyncio.wait_for(flood.all_done.wait(), args.latency_seconds + 600)
    cpu_done = cpu_seconds(pid)
    for connection in connections:
        await connection.close()
    for listener in listeners:
        listener.cancel()
    return {"flood": flood, "submitted_in": submitted_in,
            "cpu": (cpu_start, cpu_submitted, cpu_done)}


async def run_all(base_url: str, server: subprocess.Popen[bytes], args: argparse.Namespace,
                  folder: Path) -> None:
    """The flood, the downloads, then SIGTERM while renders run: sampled all along."""
    samples: list[dict[str, Any]] = []
    stop = asyncio.Event()
    started = time.monotonic()
    sampler = asyncio.create_task(sample(base_url, server.pid, started, samples, stop))
    run = await flood_server(base_url, server.pid, args, started)
    flood: Flood = run["flood"]
    report_flood(run, args)
    remaining = sorted(flood.results)
    random.shuffle(remaining)
    picked, rest = remaining[:args.downloads], remaining[args.downloads:]
    print(f"\n{len(picked)} downloads from t={time.monotonic() - started:.1f} s")
    report_downloads(await downloads([(flood.voices[u], flood.results[u]) for u in picked],
                                     folder))
    held = [asyncio.create_task(_fetch_quietly(flood.results[u]["videoURL"]))
            for u in rest[:args.downloads * 5]]
    seen = len(samples)
    while len(samples) == seen or samples[-1].get("queued", 0) == 0:
        if all(job.done() for job in held):
            break
        await asyncio.sleep(0.1)
    backlog = samples[-1]
    stop.set()
    await sampler
    print_backlog(samples)
    seconds = await asyncio.to_thread(stop_seconds, server)
    print(f"\nSIGTERM with {backlog.get('running', 0)} renders running, "
          f"{backlog.get('queued', 0)} queued and {backlog.get('pendingFiles', 0)} files never "
          f"made: stopped in {seconds:.2f} s (exit code {server.returncode})")
    await asyncio.gather(*held)


async def _fetch_quietly(url: str) -> None:
    """A download the server's shutdown cuts short."""
    with contextlib.suppress(httpx.HTTPError):
        async with httpx.AsyncClient(timeout=120) as client:
            await client.get(url)


def lateness(flood: Flood, latency: float) -> list[float]:
    return sorted(flood.done[u] - (flood.sent[u] + latency) for u in flood.results)


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(fraction * len(values)))]


async def download(client: httpx.AsyncClient, url: str, folder: Path) -> tuple[float, Path]:
    started = time.monotonic()
    response = await client.get(url)
    response.raise_for_status()
    elapsed = time.monotonic() - started
    path = folder / url.rsplit("/", 1)[1]
    path.write_bytes(response.content)
    return elapsed, path


def decoded_seconds(path: Path) -> float:
    """Seconds of the first audio track, decoded to 48 kHz mono 16-bit samples."""
    run = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path),
                          "-map", "0:a:0", "-ac", "1", "-ar", "48000", "-f", "s16le", "-"],
                         capture_output=True, check=True)
    return len(run.stdout) / 2 / 48000


def voice_of(task: dict[str, Any]) -> Path:
    prefix, folder = seed_url_map()
    return Path(folder) / task["inputs"]["audio"].removeprefix(prefix)


async def downloads(results: list[tuple[Path, dict[str, Any]]],
                    folder: Path) -> list[tuple[float, float, float]]:
    """(seconds to download, decoded seconds, voice seconds) of each video, all at once."""
    async with httpx.AsyncClient(timeout=600) as client:
        fetched = await asyncio.gather(*(download(client, item["videoURL"], folder)
                                         for _, item in results))
    return [(elapsed, decoded_seconds(path), decoded_seconds(voice))
            for (elapsed, path), (voice, _) in zip(fetched, results, strict=True)]


def stop_seconds(server: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=120)
    return time.monotonic() - started


def print_backlog(samples: list[dict[str, Any]]) -> None:
    print("\nrender backlog and CPU over time (t from the first submit):")
    print("      t   processing  queued  running  made  pendingFiles  cpu s")
    for row in samples[::max(1, len(samples) // 30)]:
        print(f"  {row['t']:5.1f}  {row['processing']:11d}  {row.get('queued', 0):6d}  "
              f"{row.get('running', 0):7d}  {row.get('made', 0):4d}  "
              f"{row.get('pendingFiles', 0):12d}  {row['cpu']:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--latency", default="fixed:15")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--downloads", type=int, default=20)
    parser.add_argument("--renders", default="lazy", choices=("lazy", "eager"))
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    args.latency_seconds = float(args.latency.removeprefix("fixed:"))
    random.seed(args.seed)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="due-flood-") as folder:
        command = emulator(port, str(Path(folder) / "data"), "--latency", args.latency,
                           "--seed", str(args.seed), "--renders", args.renders,
                           "--task-retention", "3600")
        with (Path(folder) / "server.log").open("wb") as log:
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_for_port(port)
            asyncio.run(run_all(base_url, server, args, Path(folder)))
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def report_flood(run: dict[str, Any], args: argparse.Namespace) -> None:
    flood: Flood = run["flood"]
    late = lateness(flood, args.latency_seconds)
    cpu_start, cpu_submitted, cpu_done = run["cpu"]
    completed = len(flood.results)
    print(f"{args.tasks} avatar tasks ({', '.join(FORMATS)}), --latency {args.latency}, "
          f"--renders {args.renders}, {args.connections} WebSocket connections")
    print(f"submitted in {run['submitted_in']:.2f} s ({args.tasks / run['submitted_in']:.0f} "
          f"tasks/s); {completed} succeeded, {len(flood.failed)} failed")
    if late:
        print(f"lateness after due (s): p50 {percentile(late, 0.5):.3f}  "
              f"p99 {percentile(late, 0.99):.3f}  max {late[-1]:.3f}  "
              f"(mean {statistics.fmean(late):.3f})")
    per_task = 1000 / max(1, completed)
    submitting, coming_due = cpu_submitted - cpu_start, cpu_done - cpu_submitted
    print(f"emulator CPU per completed task (ms): submit {submitting * per_task:.3f}  "
          f"coming due {coming_due * per_task:.3f}  "
          f"total {(submitting + coming_due) * per_task:.3f}")


def report_downloads(fetched: list[tuple[float, float, float]]) -> None:
    times = sorted(elapsed for elapsed, _, _ in fetched)
    wrong = [(decoded, voice) for _, decoded, voice in fetched
             if abs(decoded - voice) > DURATION_SLACK]
    print(f"{len(fetched)} videos downloaded at once, each made on its first GET: "
          f"fastest {times[0]:.2f} s, median {statistics.median(times):.2f} s, "
          f"slowest (all done) {times[-1]:.2f} s")
    print(f"decoded audio matches the voice track (±{DURATION_SLACK} s): "
          f"{len(fetched) - len(wrong)}/{len(fetched)}" + (f"  mismatches: {wrong}" if wrong
                                                           else ""))


if __name__ == "__main__":
    main()
