"""The disk-full probe: a real emulator whose data dir's file system fills up mid-load.

    python benchmarks/_disk_full.py [--workers 1] [--seed 27]

The data dir is on a small tmpfs of its own (``mount -t tmpfs``: root, or a machine that
allows it; elsewhere the probe prints why it cannot run and counts nothing). Clients submit
imageInference tasks (over REST and a WebSocket), upload images and download results, all
the time, while a ballast file
fills the tmpfs to the last byte; once refusals are seen the ballast goes, every refused
taskUUID is sent again, and the server is killed (SIGKILL) and started again on the same data
dir. Counted, by kind (every count should be 0):

- ``5xx``: an answer with a 5xx status but 503, or a 503 without ``Retry-After`` or not
  Runware-shaped (``{"errors": [{"code": "serviceUnavailable", ...}]}``);
- ``drops``: a connection closed or reset under a request;
- ``hangs``: a request with no answer within ``TIMEOUT`` seconds;
- ``lost tasks``: an acknowledged task (or upload) that the restarted server does not know;
- ``inconsistent tasks``: a refused task that exists anyway (polls, or its taskUUID is taken
  when sent again), an answer that is neither an ack nor a refusal, or a task whose result
  changed across the restart.

``benchmarks/campaign.py`` calls ``disk_full_counts``; tests/test_disk_full.py asserts on
``run_disk_full``'s details.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import io
import json
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as websocket_connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Below the ephemeral range: a client connecting while the server restarts is never given it.
from tests.server_process import free_port

KINDS = ("5xx", "drops", "hangs", "lost tasks", "inconsistent tasks")
API_KEY = "disk-full-probe"
# Room enough for the store and a few renders, small enough to fill in a moment.
TMPFS_BYTES = 24 * 1024 * 1024
# Seconds a request may take before it counts as a hang (a download renders first).
TIMEOUT = 30.0
# Refused submits to see before the room comes back, and the most seconds to wait for them.
REFUSALS_WANTED = 20
FULL_SECONDS = 60.0
CLIENTS = 3


@dataclasses.dataclass
class DiskFullRun:
    """What one probe saw: the counts by kind, and the details a test asserts on."""

    counts: Counter[str] = dataclasses.field(default_factory=Counter)
    # Answers by method and status ("POST 200", "GET 503").
    statuses: Counter[str] = dataclasses.field(default_factory=Counter)
    acknowledged: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    refused: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    uploads: list[str] = dataclasses.field(default_factory=list)
    accepted_again: int = 0
    # Tasks acknowledged and refused over the WebSocket.
    websocket: Counter[str] = dataclasses.field(default_factory=Counter)
    health_while_full: dict[str, Any] | None = None
    health_after: dict[str, Any] | None = None
    # Whether the dashboard showed its "store not writable" banner, while full and after.
    banner_while_full: bool | None = None
    banner_after: bool | None = None
    notes: list[str] = dataclasses.field(default_factory=list)

    def count(self, kind: str, note: str) -> None:
        self.counts[kind] += 1
        if len(self.notes) < 20:
            self.notes.append(f"{kind}: {note}")

    def result(self) -> dict[str, int]:
        return {kind: self.counts[kind] for kind in KINDS}


def disk_full_counts(workers: int, seed: int) -> dict[str, int]:
    """The probe's counts by kind (``KINDS``); an empty dict, with the reason printed, where
    a tmpfs cannot be mounted."""
    problem = mount_problem()
    if problem is not None:
        print(f"disk-full probe skipped: {problem}", file=sys.stderr)
        return {}
    return run_disk_full(workers, seed).result()


def mount_problem() -> str | None:
    """Why a tmpfs cannot be mounted here, or None."""
    try:
        with small_tmpfs(1024 * 1024):
            return None
    except (OSError, subprocess.CalledProcessError, RuntimeError) as exc:
        return f"cannot mount a tmpfs for the data dir ({exc})"


@contextlib.contextmanager
def small_tmpfs(size: int) -> Iterator[Path]:
    """A tmpfs of ``size`` bytes mounted on a new temporary dir, unmounted after."""
    mount = Path(tempfile.mkdtemp(prefix="rwm-disk-full-"))
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                               str(mount)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip() or f"mount exited with {done.returncode}")
        try:
            yield mount
        finally:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)
    finally:
        with contextlib.suppress(OSError):
            mount.rmdir()


def run_disk_full(workers: int, seed: int) -> DiskFullRun:
    run = DiskFullRun()
    with small_tmpfs(TMPFS_BYTES) as mount, tempfile.TemporaryDirectory() as logs:
        server = _Server(mount / "data", Path(logs) / "server.log", workers, seed)
        try:
            server.start()
            _probe(server, run, random.Random(seed))
        finally:
            server.stop()
        if any(run.counts.values()):
            run.notes.append("server log tail: " + server.log.read_text(errors="replace")[-2000:])
    return run


def _probe(server: _Server, run: DiskFullRun, rng: random.Random) -> None:
    ballast = server.data_dir.parent / "ballast"
    load = _Load(server, run, rng)
    load.start()
    try:
        load.wait_for(lambda: len(run.acknowledged) >= 40, "the first acks")
        _fill(ballast)
        load.wait_for(lambda: len(run.refused) >= REFUSALS_WANTED, "refusals",
                      FULL_SECONDS, required=False)
        run.health_while_full = server.health()
        run.banner_while_full = server.banner()
        for task_uuid in list(run.refused):  # nothing refused exists, while the disk is full
            _check_unknown(server, run, task_uuid)
        ballast.unlink()
        run.health_after = server.health()
        run.banner_after = server.banner()
        load.room_is_back()
        load.wait_for(lambda: load.acks_after_room >= 20, "acks once there is room")
    finally:
        load.stop()
    for task_uuid, task in list(run.refused.items()):  # nor once there is room
        _check_unknown(server, run, task_uuid)
        _send_again(server, run, task_uuid, task)
    before = _results(server, run)
    server.restart()
    after = _results(server, run)
    for task_uuid in run.acknowledged:
        result = before.get(task_uuid)
        if result is None or task_uuid not in after:
            run.count("lost tasks", f"{task_uuid}, acknowledged, is unknown (or never "
                      f"finished) {'before' if result is None else 'after'} the restart")
        elif after[task_uuid] != result:
            run.count("inconsistent tasks", f"{task_uuid} changed across the restart: "
                      f"{result} then {after[task_uuid]}")
    for url in run.uploads:
        answer = server.request("GET", url, run)
        if answer is not None and answer.status_code != 200:
            run.count("lost tasks", f"the upload {url} answers {answer.status_code} after the "
                      "restart")


def _fill(ballast: Path) -> None:
    """Write until the file system has no byte left (big chunks, then small ones)."""
    with ballast.open("wb", buffering=0) as out:
        for chunk in (1024 * 1024, 64 * 1024, 4096, 512):
            block = b"\0" * chunk
            with contextlib.suppress(OSError):
                while True:
                    out.write(block)


def _check_unknown(server: _Server, run: DiskFullRun, task_uuid: str) -> None:
    answer = server.post([{"taskType": "getResponse", "taskUUID": task_uuid}], run)
    if answer is None:
        return
    codes = [problem.get("code") for problem in answer.json().get("errors", [])]
    if answer.status_code != 404 or codes != ["taskNotFound"]:
        run.count("inconsistent tasks", f"the refused {task_uuid} polls as "
                  f"{answer.status_code} {answer.text[:200]}")


def _send_again(server: _Server, run: DiskFullRun, task_uuid: str,
                task: dict[str, Any]) -> None:
    answer = server.post([task], run)
    if answer is None:
        return
    if answer.status_code == 200 and [item.get("taskUUID") for item in
                                      answer.json().get("data", [])] == [task_uuid]:
        run.acknowledged[task_uuid] = run.refused.pop(task_uuid)
        run.accepted_again += 1
    else:
        run.count("inconsistent tasks", f"the refused {task_uuid} sent again once there is "
                  f"room: {answer.status_code} {answer.text[:200]}")


def _results(server: _Server, run: DiskFullRun) -> dict[str, list[Any]]:
    """Each acknowledged task's result once finished (its data, or its errors)."""
    results: dict[str, list[Any]] = {}
    deadline = time.monotonic() + 120
    pending = list(run.acknowledged)
    while pending and time.monotonic() < deadline:
        still: list[str] = []
        for start in range(0, len(pending), 50):
            chunk = pending[start:start + 50]
            answer = server.post([{"taskType": "getResponse", "taskUUID": task_uuid}
                                  for task_uuid in chunk], run)
            if answer is None:
                still += chunk
                continue
            body = answer.json()
            for item in body.get("data", []):
                if item.get("status") == "processing":
                    still.append(item["taskUUID"])
                else:
                    results.setdefault(item["taskUUID"], []).append(item)
            for problem in body.get("errors", []):
                if problem.get("code") != "taskNotFound":
                    results.setdefault(problem.get("taskUUID"), []).append(problem)
        pending = sorted(set(still))
        if pending:
            time.sleep(0.1)
    return results


