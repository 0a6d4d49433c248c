"""The deliveries table: per result and kind (webhook, upload), the tries made so far and
whether the delivery ended (delivered, given up, skipped or refused). A finished result of a
task with a webhook or an upload and no ended row is owed: it is delivered after a restart."""

from __future__ import annotations

from runware_mock.store.database import Database

# (taskUUID, generation index, kind) -> (tries made, ended)
Progress = dict[tuple[str, int, str], tuple[int, bool]]


class DeliveryTable:
    def __init__(self, database: Database) -> None:
        self._db = database

    def save_tries(self, task_uuid: str, generation: int, kind: str, tries: int,
              ended: bool) -> None:
        self._db.write("INSERT OR REPLACE INTO deliveries (task_uuid, generation, kind, tries,"
                       " ended) VALUES (?, ?, ?, ?, ?)",
                       (task_uuid, generation, kind, tries, int(ended)))

    def load(self) -> Progress:
        """Blocking, at start."""
        rows = self._db.read("SELECT task_uuid, generation, kind, tries, ended FROM deliveries")
        return {(task_uuid, generation, kind): (tries, bool(ended))
                for task_uuid, generation, kind, tries, ended in rows}
