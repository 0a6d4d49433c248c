"""The fault rules table: the rules added through the admin API (with their specs), and the
counters of every rule, so ``times`` and ``nth`` go on counting across a restart."""

from __future__ import annotations

from typing import Any

from runware_mock.store.database import Database, decode, encode


class FaultRuleTable:
    def __init__(self, database: Database) -> None:
        self._db = database

    def save(self, rule_id: str, position: int, state: dict[str, Any]) -> None:
        """``state``: ``source``, ``matched``, ``fired``, the ``spec`` of an admin rule, and
        ``removed`` for a profile rule the admin API removed."""
        self._db.write("INSERT OR REPLACE INTO fault_rules (id, position, state) VALUES (?, ?, ?)",
                       (rule_id, position, encode(state)))

    def remove(self, rule_id: str) -> None:
        self._db.write("DELETE FROM fault_rules WHERE id = ?", (rule_id,))

    def load(self) -> list[tuple[str, dict[str, Any]]]:
        """(id, state) in the order the rules were added; blocking, at start."""
        rows = self._db.read("SELECT id, state FROM fault_rules ORDER BY position")
        return [(rule_id, decode(state)) for rule_id, state in rows]
