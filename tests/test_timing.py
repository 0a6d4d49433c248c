"""Time measured against its documented distribution, not guessed.

- The delivery backoff (docs/webhooks-admin.md): retry *n* waits
  ``min(--delivery-backoff-max, --delivery-backoff x 2^(n-1))`` with "equal jitter", between half
  and all of that step. Thousands of seeded draws must fill that whole range, evenly.
- The ``dribble`` fault (docs/faults.md): ``chunk`` bytes per write, ``interval`` (0.05) seconds
  between writes, measured on a virtual clock the writes are stamped with, and over a socket.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import time
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.responses import Response

from runware_mock.delivery.backoff import retry_delay
from runware_mock.engine.randomness import Randomness
from runware_mock.faults import wire
from runware_mock.faults.injector import Fault
from runware_mock.faults.rest_faults import spoiled_response
from runware_mock.faults.rules import header_rules
from runware_mock.runner import ServerThread

# The documented defaults (docs/configuration.md): --delivery-backoff 2, --delivery-backoff-max
# 300; dribble's interval 0.05 and chunk 16 (docs/faults.md).
BASE, CAP = 2.0, 300.0
DRIBBLE_INTERVAL, DRIBBLE_CHUNK = 0.05, 16
DRAWS = 4000
BINS = 10


def _draws(retry: int) -> list[float]:
    """The waits before retry ``retry`` of many deliveries, as the service draws them (one
    seeded stream per message, as delivery/service.py keys it)."""
    return [retry_delay(retry, BASE, CAP, Randomness(seed).stream(
        "delivery-backoff", "webhook", f"task-{key}", 0))
        for seed in range(4) for key in range(DRAWS // 4)]


@pytest.mark.parametrize("retry", [1, 3, 8, 12])
def test_backoff_jitter_fills_its_whole_documented_range_evenly(retry: int) -> None:
    step = min(CAP, BASE * 2 ** (retry - 1))
    delays = _draws(retry)
    assert all(step / 2 <= delay <= step for delay in delays), (retry, step)
    # Equal jitter is uniform on [step/2, step]: with 4000 draws each tenth of that range
    # holds 400 +- a few dozen (a binomial's 5-sigma is about 95), and the extremes come within
    # a thousandth of the range of both ends.
    width = step / 2
    counts = [0] * BINS
    for delay in delays:
        counts[min(BINS - 1, int((delay - step / 2) / width * BINS))] += 1
    expected = DRAWS / BINS
    sigma = math.sqrt(DRAWS * (1 / BINS) * (1 - 1 / BINS))
    assert all(abs(count - expected) < 5 * sigma for count in counts), (step, counts)
    assert min(delays) - step / 2 < width / 1000 and step - max(delays) < width / 1000


def test_backoff_steps_double_up_to_the_cap() -> None:
    rng = Randomness(1).stream("delivery-backoff", "webhook", "one", 0)
    for retry in range(1, 14):
        step = min(CAP, BASE * 2 ** (retry - 1))
        assert step / 2 <= retry_delay(retry, BASE, CAP, rng) <= step, retry
    assert [min(CAP, BASE * 2 ** (n - 1)) for n in (8, 9, 10)] == [256.0, 300.0, 300.0]


class VirtualClock:
    """Stands for asyncio in the wire module: its sleep advances the clock at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.writes: list[tuple[float, bytes]] = []

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            self.writes.append((self.now, message.get("body", b"")))


def _dribble(monkeypatch: pytest.MonkeyPatch, header: str, body: bytes) -> VirtualClock:
    clock = VirtualClock()
    monkeypatch.setattr(wire, "asyncio", SimpleNamespace(sleep=clock.sleep))
    (rule,) = header_rules([header])
    fault = Fault(rule.id, rule.source, rule.kind, rule.params)

    async def run() -> None:
        response = await spoiled_response(fault, Response(body, media_type="application/json"))
        await response({"type": "http"}, _no_receive, clock.send)

    asyncio.run(run())
    return clock


async def _no_receive() -> dict[str, Any]:
    raise AssertionError("a dribbled answer reads nothing")


@pytest.mark.parametrize(("header", "chunk", "interval"), [
    ("dribble", DRIBBLE_CHUNK, DRIBBLE_INTERVAL),
    ("dribble; chunk=5; interval=0.2", 5, 0.2),
    ("dribble; chunk=1; interval=1.5", 1, 1.5)])
def test_dribble_writes_are_spaced_by_the_interval(monkeypatch: pytest.MonkeyPatch, header: str,
                                                    chunk: int, interval: float) -> None:
    body = json.dumps({"data": [{"taskType": "ping", "pong": True}] * 3}).encode()
    clock = _dribble(monkeypatch, header, body)
    assert b"".join(part for _, part in clock.writes) == body
    assert [len(part) for _, part in clock.writes[:-1]] == [chunk] * (len(clock.writes) - 1)
    assert len(clock.writes) == math.ceil(len(body) / chunk)
    gaps = [later - earlier for (earlier, _), (later, _) in
            zip(clock.writes, clock.writes[1:], strict=False)]
    assert all(gap == pytest.approx(interval, abs=1e-9) for gap in gaps), gaps


def test_dribble_over_a_socket_takes_at_least_its_intervals(server: ServerThread) -> None:
    """The writes' spacing on the wire: the answer cannot end before (writes - 1) intervals
    have passed since the request (a lower bound: a busy machine only makes it later)."""
    interval, chunk = 0.1, 8
    body = b'[{"taskType":"ping","ping":true}]'
    connection = socket.create_connection(("127.0.0.1", server.settings.port), timeout=30)
    started = time.monotonic()
    connection.sendall(b"POST /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\n"
                       b"X-Mock-Fault: dribble; chunk=%d; interval=%g\r\n" % (chunk, interval)
                       + b"Content-Type: application/json\r\nConnection: close\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body) + body)
    raw = b""
    while part := connection.recv(65536):
        raw += part
    elapsed = time.monotonic() - started
    connection.close()
    answer = raw.partition(b"\r\n\r\n")[2]
    assert json.loads(answer)["data"][0]["pong"] is True
    writes = math.ceil(len(answer) / chunk)
    assert elapsed >= (writes - 1) * interval * 0.95, (elapsed, writes)