class _Load:
    """Clients submitting, uploading and downloading until stopped."""

    def __init__(self, server: _Server, run: DiskFullRun, rng: random.Random) -> None:
        self._server, self._run = server, run
        self._seeds = [rng.getrandbits(64) for _ in range(CLIENTS)]
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._threads = [threading.Thread(target=self._client, args=(seed,), daemon=True)
                         for seed in self._seeds]
        self._threads.append(threading.Thread(target=self._websocket_client,
                                              args=(rng.getrandbits(64),), daemon=True))
        self._room_back = False
        self.acks_after_room = 0

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=TIMEOUT + 10)

    def wait_for(self, condition: Any, what: str, seconds: float = 120.0,
                 required: bool = True) -> None:
        deadline = time.monotonic() + seconds
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    if required:
                        raise RuntimeError(f"the disk-full probe saw no {what} in {seconds} s")
                    return
                self._changed.wait(left)

    def room_is_back(self) -> None:
        with self._changed:
            self._room_back = True

    def _client(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self._stopping.is_set():
            roll = rng.random()
            if roll < 0.15:
                self._upload(rng)
            elif roll < 0.3:
                self._download(rng)
            else:
                self._submit(rng)

    def _submit(self, rng: random.Random) -> None:
        tasks = [_image_task(rng) for _ in range(rng.randint(1, 8))]
        answer = self._server.post(tasks, self._run)
        if answer is None:
            return
        sent = {task["taskUUID"]: task for task in tasks}
        self._answered(sent, answer.json())
        for task_uuid in sent:
            self._run.count("inconsistent tasks", f"{task_uuid} neither acknowledged nor "
                            f"refused: {answer.status_code} {answer.text[:200]}")

    def _answered(self, sent: dict[str, dict[str, Any]], body: dict[str, Any]) -> None:
        """Acks and refusals of ``sent`` in ``body``, taken out of ``sent``."""
        with self._changed:
            for item in body.get("data", []):
                task_uuid = item.get("taskUUID")
                if task_uuid in sent and "imageURL" not in item:  # an ack, not a pushed result
                    self._run.acknowledged[task_uuid] = sent.pop(task_uuid)
                    self.acks_after_room += self._room_back
            for problem in body.get("errors", []):
                task_uuid = problem.get("taskUUID")
                if task_uuid in sent and problem.get("code") == "serviceUnavailable":
                    self._run.refused[task_uuid] = sent.pop(task_uuid)
            self._changed.notify_all()

    def _websocket_client(self, seed: int) -> None:
        """Submits over one authenticated WebSocket: a refusal is an error frame there."""
        rng = random.Random(seed)
        url = self._server.base_url.replace("http", "ws", 1) + "/v1"
        try:
            with websocket_connect(url, max_size=None, open_timeout=TIMEOUT) as socket:
                socket.send(json.dumps([{"taskType": "authentication", "apiKey": API_KEY}]))
                socket.recv(TIMEOUT)
                while not self._stopping.is_set():
                    tasks = [_image_task(rng) for _ in range(rng.randint(1, 4))]
                    sent = {task["taskUUID"]: task for task in tasks}
                    socket.send(json.dumps(tasks))
                    while sent:
                        body = json.loads(socket.recv(TIMEOUT))
                        if any("taskUUID" not in problem for problem in body.get("errors", [])):
                            self._run.count("inconsistent tasks", f"a frame: {body}")
                            return
                        before = len(sent)
                        self._answered(sent, body)
                        for problem in body.get("errors", []):
                            self._run.websocket["refused"] += (
                                problem.get("code") == "serviceUnavailable")
                        self._run.websocket["answered"] += before - len(sent)
        except TimeoutError:
            self._run.count("hangs", "a WebSocket frame got no answer")
        except (OSError, ConnectionClosed) as exc:
            self._run.count("drops", f"the WebSocket: {exc!r}")

    def _upload(self, rng: random.Random) -> None:
        task = {"taskType": "imageUpload", "taskUUID": str(_uuid(rng)),
                "image": _png_data_uri(rng)}
        answer = self._server.post([task], self._run)
        if answer is not None and answer.status_code == 200:
            with self._changed:
                self._run.uploads.append(answer.json()["data"][0]["imageURL"])

    def _download(self, rng: random.Random) -> None:
        with self._changed:
            acknowledged = list(self._run.acknowledged)
        if not acknowledged:
            return
        task_uuid = rng.choice(acknowledged)
        answer = self._server.post([{"taskType": "getResponse", "taskUUID": task_uuid}],
                                   self._run)
        if answer is None:
            return
        for item in answer.json().get("data", []):
            if item.get("imageURL"):
                self._server.request("GET", item["imageURL"], self._run)


def _image_task(rng: random.Random) -> dict[str, Any]:
    return {"taskType": "imageInference", "taskUUID": str(_uuid(rng)), "model": "runware:400@2",
            "positivePrompt": f"a lighthouse {rng.randrange(10**6)}", "width": 512,
            "height": 512, "deliveryMethod": "async"}


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _png_data_uri(rng: random.Random) -> str:
    picture = Image.new("RGB", (320, 320), tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


class _Server:
    """``runware-mock serve`` on a fixed port and data dir, killed and started again."""

    def __init__(self, data_dir: Path, log: Path, workers: int, seed: int) -> None:
        self.data_dir, self.log = data_dir, log
        self.port = free_port()
        self._command = [sys.executable, "-m", "runware_mock", "serve", "--port",
                         str(self.port), "--data-dir", str(data_dir), "--api-key", API_KEY,
                         "--latency", "instant", "--seed", str(seed), "--workers",
                         str(workers)]
        self._process: subprocess.Popen[bytes] | None = None
        self._http = httpx.Client(timeout=TIMEOUT,
                                  headers={"Authorization": f"Bearer {API_KEY}"})
        self.base_url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(self._command, stdout=log,
                                             stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/__admin/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def restart(self) -> None:
        self._kill(signal.SIGKILL)
        self.start()

    def stop(self) -> None:
        self._kill(signal.SIGTERM)
        self._http.close()

    def _kill(self, how: signal.Signals) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(how)
            try:
                self._process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def health(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.base_url}/__health", timeout=TIMEOUT)
        return {"http": answer.status_code, **answer.json()}

    def banner(self) -> bool:
        """Whether the dashboard's page shows its "store not writable" banner."""
        page = httpx.get(f"{self.base_url}/__admin/ui/", timeout=TIMEOUT).text
        start = page.find('id="store-problem"')
        return start >= 0 and "hidden" not in page[start:page.index(">", start)]

    def post(self, tasks: list[dict[str, Any]], run: DiskFullRun) -> httpx.Response | None:
        return self.request("POST", f"{self.base_url}/v1", run, json=tasks)

    def request(self, method: str, url: str, run: DiskFullRun,
                **kwargs: Any) -> httpx.Response | None:
        """The answer, counted by status (a bad one counted by kind); None when none came."""
        try:
            answer = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            run.count("hangs", f"{method} {url}")
            return None
        except httpx.TransportError as exc:
            run.count("drops", f"{method} {url}: {exc!r}")
            return None
        run.statuses[f"{method} {answer.status_code}"] += 1
        if answer.status_code >= 500 and not _refusal(answer):
            run.count("5xx", f"{method} {url}: {answer.status_code} {answer.headers} "
                      f"{answer.text[:300]}")
        return answer


def _refusal(answer: httpx.Response) -> bool:
    """A Runware-shaped 503 that says when to come back."""
    if answer.status_code != 503 or not answer.headers.get("retry-after", "").isdigit():
        return False
    try:
        codes = {problem.get("code") for problem in answer.json()["errors"]}
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return codes == {"serviceUnavailable"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--seed", type=int, default=27)
    args = parser.parse_args()
    problem = mount_problem()
    if problem is not None:
        print(f"disk-full probe skipped: {problem}")
        return 0
    for workers in args.workers:
        started = time.monotonic()
        run = run_disk_full(workers, args.seed)
        counts = ", ".join(f"{kind} {count}" for kind, count in run.result().items())
        print(f"{workers} worker(s), seed {args.seed}: {counts} | acknowledged "
              f"{len(run.acknowledged)}, refused then accepted {run.accepted_again}, uploads "
              f"{len(run.uploads)}, over the WebSocket {dict(run.websocket)} | statuses "
              f"{dict(sorted(run.statuses.items()))} | {time.monotonic() - started:.0f} s")
        print(f"  health while full: {run.health_while_full}\n  health after: {run.health_after}"
              f"\n  dashboard banner while full: {run.banner_while_full}, after: "
              f"{run.banner_after}")
        for note in run.notes:
            print("  " + note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
