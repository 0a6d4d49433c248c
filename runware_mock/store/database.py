"""The store's SQLite database: WAL mode, one writer thread, group commit.

Writes are queued on the event loop and committed by one thread in batches: everything queued
while a batch commits goes into the next one, so a burst of submits costs one commit per
batch, not one per task, and the loop never waits on the disk. ``committed()`` waits for the
batch holding what was queued so far: an acknowledgement awaits it, so whatever a client was
told is kept survives a crash of the process (WAL with ``synchronous=NORMAL`` loses nothing
the OS has been handed; only a power cut can take the last commits).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from runware_mock.protocol import jsoncodec
from runware_mock.store.schema import StoreVersionError, migrate

log = logging.getLogger("runware_mock.store")

FILENAME = "state.sqlite3"
Statement = tuple[str, Sequence[Any]]


class StoreError(RuntimeError):
    """The store could not be opened or written."""


class Database:
    def __init__(self, path: Path, wait_for_commit: bool = True) -> None:
        """Open (creating or upgrading) the store at ``path``; blocking, so called at start."""
        self.path = path
        self.wait_for_commit = wait_for_commit
        try:
            self._connection = sqlite3.connect(path, isolation_level=None,
                                               check_same_thread=False)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self.upgraded_from = migrate(self._connection)
        except (sqlite3.Error, StoreVersionError) as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from exc
        self._queued: list[Statement] = []
        self._queued_done: asyncio.Future[None] | None = None
        self._in_flight: asyncio.Future[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        # The event loop's, once known: a write from another thread (the disk budget runs in
        # one) is handed to it.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="runware-mock-store")

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query, at start (before any write is queued) or from a worker thread."""
        return self._connection.execute(sql, params).fetchall()

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query, read by the writer thread (after what is queued before it)."""
        await self.flush()
        return await asyncio.get_running_loop().run_in_executor(self._writer, self.read, sql,
                                                                params)

    def write(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Queue one statement; it commits with the next batch, in order."""
        if self._loop_thread != threading.get_ident():
            assert self._loop is not None, "bind() the store to its event loop first"
            self._loop.call_soon_threadsafe(self.write, sql, params)
            return
        self._queued.append((sql, params))
        if self._flusher is None:
            self._flusher = self._loop.create_task(self._flush())  # type: ignore[union-attr]

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop that queues and awaits writes; a write from another thread (the
        disk budget's worker, a test's thread) is handed to it."""
        self._loop, self._loop_thread = loop, threading.get_ident()

    def write_many(self, statements: Iterable[Statement]) -> None:
        for sql, params in statements:
            self.write(sql, params)

    async def committed(self) -> None:
        """Wait until everything queued so far is committed (at once on a store that does not
        wait for commits: an ephemeral run, which nothing outlives)."""
        if not self.wait_for_commit:
            return
        if self._queued:
            if self._queued_done is None:
                self._queued_done = asyncio.get_running_loop().create_future()
            waiting = self._queued_done
        elif self._in_flight is not None:
            waiting = self._in_flight
        else:
            return
        await asyncio.shield(waiting)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                done, self._queued_done = self._queued_done, None
                self._in_flight = done
                try:
                    await loop.run_in_executor(self._writer, self._commit, batch)
                except Exception as exc:
                    log.exception("the store failed to commit %d statements", len(batch))
                    if done is not None and not done.done():
                        done.set_exception(StoreError(f"the store could not commit: {exc}"))
                    continue
                if done is not None and not done.done():
                    done.set_result(None)
        finally:
            self._in_flight = None
            self._flusher = None

    def _commit(self, batch: list[Statement]) -> None:
        connection = self._connection
        connection.execute("BEGIN")
        try:
            for sql, params in batch:
                connection.execute(sql, params)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    async def flush(self) -> None:
        """Wait until every queued statement is committed, whatever ``wait_for_commit`` says."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def close(self) -> None:
        await self.flush()
        await asyncio.get_running_loop().run_in_executor(self._writer, self._connection.close)
        self._writer.shutdown(wait=True)


def prepare(path: Path) -> None:
    """Create or upgrade the store at ``path`` and close it: the CLI reports, before serving,
    a store it cannot use (``StoreError``)."""
    try:
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            migrate(connection)
        finally:
            connection.close()
    except (sqlite3.Error, StoreVersionError) as exc:
        raise StoreError(f"cannot use the store {path}: {exc}") from exc


def encode(value: Any) -> bytes:
    return jsoncodec.dumps(value)


def decode(raw: bytes | str) -> Any:
    return jsoncodec.loads(raw)
