"""The hostile campaign of issue 27, repeatable: probes an emulator as an attacker and an
unlucky operator would, on one worker and on ``--workers 2``, and counts what went wrong.

    python benchmarks/campaign.py [--seed 27] [--workers 1 2] [--rest 300] [--wire 120]
                                  [--tasks 40] [--budget 240]

Everything runs on 127.0.0.1: the emulator under test (a subprocess, ``--latency instant``,
``--header-timeout 2``), a second emulator (the "victim" whose admin API must stay out of
reach), and local receivers. Every choice comes from ``--seed``; each probe waits at most
``--hang-after`` seconds and the whole run stops issuing probes after ``--budget`` seconds.

Probes, and what each counts:

- **REST fuzz** (``tests/fuzz_cases.py``'s hostile bodies over keep-alive connections): an
  answer >= 500 is a *5xx*, a connection closed without an answer a *drop*, no answer in time
  a *hang*.
- **Wire**: heads uvicorn's parser refuses (bare LF, a TLS ClientHello, random bytes, NUL or CR
  in a header value, a space in or a non-ASCII header name) must get one 400; valid requests
  followed by garbage on one connection must get their 200s in order, then the 400 (fewer
  answers: a *drop*); silent and slow-header connections must be closed (not closed: a
  *hang*), and a valid request must still be answered meanwhile.
- **Outbound**: webhooks, uploads and input fetches aimed at admin paths (this emulator's, the
  victim's, a receiver's) in every spelling, through a redirect, and at the leader's private
  port: each one that gets a try, a fetch, or an effect (the victim reset, a receiver hit)
  is a *reachable admin path*. A ``text/plain`` POST from a cross-site page that is accepted
  counts as one too (a page driving the API).
- **Tasks**: tasks submitted throughout with webhooks to a receiver: one acknowledged and then
  not found is *lost*; one whose polled result changes between two polls, or whose webhook
  disagrees with its poll, is *inconsistent*.

With ``benchmarks/_disk_full.py`` present (the full-disk runs), its counts are added.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import importlib
import random
import re
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._load import emulator, free_port, process
from benchmarks.fuzz import draw_bodies
from runware_mock.admin.client import AdminClient
from runware_mock.contract.receivers import Receiver
from tests.helpers import avatar_task

KINDS = ("5xx", "drops", "hangs", "lost tasks", "inconsistent tasks", "reachable admin paths")
KEY = "Bearer campaign"
PING = b'[{"taskType":"ping","ping":true}]'
HEADER_TIMEOUT = 2.0


class Campaign:
    def __init__(self, port: int, workers: int, seed: int, hang_after: float,
                 budget: float) -> None:
        self.port = port
        self.workers = workers
        self.rng = random.Random(seed)
        self.hang_after = hang_after
        self.deadline = time.monotonic() + budget
        self.counts: Counter[str] = Counter({kind: 0 for kind in KINDS})
        self.probes = 0
        self.base = f"http://127.0.0.1:{port}"

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    # --- plumbing
    def connect(self) -> socket.socket:
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=self.hang_after)
        connection.settimeout(self.hang_after)
        return connection

    def exchange(self, data: bytes) -> tuple[list[int], str]:
        """Statuses answered to ``data`` on a new connection, and how it ended: "closed",
        "hang" (no close in time) or "reset"."""
        received = b""
        with self.connect() as connection:
            connection.sendall(data)
            ending = "closed"
            while True:
                try:
                    chunk = connection.recv(65536)
                except TimeoutError:
                    ending = "hang"
                    break
                except ConnectionResetError:
                    ending = "reset"
                    break
                if not chunk:
                    break
                received += chunk
        return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", received)], ending

    def judge(self, statuses: list[int], ending: str, expected: list[int]) -> None:
        self.probes += 1
        self.counts["5xx"] += sum(status >= 500 for status in statuses)
        if ending == "hang":
            self.counts["hangs"] += 1
        elif statuses != expected:
            self.counts["drops"] += 1

    # --- REST fuzz
    def rest_fuzz(self, count: int, seed: int) -> None:
        bodies = draw_bodies(count, seed)
        connection: socket.socket | None = None
        for body in bodies:
            if self.out_of_time():
                return
            if connection is None:
                connection = self.connect()
            request = (b"POST /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                       KEY.encode() + b"\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.probes += 1
            try:
                connection.sendall(request)
                status, closing = _read_answer(connection)
            except TimeoutError:
                self.counts["hangs"] += 1
                status, closing = None, True
            except OSError:
                self.counts["drops"] += 1
                status, closing = None, True
            if status is None and not closing:
                self.counts["drops"] += 1
            self.counts["5xx"] += status is not None and status >= 500
            if closing or status is None:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()

    # --- the wire
    def wire(self, count: int) -> None:
        refused = list(_REFUSED_HEADS.values())
        garbage = [b"\x16\x03\x01\x00\xc4\x01", b"GET / HTTP/1.1\nX: y\n\n", b"\x00" * 8,
                   _ping(b"X Bad: 1\r\n")]
        for _ in range(count):
            if self.out_of_time():
                return
            if self.rng.random() < 0.5:
                statuses, ending = self.exchange(self.rng.choice(refused))
                self.judge(statuses, ending, [400])
            else:
                valid = self.rng.randint(1, 4)
                statuses, ending = self.exchange(_ping() * valid + self.rng.choice(garbage))
                self.judge(statuses, ending, [200] * valid + [400])
        self.idle_connections(self.rng.randint(20, 60))

    def idle_connections(self, count: int) -> None:
        """Silent and slow-header connections are closed; a valid request is answered."""
        opened = [self.connect() for _ in range(count)]
        try:
            for index, connection in enumerate(opened):
                if index % 2:
                    connection.sendall(b"POST /v1 HTTP/1.1\r\nX-Slow: ")
            statuses, ending = self.exchange(_ping(b"Connection: close\r\n"))
            self.judge(statuses, ending, [200])
            deadline = time.monotonic() + self.hang_after  # one wait for them all
            for connection in opened:
                self.probes += 1
                connection.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    closed = connection.recv(1) == b""
                except TimeoutError:
                    closed = False
                except ConnectionResetError:
                    closed = True
                self.counts["hangs"] += not closed
        finally:
            for connection in opened:
                connection.close()

    # --- outbound
    def outbound(self, victim: str, victim_port: int, private_port: int | None) -> None:
        admin = AdminClient(self.base)
        victim_admin = AdminClient(victim)
        sentinel = self.submit(_image_task())
        victim_sentinel = _submit_to(victim, _image_task())
        spellings = ["127.0.0.1", "2130706433", "0x7f000001", "0.0.0.0", "localhost",
                     "127.1", "[::ffff:127.0.0.1]"]
        paths = ["/__admin/reset", "/%5F%5Fadmin/reset", "//__admin/reset",
                 "/v1/../__admin/reset", "/__ADMIN/reset"]
        with Receiver() as receiver:
            targets = [f"http://{self.rng.choice(spellings)}:{port}{self.rng.choice(paths)}"
                       for port in (self.port, victim_port, _port_of(receiver.base_url))
                       for _ in range(4)]
            if private_port is not None:
                targets += [f"http://127.0.0.1:{private_port}/v1",
                            f"http://127.0.0.1:{private_port}/__admin/reset"]
            for target in targets:
                if self.out_of_time():
                    break
                self.webhook_probe(admin, target)
                self.fetch_probe(target.replace("/reset", "/journal"))
            with _redirecting(f"{receiver.base_url}/__admin/journal") as redirect:
                self.fetch_probe(redirect)
            with _redirecting(f"{victim}/__admin/journal") as redirect:
                self.fetch_probe(redirect)
            self.counts["reachable admin paths"] += sum(
                "admin" in request.path.lower() for request in receiver.requests)
        alive = {task["taskUUID"] for task in admin.tasks()}
        self.counts["reachable admin paths"] += sentinel not in alive
        victims = {task["taskUUID"] for task in victim_admin.tasks()}
        self.counts["reachable admin paths"] += victim_sentinel not in victims
        self.cross_site()

    def webhook_probe(self, admin: AdminClient, target: str) -> None:
        self.probes += 1
        task = _image_task(webhookURL=target)
        if self.submit(task) is None:
            return
        attempts = admin.wait_for_deliveries(task["taskUUID"], timeout=self.hang_after * 3)
        self.counts["reachable admin paths"] += any(
            attempt["outcome"] != "refused" for attempt in attempts)

    def fetch_probe(self, url: str) -> None:
        self.probes += 1
        task = avatar_task(inputs={**avatar_task()["inputs"], "image": url})
        status, body = _post(self.base, [task], self.hang_after)
        if status is None:
            self.counts["hangs"] += 1
            return
        self.counts["5xx"] += status >= 500
        answer = self.wait(task["taskUUID"]) or body
        messages = " ".join(str(error.get("message")) for error in answer.get("errors", []))
        if "is not fetched" not in messages:
            self.counts["reachable admin paths"] += 1

    def cross_site(self) -> None:
        for origin in ("https://attacker.example", "null"):
            self.probes += 1
            request = (b"POST /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: " + origin.encode() +
                       b"\r\nAuthorization: " + KEY.encode() + b"\r\nContent-Type: text/plain"
                       b"\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(PING) + PING)
            statuses, _ = self.exchange(request)
            self.counts["reachable admin paths"] += 200 in statuses

    # --- tasks
    def submit(self, task: dict[str, Any]) -> str | None:
        status, _ = _post(self.base, [task], self.hang_after)
        if status is None:
            self.counts["hangs"] += 1
            return None
        self.counts["5xx"] += status >= 500
        return task["taskUUID"] if status == 200 else None

    def wait(self, task_uuid: str) -> dict[str, Any] | None:
        deadline = time.monotonic() + self.hang_after
        while time.monotonic() < deadline:
            status, body = _post(self.base, [{"taskType": "getResponse",
                                              "taskUUID": task_uuid}], self.hang_after)
            if status is None:
                return None
            if not any(item.get("status") == "processing" for item in body.get("data", [])):
                return body
            time.sleep(0.05)
        return None

    def tasks(self, count: int) -> None:
        with Receiver() as receiver:
            acknowledged = []
            for _ in range(count):
                if self.out_of_time():
                    break
                self.probes += 1
                task = _image_task(webhookURL=receiver.url,
                                   numberResults=self.rng.randint(1, 3))
                if self.submit(task) is not None:
                    acknowledged.append(task["taskUUID"])
            delivered = {}
            with contextlib.suppress(AssertionError):
                for request in receiver.wait_for(len(acknowledged), timeout=self.hang_after * 3):
                    for item in _items(request.json()):
                        delivered.setdefault(item.get("taskUUID"), []).append(item)
            for task_uuid in acknowledged:
                first, second = self.wait(task_uuid), self.wait(task_uuid)
                if first is None or second is None:
                    self.counts["hangs"] += 1
                    continue
                if any(e.get("code") == "taskNotFound" for e in first.get("errors", [])):
                    self.counts["lost tasks"] += 1
                    continue
                polled = _results(_items(first))
                consistent = polled == _results(_items(second)) and (
                    task_uuid not in delivered or _results(delivered[task_uuid]) <= polled)
                self.counts["inconsistent tasks"] += not consistent


# --- helpers ----------------------------------------------------------------------------------

def _ping(extra: bytes = b"") -> bytes:
    return (b"POST /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + KEY.encode() +
            b"\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: %d\r\n\r\n" % len(PING) + PING)


_REFUSED_HEADS = {
    "bare LF": b"POST /v1 HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 2\n\n[]",
    "TLS ClientHello": bytes.fromhex("16030100c4010000c00303") + bytes(32),
    "random bytes": bytes([0x8A, 0x11, 0xF3, 0x00, 0x7E, 0x22, 0x9C, 0x41]),
    "NUL in a value": _ping(b"X-Trace: a\x00b\r\n"),
    "CR in a value": _ping(b"X-Trace: a\rb\r\n"),
    "space in a name": _ping(b"X Trace: a\r\n"),
    "non-ASCII name": _ping("X-Tr\u00e4ce: a\r\n".encode()),
}


def _read_answer(connection: socket.socket) -> tuple[int | None, bool]:
    """The status of one answer read whole (None when the connection closed first), and
    whether the server closes the connection after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None, False
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    while length is not None and len(rest) < int(length.group(1)):
        chunk = connection.recv(65536)
        if not chunk:
            return None, False
        rest += chunk
    closing = re.search(rb"(?i)\r\nconnection: *close", head) is not None
    return int(head.split(b" ", 2)[1]), closing


