"""Simulated time: the loop's monotonic clock plus an offset the admin API can advance.

Waiting costs one future and one loop timer, not a task: thousands of pending generations
stay cheap. ``advance`` reschedules every pending timer against the new time.
"""

from __future__ import annotations

import asyncio
import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._alarms: dict[asyncio.Future[None], tuple[float, asyncio.TimerHandle]] = {}

    def now(self) -> float:
        return time.monotonic() + self._offset

    def resolve_at(self, deadline: float, future: asyncio.Future[None]) -> None:
        """Resolve ``future`` (if nobody else has) once the clock reaches ``deadline``."""
        if future.done():
            return
        self._schedule(future, deadline)
        future.add_done_callback(self._forget)

    async def sleep_until(self, deadline: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.resolve_at(deadline, future)
        await future

    def advance(self, seconds: float) -> None:
        """Jump forward; every pending deadline is checked against the new time at once."""
        self._offset += max(0.0, seconds)
        for future, (deadline, handle) in list(self._alarms.items()):
            handle.cancel()
            self._schedule(future, deadline)

    def _schedule(self, future: asyncio.Future[None], deadline: float) -> None:
        delay = max(0.0, deadline - self.now())
        handle = asyncio.get_running_loop().call_later(delay, _resolve, future)
        self._alarms[future] = (deadline, handle)

    def _forget(self, future: asyncio.Future[None]) -> None:
        entry = self._alarms.pop(future, None)
        if entry is not None:
            entry[1].cancel()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
