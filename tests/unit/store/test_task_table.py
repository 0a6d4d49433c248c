"""The tasks table on a real store (SQLite, its writer process), in process.

docs/configuration.md: "Reset removes every task and delivery from the store", a task is kept
"until --task-retention forgets it", and "a store written by an older runware-mock is upgraded
at start". A task's deliveries go with its row: each table's methods touch their own table, and
the schema keeps the deliveries of a deleted task from being owed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from runware_mock.store import schema
from runware_mock.store.database import Database
from runware_mock.store.delivery_table import DeliveryTable
from runware_mock.store.file_table import FileRow, FileTable
from runware_mock.store.task_table import TaskTable

WEBHOOK = "webhook"


def older_store(path: Path, version: int) -> None:
    """A store as the runware-mock of schema ``version`` left it: two tasks owing deliveries."""
    connection = sqlite3.connect(path)
    with connection:
        for migration in schema.MIGRATIONS[:version]:
            for statement in migration:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {version}")
        for task_uuid in ("a", "b"):
            connection.execute("INSERT INTO tasks (task_uuid, owner, state) VALUES (?, ?, ?)",
                               (task_uuid, "key", b"{}"))
            connection.execute("INSERT INTO deliveries (task_uuid, generation, kind, tries)"
                               " VALUES (?, 0, ?, 1)", (task_uuid, WEBHOOK))
    connection.close()


def with_store(path: Path, scenario: Callable[[Database], Awaitable[None]]) -> Database:
    async def run() -> None:
        database = Database(path)
        await database.start()
        try:
            await scenario(database)
        finally:
            await database.close()

    asyncio.run(asyncio.wait_for(run(), timeout=60))
    return Database(path)


def owed(database: Database) -> list[str]:
    return sorted({task_uuid for task_uuid, _, _ in DeliveryTable(database).load()})


def tasks(database: Database) -> list[str]:
    return sorted(row[0] for row in TaskTable(database).load())


def test_an_older_store_is_upgraded_and_a_forgotten_task_owes_no_delivery(
        tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    older_store(path, 2)

    async def forget_a(database: Database) -> None:
        assert database.upgraded_from == 2
        TaskTable(database).forget(["a"])
        await database.flush()

    reopened = with_store(path, forget_a)
    assert (tasks(reopened), owed(reopened)) == (["b"], ["b"])


def test_a_reset_clears_every_task_and_delivery_and_keeps_the_files(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    older_store(path, schema.VERSION)

    async def reset(database: Database) -> None:
        FileTable(database).save(FileRow("image", "u1", "/x.png", "png", None, "key", 1))
        TaskTable(database).clear()
        await database.flush()

    reopened = with_store(path, reset)
    assert (tasks(reopened), owed(reopened)) == ([], [])
    assert [row[1] for row in FileTable(reopened).load()] == ["u1"]


def test_forgetting_a_tasks_outputs_leaves_other_files(tmp_path: Path) -> None:
    """A task refused after all (its commit failed) leaves no output to make at a restart."""
    path = tmp_path / "state.sqlite3"
    older_store(path, schema.VERSION)

    async def withdraw_a(database: Database) -> None:
        files = FileTable(database)
        files.save(FileRow("video", "pending-a", "", "mp4", None, None, 0, "a", 0))
        files.save(FileRow("video", "pending-b", "", "mp4", None, None, 0, "b", 0))
        files.save(FileRow("image", "upload", "/in.png", "png", None, "key", 1))
        TaskTable(database).forget(["a"])
        files.forget_outputs("a")
        await database.flush()

    reopened = with_store(path, withdraw_a)
    assert sorted(row[1] for row in FileTable(reopened).load()) == ["pending-b", "upload"]
    assert (tasks(reopened), owed(reopened)) == (["b"], ["b"])
