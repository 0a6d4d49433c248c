"""What the open dashboards are told as it happens: one compact tick a second, pushed by
server-sent events.

Nothing is recorded twice: a tick reads the counters the services keep anyway (the
journal's totals, the injector's fired faults, the delivery log's totals, the clock) and
the one thing no counter holds, which generations finished since the last tick, comes from
an engine listener. The ticker runs only while a dashboard is connected, so an emulator
nobody watches pays for nothing but that listener. Pages animate progress bars and
countdowns themselves from a task's due time and the clock, so a tick carries no per-task
progress and the browser polls nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from runware_mock.admin.inspected import Inspected
from runware_mock.engine.lifecycle import SUCCESS, Generation, Task

# Finished generations named in one tick; past it the tick says only how many.
FINISHED_PER_TICK = 100
# Ticks a slow browser may fall behind before it misses some (it re-reads on the next).
SUBSCRIBER_BACKLOG = 32
# An idle connection still gets a comment this often, so proxies keep it open.
KEEPALIVE_SECONDS = 15.0


class Monitor:
    """One per emulator: the listener, the ticker and the connected dashboards."""

    def __init__(self, services: Inspected) -> None:
        self.services = services
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._finished: list[str] = []
        self._renders = 0
        self._latencies: list[float] = []
        # What "live" means on the page (and the charts' resolution): --dashboard-tick.
        self.tick_seconds = services.settings.dashboard_tick
        # Ticks the charts can show on opening, kept while a dashboard watches.
        self.history: deque[dict[str, Any]] = deque(
            maxlen=max(1, round(services.settings.dashboard_history / self.tick_seconds)))
        services.engine.subscribe(self._on_finished)

    def _on_finished(self, task: Task, generation: Generation) -> None:
        if not self._subscribers:
            return
        if len(self._finished) < FINISHED_PER_TICK:
            self._finished.append(task.task_uuid)
        if generation.file is not None:
            self._renders += 1
        if generation.status == SUCCESS and generation.finished_at is not None:
            self._latencies.append(round(generation.finished_at - task.submitted_at, 3))

    @property
    def watching(self) -> int:
        return len(self._subscribers)

    def tick(self) -> dict[str, Any]:
        """Cumulative counters (the page makes rates of them) and what finished since the
        previous tick."""
        services = self.services
        totals = services.journal.totals
        faults = services.faults
        finished, self._finished = self._finished, []
        latencies, self._latencies = self._latencies, []
        renders, self._renders = self._renders, 0
        return {
            "time": time.time(),
            "clock": services.clock.now(),
            "advanced": round(services.clock.advanced, 3),
            "requests": {transport: sum(count for (name, _), count in totals.items()
                                        if name == transport)
                         for transport in ("rest", "websocket")},
            "journal": services.journal.recorded,
            "tasks": services.engine.count(),
            "finished": finished,
            "renders": renders,
            "latencies": latencies[:FINISHED_PER_TICK],
            "faultsFired": sum(faults.fired_total.values()),
            "rules": [[rule.id, rule.matched, rule.fired] for rule in faults.rules()],
            "deliveries": sum(services.delivery.log.totals.values()),
            "deliveriesPending": services.delivery.log.pending(),
            # Why the data dir takes no writes now (tasks are refused), or None.
            "storeProblem": services.database.health.problem,
        }

    async def events(self, closing: Callable[[], bool]) -> AsyncIterator[str]:
        """The server-sent event stream of one dashboard: the history first, then ticks,
        until ``closing()`` says the server is shutting down."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=SUBSCRIBER_BACKLOG)
        self._subscribers.add(queue)
        self._start()
        try:
            yield _event("hello", {"history": list(self.history), "tick": self.tick()})
            while not closing():
                try:
                    update = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield _event("tick", update)
        finally:
            self._subscribers.discard(queue)
            if not self._subscribers:
                await self._stop()

    def _start(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())

    async def _stop(self) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            if not self.services.database.health.writable:
                await self.services.database.probe()  # room back, with nothing else written?
            update = self.tick()
            self.history.append({key: update[key] for key in _CHARTED})
            for queue in list(self._subscribers):
                if queue.full():
                    queue.get_nowait()  # the oldest goes: counters are cumulative anyway
                queue.put_nowait(update)


# What the charts need of a tick: kept in the history.
_CHARTED = ("time", "requests", "faultsFired", "renders", "latencies")


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
