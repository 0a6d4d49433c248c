"""An emulator in a process of its own, on a fixed port and data dir, that a test can kill
(SIGKILL or SIGTERM) and start again: what a restart does to a user's emulator."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

API_KEY = "durable-key"


def free_port() -> int:
    """A free port below the kernel's ephemeral range: a client that keeps connecting to the
    port while the server is down could otherwise be given that very port as its own, and
    connect to itself (a TCP self-connect), which holds the port the restart needs."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for port in random.Random().sample(range(10000, low), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


class ServerProcess:
    def __init__(self, data_dir: Path, *options: str, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"server-{self.port}.log"
        self.http = httpx.Client(timeout=30, headers={"Authorization": f"Bearer {API_KEY}"})

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1"

    def start(self) -> ServerProcess:
        command = [sys.executable, "-m", "runware_mock", "serve", "--port", str(self.port),
                   "--data-dir", str(self.data_dir), "--api-key", API_KEY, *self.options]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_serving()
        return self

    def _wait_until_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited ({self.process.returncode}):\n"
                                     f"{self.log.read_text()[-3000:]}")
            try:
                self.http.get(f"{self.base_url}/__admin/clock", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError(f"the server did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self, how: signal.Signals = signal.SIGKILL) -> None:
        assert self.process is not None
        os.kill(self.process.pid, how)
        self.process.wait(timeout=60)
        self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def post(self, tasks: list[dict[str, Any]]) -> httpx.Response:
        return self.http.post(self.url, json=tasks)

    def poll(self, task_uuid: str) -> dict[str, Any]:
        return self.post([{"taskType": "getResponse", "taskUUID": task_uuid}]).json()

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{self.base_url}/__admin{path}", **kwargs)

    def close(self) -> None:
        if self.process is not None:
            self.kill(signal.SIGTERM)
        self.http.close()


def wait_until_serving(process: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/__admin/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"not serving: {process.communicate(timeout=10)}")


def wait_done(server: ServerProcess, task_uuid: str, timeout: float = 60) -> dict[str, Any]:
    """Poll until no generation of the task is processing; the last reply body."""
    deadline = time.monotonic() + timeout
    while True:
        body = server.poll(task_uuid)
        if not any(item.get("status") == "processing" for item in body.get("data", [])):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
