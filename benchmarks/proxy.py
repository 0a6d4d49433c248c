"""The latency runware-mock proxy adds to a request, against a local upstream.

    python benchmarks/proxy.py [--requests 2000] [--kind poll|ping|image]

Starts the emulator (``serve --latency instant``) as the upstream and ``runware-mock proxy``
in front of it, both on 127.0.0.1 in processes of their own, then sends the same request
alternately straight to the upstream and through the proxy, one at a time on a kept-alive
connection each, and prints the percentiles of both and their difference: what the proxy adds
(its relay, and its drift check of the exchange before, which runs while the next request
comes in). Target: p50 at most 2 ms, p99 at most 10 ms added.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from runware_mock.runner import free_port

TARGET_P50_MS, TARGET_P99_MS = 2.0, 10.0


def start(arguments: list[str], probe: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "runware_mock", *arguments],
                                   stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(probe, timeout=2)
            return process
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{arguments[0]} did not start:\n{log.read_text()}") from None
            time.sleep(0.05)


def request_bodies(kind: str, upstream: httpx.Client, url: str
                   ) -> Callable[[], list[dict[str, Any]]]:
    """The request to send again and again: an image task gets a fresh taskUUID each time."""
    def image() -> list[dict[str, Any]]:
        return [{"taskType": "imageInference", "taskUUID": str(uuid.uuid4()),
                 "model": "runware:101@1", "positivePrompt": "a lighthouse", "width": 512,
                 "height": 512}]

    if kind == "ping":
        return lambda: [{"taskType": "ping", "ping": True}]
    if kind == "image":
        return image
    finished = image()
    upstream.post(url, json=finished).raise_for_status()  # a finished task, polled
    return lambda: [{"taskType": "getResponse", "taskUUID": finished[0]["taskUUID"]}]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(requests: int, kind: str) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        upstream_port, proxy_port = free_port(), free_port()
        upstream_url = f"http://127.0.0.1:{upstream_port}/v1"
        servers = [start(["serve", "--port", str(upstream_port), "--ephemeral", "--latency",
                          "instant", "--log-level", "warning"],
                         f"http://127.0.0.1:{upstream_port}/__admin/health", root / "up.log")]
        try:
            servers.append(start(["proxy", "--port", str(proxy_port), "--upstream", upstream_url,
                                  "--drift-report", str(root / "drift.jsonl"), "--log-level",
                                  "warning"], f"http://127.0.0.1:{proxy_port}/__admin/drift",
                                 root / "proxy.log"))
            headers = {"Authorization": "Bearer bench-key"}
            with httpx.Client(headers=headers) as direct, httpx.Client(headers=headers) as proxied:
                bodies = request_bodies(kind, direct, upstream_url)
                targets = {"direct": (direct, upstream_url),
                           "proxy": (proxied, f"http://127.0.0.1:{proxy_port}/v1")}
                timings: dict[str, list[float]] = {"direct": [], "proxy": []}
                cpu_before = [cpu_seconds(server) for server in servers]
                for index in range(requests + 100):  # the first 100 warm up
                    order = ("direct", "proxy") if index % 2 else ("proxy", "direct")
                    for name in order:
                        client, url = targets[name]
                        body = bodies()
                        started = time.perf_counter()
                        client.post(url, json=body).raise_for_status()
                        if index >= 100:
                            timings[name].append((time.perf_counter() - started) * 1000)
            drift = httpx.get(f"http://127.0.0.1:{proxy_port}/__admin/drift").json()
            cpu = [(cpu_seconds(server) - before) * 1000 / (requests + 100)
                   for server, before in zip(servers, cpu_before, strict=True)]
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    summary = {name: {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99),
                      "mean": statistics.fmean(values)} for name, values in timings.items()}
    summary["added"] = {key: summary["proxy"][key] - summary["direct"][key]
                        for key in ("p50", "p99", "mean")}
    summary["drift"] = {"exchanges checked": drift["exchanges"], "kinds": len(drift["drifts"])}
    # The upstream answered every request twice: straight, and through the proxy.
    summary["cpu"] = {"upstream": cpu[0] / 2, "proxy": cpu[1]}
    return summary


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """The process's CPU time (user and system) so far, from /proc: what it spent, whatever
    else the machine runs. 0 where there is no /proc."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--kind", choices=("poll", "ping", "image"), default="poll")
    options = parser.parse_args()
    summary = measure(options.requests, options.kind)
    print(f"{options.requests} requests ({options.kind}) each way, alternating, one at a time")
    for name in ("direct", "proxy", "added"):
        row = summary[name]
        print(f"  {name:>6}: p50 {row['p50']:.2f} ms  p99 {row['p99']:.2f} ms  "
              f"mean {row['mean']:.2f} ms")
    print(f"  drift checks: {summary['drift']}")
    cpu = summary["cpu"]
    print(f"  CPU per request: upstream {cpu['upstream']:.2f} ms, proxy {cpu['proxy']:.2f} ms "
          "(its relay and the drift check, which has the emulator answer again)\n"
          f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    added = summary["added"]
    ok = added["p50"] <= TARGET_P50_MS and added["p99"] <= TARGET_P99_MS
    print(f"  target: added p50 <= {TARGET_P50_MS} ms, p99 <= {TARGET_P99_MS} ms: "
          f"{'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
