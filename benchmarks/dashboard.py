"""The dashboard's cost: its task list with 10,000 tasks, and getResponse throughput while a
dashboard is open, side by side in one run.

    python benchmarks/dashboard.py [--tasks 10000] [--seconds 2] [--rounds 5]

Starts one emulator (a subprocess), submits ``--tasks`` avatar tasks (they wait an hour of
simulated time, so the list shows them processing), then prints:

- the task list: server time for the whole page (first page, a filtered page, the last page,
  the live-refresh fragment), and, with Debian's chromium, the time a browser takes from
  navigation until the page has loaded and its progress bars are animated. Target: < 1 s.
- getResponse on a finished task, in rounds that alternate no dashboard and a dashboard open
  in headless Chromium on each view (tasks, journal following new entries, charts), the
  order swapped every other round. The ratio is the median of each round's
  (with / without). Target: a drop of at most 10 %. The browser shares the machine's cores
  with the server and the load generator, so its own work counts against the figure too.
  Beside it, the server's CPU time per request, with / without: on a loaded machine the
  rate swings with other work, what a request costs the server much less.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import emulator, fixed, free_port, measure, process

from runware_mock.fixtures import seed_examples

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
HEADERS = {"Authorization": "Bearer bench"}
VIEWS = {"tasks": "", "journal": "journal", "charts": "charts"}
# After opening or closing a page, before measuring: the navigation's own work is done.
SETTLE_SECONDS = 1.0


def submit(url: str, count: int) -> float:
    """``count`` avatar tasks, 100 to a request; the seconds it took."""
    template = seed_examples()[0]["request"]
    started = time.monotonic()
    with httpx.Client(headers=HEADERS, timeout=120) as client:
        for start in range(0, count, 100):
            batch = [dict(template, taskUUID=str(uuid.uuid4()))
                     for _ in range(min(100, count - start))]
            client.post(url, json=batch).raise_for_status()
    return time.monotonic() - started


def finished_task(base: str) -> str:
    task = dict(seed_examples()[0]["request"], taskUUID=str(uuid.uuid4()))
    httpx.post(f"{base}/v1", json=[task], headers=HEADERS, timeout=60).raise_for_status()
    httpx.post(f"{base}/__admin/tasks/{task['taskUUID']}/complete",
               timeout=120).raise_for_status()
    return str(task["taskUUID"])


def server_times(ui: str, repeat: int = 7) -> dict[str, list[float]]:
    """Seconds to answer each list request, ``repeat`` times."""
    asks: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
        "first page": ("", {}, {}),
        "filtered (state, apiKey)": ("", {"state": "processing", "apiKey": "bench"}, {}),
        "last page": ("", {"page": "200"}, {}),
        "live-refresh fragment": ("", {}, {"HX-Request": "true", "HX-Target": "task-table"}),
        "journal, first page": ("journal", {}, {}),
    }
    found: dict[str, list[float]] = {}
    with httpx.Client(timeout=60) as client:
        for name, (path, params, headers) in asks.items():
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(f"{ui}{path}", params=params, headers=headers).raise_for_status()
                times.append(time.perf_counter() - started)
            found[name] = times
    return found


class Browser:
    """Headless Chromium in a thread of its own (Playwright's sync API keeps its loop there,
    apart from the load generator's)."""

    def __init__(self) -> None:
        self._orders: queue.Queue[tuple[Callable[[Any], Any], queue.Queue[Any]]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from playwright.sync_api import sync_playwright

        with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": 1400, "height": 900})
            page = context.new_page()
            while True:
                order, answer = self._orders.get()
                if order is None:
                    break
                try:
                    answer.put(order(page))
                except Exception as exc:
                    answer.put(exc)
            context.close()

    def do(self, order: Callable[[Any], Any]) -> Any:
        answer: queue.Queue[Any] = queue.Queue()
        self._orders.put((order, answer))
        result = answer.get()
        if isinstance(result, Exception):
            raise result
        return result

    def close(self) -> None:
        self._orders.put((None, queue.Queue()))  # type: ignore[arg-type]
        self._thread.join(timeout=30)


def open_view(url: str) -> Callable[[Any], float]:
    def order(page: Any) -> float:
        started = time.perf_counter()
        page.goto(url, wait_until="load")
        page.wait_for_selector("#live:not(.off)")
        page.wait_for_function("document.querySelector('.bar-fill') !== null || "
                               "document.querySelector('main[data-view=journal], "
                               "main[data-view=charts]') !== null")
        return time.perf_counter() - started
    return order


def close_view(page: Any) -> None:
    page.goto("about:blank")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    arguments = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ui = f"{base}/__admin/ui/"
    with tempfile.TemporaryDirectory() as scratch, \
            process(emulator(port, scratch, "--latency", "fixed:3600",
                             "--journal-limit", "10000"), port) as server:
        took = submit(f"{base}/v1", arguments.tasks)
        print(f"submitted {arguments.tasks} tasks in {took:.1f} s")
        task_uuid = finished_task(base)
        print("\ntask list with", arguments.tasks + 1, "tasks (server time to the whole answer):")
        for name, times in server_times(ui).items():
            print(f"  {name:26}: median {statistics.median(times) * 1000:6.1f} ms, "
                  f"max {max(times) * 1000:6.1f} ms (target < 1000 ms)")
        if not CHROMIUM.exists():
            print(f"\n{CHROMIUM} is missing: no browser figures (apt-get install chromium)")
            return
        browser = Browser()
        try:
            loads = [browser.do(open_view(ui)) for _ in range(5)]
            print(f"  in Chromium, navigation to animated list: median "
                  f"{statistics.median(loads) * 1000:6.1f} ms, max {max(loads) * 1000:6.1f} ms "
                  "(target < 1000 ms)")
            browser.do(close_view)
            throughput(browser, server.pid, port, ui, task_uuid, arguments)
        finally:
            browser.close()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(browser: Browser, server: int, port: int, ui: str, task_uuid: str,
               arguments: argparse.Namespace) -> None:
    """Requests per second, and the server's CPU microseconds per request: on a shared,
    loaded machine the rate swings with other work, the CPU a request costs the server far
    less."""
    body = fixed([{"taskType": "getResponse", "taskUUID": task_uuid}])

    def rate() -> tuple[float, float]:
        cpu, started = cpu_seconds(server), time.monotonic()
        found = measure(port, body, seconds=arguments.seconds,
                        connections=arguments.connections)
        requests = found * (time.monotonic() - started)
        return found, (cpu_seconds(server) - cpu) / requests * 1e6

    print(f"\ngetResponse on a finished task, {arguments.connections} connections, "
          f"{arguments.seconds:g} s per measurement:")
    ratios: dict[str, list[float]] = {view: [] for view in VIEWS}
    costs: dict[str, list[float]] = {view: [] for view in VIEWS}
    for number in range(1, arguments.rounds + 1):
        figures = []
        for view, path in VIEWS.items():
            # Half the rounds measure without first, half with: neither gets the warm slot.
            measured = {}
            for shown in ((False, True) if number % 2 else (True, False)):
                browser.do(open_view(f"{ui}{path}") if shown else close_view)
                time.sleep(SETTLE_SECONDS)
                measured[shown] = rate()
            (without, cpu_without), (with_view, cpu_with) = measured[False], measured[True]
            ratios[view].append(with_view / without)
            costs[view].append(cpu_with / cpu_without)
            figures.append(f"{view} {without:5.0f} -> {with_view:5.0f} req/s "
                           f"({cpu_without:3.0f} -> {cpu_with:3.0f} us)")
        browser.do(close_view)
        print(f"  round {number}: " + "; ".join(figures))
    for view in VIEWS:
        ratio, cost = statistics.median(ratios[view]), statistics.median(costs[view])
        print(f"  dashboard open on {view:8}: throughput {ratio:.3f} of without "
              f"(drop {100 * (1 - ratio):5.1f} %); server CPU per request {cost:.3f} of "
              f"without (target: a drop of at most 10 %)")


if __name__ == "__main__":
    main()
