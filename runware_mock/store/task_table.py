"""The tasks table: a row per task, from its ack until the retention forgets it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runware_mock.store.database import Database, decode, encode


class TaskTable:
    def __init__(self, database: Database) -> None:
        self._db = database

    def save(self, task_uuid: str, owner: str, state: dict[str, Any],
              finished_at: float | None = None) -> None:
        """A task as it is now (a new one: its ``state["request"]`` as it came)."""
        self._db.write("INSERT INTO tasks (task_uuid, owner, state, finished_at) VALUES"
                       " (?, ?, ?, ?) ON CONFLICT (task_uuid) DO UPDATE SET state ="
                       " excluded.state, finished_at = excluded.finished_at",
                       (task_uuid, owner, encode(state), finished_at))

    def summarise(self, task_uuid: str, sent: dict[str, Any]) -> None:
        """The task's request now holds less than ``sent`` (its inline media are on disk)."""
        self._db.write("UPDATE tasks SET sent = ? WHERE task_uuid = ? AND sent IS NULL",
                       (encode(sent), task_uuid))

    def forget(self, task_uuids: Iterable[str]) -> None:
        """The tasks' rows; their deliveries go with them (the schema's trigger)."""
        for task_uuid in task_uuids:
            self._db.write("DELETE FROM tasks WHERE task_uuid = ?", (task_uuid,))

    def clear(self) -> None:
        """Every task's row, and with them every delivery (the schema's trigger)."""
        self._db.write("DELETE FROM tasks")

    def load(self) -> list[tuple[str, str, float | None, bytes]]:
        """Every task as (taskUUID, owner, finished at or None, encoded state); blocking, at
        start (``decode`` reads a state)."""
        return self._db.read("SELECT task_uuid, owner, finished_at, state FROM tasks")

    async def sent(self, task_uuid: str) -> dict[str, Any] | None:
        """The request as it came, inline media included (to run the task again)."""
        rows = await self._db.query("SELECT sent, state FROM tasks WHERE task_uuid = ?",
                                    (task_uuid,))
        if not rows:
            return None
        sent, state = rows[0]
        return decode(sent) if sent is not None else decode(state)["request"]

    async def committed(self) -> None:
        await self._db.committed()
