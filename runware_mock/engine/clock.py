"""Simulated time: wall-clock time plus the seconds the admin API advanced it by.

It reads the monotonic clock (a wall-clock step never moves it) from an origin fixed at start
to the wall clock, so times kept in the store (when a task is due, when a file expires) mean
the same after a restart, and a task's latency goes on counting while the emulator is down.

Alarms wait in one heap under a single loop timer, set for the earliest of them. A pending
alarm costs one small list, not a future, a timer and a task, so a flood of submits with
minutes of latency stays cheap in memory and in garbage-collection time; and ``advance``
re-arms one timer however many alarms wait.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("runware_mock.clock")

# [deadline, sequence, callback, *arguments]: lists compare element-wise in C and the sequence
# is unique, so the heap never compares callbacks; a cancelled alarm has its callback set to None.
Alarm = list[Any]


class Clock:
    def __init__(self, advanced: float = 0.0) -> None:
        """``advanced``: the seconds earlier runs advanced the clock by (from the store)."""
        self._origin = time.time() - time.monotonic()
        self.advanced = advanced
        self._offset = self._origin + advanced
        self._heap: list[Alarm] = []
        self._sequence = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_deadline = float("inf")

    def now(self) -> float:
        return time.monotonic() + self._offset

    def call_at(self, deadline: float, callback: Callable[..., object], *arguments: Any) -> Alarm:
        """Call ``callback(*arguments)`` once the clock reaches ``deadline``."""
        alarm = [deadline, next(self._sequence), callback, *arguments]
        heapq.heappush(self._heap, alarm)
        if deadline < self._timer_deadline:
            self._arm()
        return alarm

    @staticmethod
    def cancel(alarm: Alarm) -> None:
        alarm[2] = None
        del alarm[3:]

    async def sleep_until(self, deadline: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        alarm = self.call_at(deadline, _resolve, future)
        try:
            await future
        finally:
            self.cancel(alarm)

    def advance(self, seconds: float) -> None:
        """Jump forward; every pending deadline is checked against the new time at once."""
        self.advanced += max(0.0, seconds)
        self._offset = self._origin + self.advanced
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_deadline = None, float("inf")
        while self._heap and self._heap[0][2] is None:
            heapq.heappop(self._heap)
        if self._heap:
            self._timer_deadline = self._heap[0][0]
            delay = max(0.0, self._timer_deadline - self.now())
            # In a context of its own: alarms (and the work they start) must not run as
            # whichever request happened to arm the timer (its API key, for one).
            self._timer = asyncio.get_running_loop().call_later(delay, self._ring,
                                                                context=contextvars.Context())

    def _ring(self) -> None:
        self._timer, self._timer_deadline = None, float("inf")
        now = self.now()
        due = []
        while self._heap and self._heap[0][0] <= now:
            due.append(heapq.heappop(self._heap))
        self._arm()
        for alarm in due:
            if alarm[2] is not None:
                try:
                    alarm[2](*alarm[3:])
                except Exception:
                    # Logged, not raised: the alarms after it were taken off the heap too.
                    log.exception("a clock alarm failed")


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
