"""Simulated time: the loop's monotonic clock plus an offset the admin API can advance."""

from __future__ import annotations

import asyncio
import contextlib
import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._advanced = asyncio.Event()

    def now(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward; every ``sleep_until`` re-checks its deadline at once."""
        self._offset += max(0.0, seconds)
        self._advanced.set()
        self._advanced = asyncio.Event()

    async def sleep_until(self, deadline: float) -> None:
        while (remaining := deadline - self.now()) > 0:
            advanced = self._advanced
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(advanced.wait(), timeout=remaining)
