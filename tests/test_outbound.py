"""Outgoing HTTP looks its host names up on the emulator's own threads: input fetches and
webhooks reach the addresses it finds, and a lookup the DNS server never answers does not hold
the server's shutdown (it held it 10 s when the event loop's resolver did the lookups)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from runware_mock.contract.receivers import MediaHost, Receiver
from runware_mock.fixtures import seed_examples
from tests.raw_wire import wait_until
from tests.server_process import free_port

# The server, with the system resolver answering two names no DNS has: hooks.test is this
# machine, and a lookup of hang.test never ends (as when a DNS server does not answer); the
# file named by HANG_STARTED tells the test when that lookup has begun.
SERVE = """
import os, pathlib, socket, sys, threading
system = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    if host == "hang.test":
        pathlib.Path(os.environ["HANG_STARTED"]).touch()  # the test waits for this
        threading.Event().wait()
    return system("127.0.0.1" if host == "hooks.test" else host, *args, **kwargs)
socket.getaddrinfo = getaddrinfo
from runware_mock.cli import main
sys.argv[0] = "runware-mock"
sys.exit(main())
"""
SHUTDOWN_TIMEOUT = 2.0


def _serve(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--data-dir",
         str(tmp_path / "data"), "--latency", "instant", "--log-level", "warning",
         "--shutdown-timeout", str(SHUTDOWN_TIMEOUT)],
        env={**os.environ, "HANG_STARTED": str(tmp_path / "hang-started")})
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(url, json=[{"taskType": "ping", "ping": True}])
            return server, url
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise AssertionError("the server did not start")


def _on(host: str, url: str) -> str:
    return url.replace("127.0.0.1", host, 1)


def test_fetches_and_webhooks_go_where_the_lookup_says_and_a_hung_one_holds_no_shutdown(
        tmp_path: Path) -> None:
    server, url = _serve(tmp_path)
    try:
        with Receiver() as hook, MediaHost() as media:
            task = dict(seed_examples()[0]["request"], taskUUID=str(uuid.uuid4()),
                        webhookURL=_on("hooks.test", hook.url))
            task["inputs"] = {"image": _on("hooks.test", media.url_for("seed-portrait.jpg")),
                              "audio": _on("hooks.test", media.url_for("seed-voice-12.266s.mp3"))}
            reply = httpx.post(url, json=[task], headers={"Authorization": "Bearer k"})
            assert reply.status_code == 200, reply.text
            (received,) = hook.wait_for(1)
            assert received.path == "/receiver"
            assert json.loads(received.body)["data"][0]["status"] == "success"
        hung = dict(seed_examples()[0]["request"], taskUUID=str(uuid.uuid4()),
                    webhookURL="http://hang.test/receiver")
        assert httpx.post(url, json=[hung], headers={"Authorization": "Bearer k"}
                          ).status_code == 200
        # The task has finished, and its webhook's lookup hangs.
        assert wait_until(lambda: (tmp_path / "hang-started").exists(), timeout=60), \
            "the webhook's lookup of hang.test never began"
        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 128 + signal.SIGTERM
        assert time.monotonic() - stopping < SHUTDOWN_TIMEOUT + 2
    finally:
        server.kill()
        server.wait()
