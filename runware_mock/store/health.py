"""Whether the data dir takes writes now: a full disk (or a read-only or failing one) makes
the emulator refuse what it cannot keep, with a 503 and ``Retry-After``, instead of
acknowledging it half-made.

The store's commits and the file writes that fail for lack of room report here; the next
commit that succeeds, or a probe (``GET /__health``), says the data dir is writable again.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
from pathlib import Path

from runware_mock.contract.errors import ApiError, error

# What an OSError's errno says of a disk that cannot take a write now (full, over quota,
# read-only, failing).
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO})
# Seconds a refused client is told to wait (Retry-After): room on a disk comes back when
# someone frees it, not in a moment.
RETRY_AFTER = 5
# Bytes the probe writes: a data dir with less room than this is not writable for our needs.
_PROBE_BYTES = 64 * 1024
_PROBE_NAME = ".write-probe"


class StoreUnwritable(Exception):
    """Something could not be kept for lack of a writable data dir: the request is refused
    (503), and leaves nothing behind."""


class StoreHealth:
    """The data dir's state as the last write found it."""

    def __init__(self) -> None:
        self.problem: str | None = None
        # Wall-clock time of the first failure of the current spell (epoch seconds).
        self.since: float | None = None
        self.refusals = 0
        # A file could not be written: a commit that succeeds says nothing of that (SQLite
        # reuses its log's room on a full disk), only a probe does.
        self._files_failed = False

    @property
    def writable(self) -> bool:
        return self.problem is None

    def failed(self, problem: str, *, files: bool = False) -> None:
        if self.problem is None:
            self.since = time.time()
        self.problem = problem
        self._files_failed = self._files_failed or files

    def committed(self) -> None:
        """A commit succeeded: writable again, unless a file write failed since a probe."""
        if not self._files_failed:
            self.recovered()

    def recovered(self) -> None:
        """A file and a commit both went through (``Database.probe``)."""
        self.problem = self.since = None
        self._files_failed = False

    def to_json(self) -> dict[str, object]:
        return {"writable": self.writable, "problem": self.problem, "since": self.since,
                "refusals": self.refusals}


def disk_trouble(exc: BaseException) -> bool:
    """Whether ``exc`` says the data dir cannot take a write now (not a bug of ours)."""
    return isinstance(exc, StoreUnwritable) or (
        isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS)


def refusal(health: StoreHealth, exc: BaseException, **fields: object) -> ApiError:
    """The Runware-shaped 503 a request gets when what it asks cannot be kept now."""
    health.failed(str(exc), files=not isinstance(exc, StoreUnwritable))
    health.refusals += 1
    return error("serviceUnavailable", "The emulator's data dir is not writable now (disk full?):"
                 f" {exc}. Nothing of this request was kept; send it again, the same taskUUID "
                 f"included, after Retry-After.", **fields)


async def probe_files(data_dir: Path) -> str | None:
    """Write, sync and remove a small file in the data dir; the error, if that failed."""
    def attempt() -> None:
        path = data_dir / _PROBE_NAME
        try:
            with path.open("wb") as probe:
                probe.write(b"\0" * _PROBE_BYTES)
                probe.flush()
                os.fsync(probe.fileno())
        finally:
            path.unlink(missing_ok=True)

    try:
        await asyncio.to_thread(attempt)
    except OSError as exc:
        return f"cannot write to the data dir {data_dir}: {exc.strerror or exc}"
    return None
