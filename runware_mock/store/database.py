"""The store's SQLite database: WAL mode, group commit by a writer process.

Writes are queued on the event loop; at the end of each turn of the loop the queued ones go,
as one batch, down a pipe to the store's writer process (``store.writer``), which commits
each batch as one transaction and answers in order. A burst of submits costs one commit per
batch, not one per task, and the loop never waits on the disk. ``committed()`` waits for the
batch holding what was queued so far: an acknowledgement awaits it, so whatever a client was
told is kept survives a crash of the emulator (WAL with ``synchronous=NORMAL`` loses nothing
the OS has been handed; only a power cut can take the last commits).

Reads (at start, and the rare request read back later) use a connection of this process in
a worker thread; WAL lets them read while the writer writes.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import marshal
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runware_mock.protocol import jsoncodec
from runware_mock.store import writer
from runware_mock.store.health import StoreHealth, StoreUnwritable, probe_files
from runware_mock.store.schema import StoreVersionError, migrate

log = logging.getLogger("runware_mock.store")

FILENAME = "state.sqlite3"
Statement = tuple[str, Sequence[Any]]


class StoreError(RuntimeError):
    """The store could not be opened or written."""


class CommitFailed(StoreError, StoreUnwritable):
    """A batch was not committed (a full disk, most often): none of it is in the store."""


class Database:
    def __init__(self, path: Path, wait_for_commit: bool = True) -> None:
        """Open (creating or upgrading) the store at ``path``; blocking, so called at start.
        ``start`` (on the event loop) then starts its writer."""
        self.path = path
        self.wait_for_commit = wait_for_commit
        try:
            self._connection = writer.connect(str(path))
            self.upgraded_from = migrate(self._connection)
        except (sqlite3.Error, StoreVersionError) as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from exc
        self._reading = threading.Lock()
        self._queued: list[Statement] = []
        # Resolved when the queued statements are committed; created by the first waiter.
        self._queued_done: asyncio.Future[None] | None = None
        self._send_scheduled = False
        # Batches sent to the writer and not answered yet, oldest first.
        self._in_flight: collections.deque[asyncio.Future[None]] = collections.deque()
        self._broken: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._writer: asyncio.subprocess.Process | None = None
        self._answers: asyncio.Task[None] | None = None
        self.health = StoreHealth()

    async def start(self) -> None:
        """Start the writer process, on the event loop that queues and awaits writes; a write
        from another thread (the disk budget's worker, a test's thread) is handed to it."""
        self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        # Run as a script, isolated and without site: it needs only the standard library, and
        # so starts in a few milliseconds, where importing the package (and an editable
        # install's finder) took a tenth of a second at every start of an emulator.
        self._writer = await asyncio.create_subprocess_exec(
            sys.executable, "-I", "-S", writer.__file__, str(self.path),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        self._answers = self._loop.create_task(self._read_answers())

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query; blocking: at start, or in a worker thread."""
        with self._reading:
            return self._connection.execute(sql, params).fetchall()

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query, once what was queued before it is committed."""
        await self.flush()
        return await asyncio.to_thread(self.read, sql, params)

    def write(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Queue one statement; it commits with the next batch, in order."""
        if self._loop_thread != threading.get_ident():
            assert self._loop is not None, "start() the store first"
            self._loop.call_soon_threadsafe(self.write, sql, params)
            return
        # A plain tuple: marshal takes no subclass (a NamedTuple row).
        self._queued.append((sql, tuple(params)))
        if not self._send_scheduled:
            # Sent once this turn of the loop is over: the requests it serves share a commit.
            self._send_scheduled = True
            self._loop.call_soon(self._send)  # type: ignore[union-attr]

    async def committed(self) -> None:
        """Wait until everything queued so far is committed (at once on a store that does not
        wait for commits: an ephemeral run, which nothing outlives)."""
        if not self.wait_for_commit:
            return
        if self._queued:
            if self._queued_done is None:
                self._queued_done = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._queued_done)
        elif self._in_flight:
            # The writer answers batches in order: the newest committed, all are.
            await asyncio.shield(self._in_flight[-1])

    async def flush(self) -> None:
        """Wait until every queued statement is committed, whatever ``wait_for_commit`` says."""
        if self._queued:
            self._send()
        if self._in_flight:
            await asyncio.shield(self._in_flight[-1])

    def _send(self) -> None:
        self._send_scheduled = False
        if not self._queued:
            return
        batch, self._queued = self._queued, []
        done = self._queued_done or self._loop.create_future()  # type: ignore[union-attr]
        self._queued_done = None
        if self._broken is not None:
            self.health.failed(self._broken)
            _fail(done, self._broken)
            return
        assert self._writer is not None and self._writer.stdin is not None
        try:
            frame = marshal.dumps(batch)
        except ValueError as exc:  # a value no store column takes: the emulator's own bug
            _fail(done, f"a statement has a value the store cannot take: {exc}", StoreError)
            return
        self._writer.stdin.write(writer.HEADER.pack(len(frame)) + frame)
        self._in_flight.append(done)

    async def _read_answers(self) -> None:
        assert self._writer is not None and self._writer.stdout is not None
        while answers := await self._writer.stdout.read(4096):
            for answer in answers:
                done = self._in_flight.popleft()
                if answer == writer.COMMITTED[0]:
                    self.health.committed()
                    if not done.done():
                        done.set_result(None)
                else:
                    self.health.failed("the store could not commit (is the disk full?)")
                    _fail(done, "the store's writer could not commit a batch (see its log)")
        self._broken = "the store's writer has stopped"
        while self._in_flight:
            _fail(self._in_flight.popleft(), self._broken)

    async def probe(self) -> StoreHealth:
        """Whether the data dir takes writes now: a small file written there and a commit
        tried (the health endpoint's check: it finds the room back, or gone, while nothing
        else is written)."""
        problem = await probe_files(self.path.parent)
        if problem is not None:
            self.health.failed(problem, files=True)
        else:
            self.write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                       ("store.probed", repr(time.time())))
            try:
                await self.flush()
            except StoreError as exc:
                self.health.failed(str(exc))
            else:
                self.health.recovered()
        return self.health

    async def close(self) -> None:
        await self.flush()
        if self._writer is not None and self._writer.stdin is not None:
            self._writer.stdin.close()
            await self._writer.wait()
        if self._answers is not None:
            await self._answers
        await asyncio.to_thread(self._connection.close)


def _fail(done: asyncio.Future[None], reason: str,
          kind: type[StoreError] = CommitFailed) -> None:
    log.error("the store could not commit: %s", reason)
    if not done.done():
        done.set_exception(kind(f"the store could not commit: {reason}"))
        # Marked seen: nobody may be waiting for this batch, and that is no error of its own.
        done.exception()


def prepare(path: Path) -> None:
    """Create or upgrade the store at ``path`` and close it: the CLI reports, before serving,
    a store it cannot use (``StoreError``)."""
    try:
        connection = writer.connect(str(path))
        try:
            migrate(connection)
        finally:
            connection.close()
    except (sqlite3.Error, StoreVersionError) as exc:
        raise StoreError(f"cannot use the store {path}: {exc}") from exc


def encode(value: Any) -> bytes:
    return jsoncodec.dumps(value)


def decode(raw: bytes | str) -> Any:
    return jsoncodec.loads(raw)
