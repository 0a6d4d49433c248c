"""Files made on demand (``--renders lazy``): the first download of a pending output renders
it, every download of it meanwhile shares that one render, and the queue is bounded.

At most ``workers`` renders run at once and at most ``backlog`` are queued or running: a
download that would queue past it is refused at once (``renderBacklogFull``), and one that has
waited ``wait`` seconds is told to come back (``renderTimeout``) while its render goes on, so the
retry finds the file. A task that needs an output as its input waits for it unbounded by
either (the task itself is bounded). ``close`` cancels every queued and running render; the
ffmpeg pool kills a cancelled render's process.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from runware_mock.store.health import disk_trouble

log = logging.getLogger("runware_mock.media")

# A render's seconds before any is measured: Retry-After's first estimate.
_FIRST_ESTIMATE = 2.0
# Weight of the latest render in the moving average of render seconds.
_SMOOTHING = 0.2


class RenderRefused(Exception):
    """A download that cannot have its file now: ``code`` and ``retry_after`` (seconds) say
    why and when to come back."""

    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


@dataclass(frozen=True)
class Backlog:
    queued: int
    running: int
    made: int
    refused: int


class RenderQueue:
    def __init__(self, workers: int, backlog: int, wait: float) -> None:
        self._slots = asyncio.Semaphore(workers)
        self._workers = workers
        self._backlog = backlog
        self._wait = wait
        self._jobs: dict[str, asyncio.Task[Path]] = {}
        self._running = 0
        self._made = 0
        self._refused = 0
        self._seconds = _FIRST_ESTIMATE

    def backlog(self) -> Backlog:
        return Backlog(len(self._jobs) - self._running, self._running, self._made, self._refused)

    async def get(self, key: str, make: Callable[[], Awaitable[Path]], *,
                  bounded: bool = True) -> Path:
        """The file ``make`` renders, rendered once for every caller asking for ``key``.
        ``bounded``: refused past the backlog, and given up on after the wait."""
        job = self._jobs.get(key) or self._started(key, make, bounded)
        if not bounded:
            return await asyncio.shield(job)
        # asyncio.wait never cancels the job: a download given up on leaves the render going.
        done, _ = await asyncio.wait({job}, timeout=self._wait)
        if not done:
            raise RenderRefused("renderTimeout", f"The file is still being made after "
                                f"{self._wait:g} s (--render-wait); it will be served when "
                                "made: try again.", self._retry_after())
        return job.result()

    def _started(self, key: str, make: Callable[[], Awaitable[Path]],
                 bounded: bool) -> asyncio.Task[Path]:
        if bounded and len(self._jobs) >= self._backlog:
            self._refused += 1
            raise RenderRefused("renderBacklogFull", f"{len(self._jobs)} files are being made "
                                f"or waiting to be (--render-backlog {self._backlog}): try "
                                "again later.", self._retry_after())
        job = asyncio.get_running_loop().create_task(self._run(make))
        self._jobs[key] = job
        job.add_done_callback(lambda _: self._ended(key, job))
        return job

    async def _run(self, make: Callable[[], Awaitable[Path]]) -> Path:
        async with self._slots:
            self._running += 1
            started = time.monotonic()
            try:
                path = await make()
            finally:
                self._running -= 1
            self._made += 1
            elapsed = time.monotonic() - started
            self._seconds += _SMOOTHING * (elapsed - self._seconds)
            return path

    def _ended(self, key: str, job: asyncio.Task[Path]) -> None:
        if self._jobs.get(key) is job:
            del self._jobs[key]
        if not job.cancelled() and job.exception() is not None:
            # Retrieved here, so a render whose every download gave up is still reported.
            if disk_trouble(job.exception()):  # not a bug: a download retried makes it
                log.warning("making %s failed: %s", key, job.exception())
            else:
                log.error("making %s failed", key, exc_info=job.exception())

    def _retry_after(self) -> int:
        """Seconds until the backlog ahead has been rendered, at the measured pace."""
        return max(1, math.ceil(self._seconds * max(1, len(self._jobs)) / self._workers))

    async def close(self) -> None:
        """Cancel every queued and running render."""
        jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