def _post(base: str, body: Any, timeout: float) -> tuple[int | None, dict[str, Any]]:
    import httpx

    try:
        answer = httpx.post(f"{base}/v1", json=body, timeout=timeout,
                            headers={"Authorization": KEY})
    except httpx.TimeoutException:
        return None, {}
    except httpx.HTTPError:
        return 0, {}
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, {}


def _submit_to(base: str, task: dict[str, Any]) -> str:
    status, _ = _post(base, [task], 30)
    assert status == 200, status
    return str(task["taskUUID"])


def _image_task(**overrides: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()),
                            "model": "runware:400@2", "positivePrompt": "a lighthouse at dusk",
                            "width": 512, "height": 512}
    task.update(overrides)
    return task


def _items(body: Any) -> list[dict[str, Any]]:
    """The result items of a poll's answer or a webhook's body (an envelope or one item)."""
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return [item for item in body["data"] if isinstance(item, dict)]
    return [body] if isinstance(body, dict) and "taskUUID" in body else []


def _results(items: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(item.get("taskUUID"), item.get("imageUUID"), item.get("imageURL"), item.get("seed"))
            for item in items if item.get("status") != "processing"}


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


@contextlib.contextmanager
def _redirecting(target: str) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/image.png"
    finally:
        server.shutdown()
        server.server_close()


