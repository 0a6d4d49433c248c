"""The files table: every URL the emulator serves (uploads and outputs), by kind and UUID."""

from __future__ import annotations

from typing import NamedTuple

from runware_mock.store.database import Database


class FileRow(NamedTuple):
    """A tuple, as the database returns it: a store of many files is read fast at start."""

    kind: str
    uuid: str
    path: str  # "" while the file is not made
    extension: str
    expires_at: float | None
    owner: str | None
    made: int
    # The task and result index of an output not made yet.
    task_uuid: str | None = None
    generation: int | None = None


class FileTable:
    def __init__(self, database: Database) -> None:
        self._db = database

    def save(self, row: FileRow) -> None:
        self._db.write("INSERT OR REPLACE INTO files (kind, uuid, path, extension, expires_at,"
                       " owner, made, task_uuid, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       row)

    def remove(self, kind: str, item_uuid: str) -> None:
        self._db.write("DELETE FROM files WHERE kind = ? AND uuid = ?", (kind, item_uuid))

    def forget_outputs(self, task_uuid: str) -> None:
        """The rows of the task's outputs not made yet (the only rows naming their task)."""
        self._db.write("DELETE FROM files WHERE task_uuid = ?", (task_uuid,))

    def clear(self) -> None:
        self._db.write("DELETE FROM files")

    def load(self) -> list[FileRow]:
        """Blocking, at start."""
        rows = self._db.read("SELECT kind, uuid, path, extension, expires_at, owner, made,"
                             " task_uuid, generation FROM files")
        # The database's tuples, which FileRow describes: a NamedTuple made of each of
        # 100,000 rows would cost a tenth of a second more at start.
        return rows  # type: ignore[return-value]

    async def committed(self) -> None:
        await self._db.committed()
