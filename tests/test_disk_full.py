"""Issue 27, item 1: all or nothing on a bad disk. A real server whose data dir is on a small
tmpfs that fills up mid-load (benchmarks/_disk_full.py, the campaign's probe) answers every
request 200 or a Runware-shaped 503 with Retry-After, keeps no trace of a task it refused,
accepts a refused taskUUID once there is room, says "store not writable" on its health
endpoint meanwhile, and loses nothing it acknowledged across a kill -9 and restart.

Mounting a tmpfs needs root (or a machine that allows it): elsewhere the test is skipped with
the reason.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from benchmarks._disk_full import KINDS, REFUSALS_WANTED, mount_problem, run_disk_full
from runware_mock.store import writer


@pytest.fixture(scope="module")
def tmpfs_allowed() -> None:
    problem = mount_problem()
    if problem is not None:
        pytest.skip(problem)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_disk_filled_mid_load_refuses_what_it_cannot_keep_and_keeps_what_it_acked(
        tmpfs_allowed: None, workers: int) -> None:
    run = run_disk_full(workers, seed=27)
    assert run.result() == dict.fromkeys(KINDS, 0), "\n".join(run.notes)
    # The disk did fill: tasks were refused, and every one was taken once there was room.
    assert run.accepted_again >= REFUSALS_WANTED
    assert run.refused == {}
    assert run.websocket["answered"] > 0  # a refusal is an error frame there, an ack an ack
    # Every answer was an ack, a poll's taskNotFound of a refused task, or a refusal.
    assert set(run.statuses) <= {"POST 200", "POST 404", "POST 503", "GET 200", "GET 503"}, (
        run.statuses)
    assert run.health_while_full is not None and run.health_after is not None
    assert (run.health_while_full["http"], run.health_while_full["status"],
            run.health_while_full["store"]["writable"]) == (503, "storeNotWritable", False)
    assert (run.health_after["http"], run.health_after["status"],
            run.health_after["store"]["writable"]) == (200, "ok", True)
    assert (run.banner_while_full, run.banner_after) == (True, False)


def test_a_batch_whose_commit_fails_leaves_no_transaction_open(tmp_path: Path) -> None:
    """A COMMIT that fails (a full disk; here a deferred constraint) is rolled back: left
    open, the next batch would run inside it and be answered committed when it is not."""
    connection = writer.connect(str(tmp_path / "store.sqlite3"))
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    connection.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES"
                       " parent (id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(sqlite3.IntegrityError):
        writer.commit(connection, [("INSERT INTO child VALUES (?, ?)", (1, 99)),
                                   ("INSERT INTO parent VALUES (?)", (5,))])
    assert not connection.in_transaction
    writer.commit(connection, [("INSERT INTO parent VALUES (?)", (7,))])
    other = sqlite3.connect(tmp_path / "store.sqlite3")
    assert other.execute("SELECT id FROM parent").fetchall() == [(7,)]
    other.close()
    connection.close()