def _private_port(server_pid: int) -> int | None:
    """The leader's private port under ``--workers`` (from /proc), or None."""
    for child in Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split():
        if Path(f"/proc/{child}/comm").read_text().strip() != "rwmock-leader":
            continue
        inodes = set()
        for fd in Path(f"/proc/{child}/fd").iterdir():
            with contextlib.suppress(OSError):
                link = fd.readlink().name
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        for line in Path(f"/proc/{child}/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                return int(fields[1].split(":")[1], 16)
    return None


def _disk_full() -> Callable[[int, int], dict[str, int]] | None:
    try:
        module = importlib.import_module("benchmarks._disk_full")
    except ModuleNotFoundError:
        return None
    return getattr(module, "disk_full_counts", None)


def run(workers: int, arguments: argparse.Namespace) -> tuple[Counter[str], int, float]:
    started = time.monotonic()
    port, victim_port = free_port(), free_port()
    serve = emulator(port, None, "--workers", str(workers), "--latency", "instant",
                     "--header-timeout", str(HEADER_TIMEOUT), "--seed", str(arguments.seed))
    victim = emulator(victim_port, None, "--latency", "instant")
    with process(serve, port) as server, process(victim, victim_port):
        campaign = Campaign(port, workers, arguments.seed, arguments.hang_after,
                            arguments.budget)
        campaign.rest_fuzz(arguments.rest, arguments.seed)
        campaign.wire(arguments.wire)
        private = _private_port(server.pid) if workers > 1 else None
        campaign.outbound(f"http://127.0.0.1:{victim_port}", victim_port, private)
        campaign.tasks(arguments.tasks)
        counts, probes = campaign.counts, campaign.probes
    disk_full = _disk_full()
    if disk_full is not None:
        counts.update(disk_full(workers, arguments.seed))
    return counts, probes, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rest", type=int, default=300, help="fuzzed REST bodies")
    parser.add_argument("--wire", type=int, default=120, help="raw wire probes")
    parser.add_argument("--tasks", type=int, default=40, help="tasks checked for loss")
    parser.add_argument("--hang-after", type=float, default=10.0,
                        help="seconds without an answer that count as a hang")
    parser.add_argument("--budget", type=float, default=240.0,
                        help="seconds after which no new probe starts, per worker count")
    arguments = parser.parse_args()
    total = 0
    for workers in arguments.workers:
        counts, probes, seconds = run(workers, arguments)
        total += sum(counts[kind] for kind in KINDS)
        figures = ", ".join(f"{kind} {counts[kind]}" for kind in KINDS)
        print(f"seed {arguments.seed}, {workers} worker{'s' if workers > 1 else ''}: "
              f"{figures} ({probes} probes, {seconds:.0f} s)")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
