"""The store's writer: a small process of its own that commits the batches the emulator sends.

    python -m runware_mock.store.writer STORE

It reads frames from stdin (a 4-byte big-endian length, then a ``marshal``-ed list of
``(sql, params)``), commits each batch as one transaction, and answers each with one byte on
stdout, in order: ``+`` committed, ``-`` failed (the reason goes to stderr). It ends at the end
of its input, once the last batch is committed: when the emulator stops, or dies.

Why a process: a writer thread of the emulator's own would wait for the interpreter's lock
after every SQLite call while the event loop serves requests, and a commit took a millisecond
instead of tens of microseconds; a process has its own.
"""

from __future__ import annotations

import itertools
import marshal
import signal
import sqlite3
import struct
import sys
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

Statement = tuple[str, Sequence[Any]]
HEADER = struct.Struct(">I")
COMMITTED, FAILED = b"+", b"-"
# Most rows one merged statement inserts (SQLite allows 250,000 variables in Python's build;
# a lower bound keeps each statement's text small).
_ROWS_PER_STATEMENT = 500


def connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    # Nothing the OS was handed is lost when a process dies; only a power cut can take the
    # last commits (WAL then fsyncs at checkpoints only).
    connection.execute("PRAGMA synchronous=NORMAL")
    # A writer of a server killed a moment ago may still be finishing its last commit.
    connection.execute("PRAGMA busy_timeout=10000")
    return connection


def commit(connection: sqlite3.Connection, batch: list[Statement]) -> None:
    statements = list(merged(batch))
    if len(statements) == 1:  # a transaction of its own
        connection.execute(*statements[0])
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        for sql, params in statements:
            connection.execute(sql, params)
        connection.execute("COMMIT")
    except BaseException:
        # A COMMIT that failed (a full disk) leaves the transaction open: the next batch
        # would run inside it and be answered committed when it is not.
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def merged(batch: list[Statement]) -> Iterator[Statement]:
    """The batch with each run of the same ``INSERT ... VALUES (?, ...)`` made one statement
    of many rows, in order (a later row of one key still wins): a batch of a thousand submits
    is a few statements, not a thousand."""
    for sql, run in itertools.groupby(batch, key=lambda statement: statement[0]):
        head, values, tail = sql.partition(" VALUES (")
        rows = [params for _, params in run]
        if not values or len(rows) == 1:
            yield from ((sql, params) for params in rows)
            continue
        end = tail.index(")") + 1
        row, rest = "(" + tail[:end], tail[end:]
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start:start + _ROWS_PER_STATEMENT]
            yield (f"{head} VALUES {', '.join([row] * len(chunk))}{rest}",
                   [value for params in chunk for value in params])


def frames(source: BinaryIO) -> Iterator[list[Statement]]:
    while header := source.read(HEADER.size):
        if len(header) < HEADER.size:
            return
        body = source.read(HEADER.unpack(header)[0])
        yield marshal.loads(body)


def main(argv: list[str]) -> int:
    # Ctrl-C in a terminal goes to the whole process group: the emulator stops, and closing
    # the pipe is what ends the writer, once every batch sent is committed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection = connect(argv[0])
    answers = sys.stdout.buffer
    for batch in frames(sys.stdin.buffer):
        try:
            commit(connection, batch)
        except sqlite3.Error as exc:
            print(f"runware-mock store: a commit of {len(batch)} statements failed: {exc}",
                  file=sys.stderr, flush=True)
            answers.write(FAILED)
        else:
            answers.write(COMMITTED)
        answers.flush()
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
