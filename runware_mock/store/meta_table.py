"""Values of the run that outlive it: how far the admin API advanced the simulated clock."""

from __future__ import annotations

from runware_mock.store.database import Database

_ADVANCED = "clock.advanced"


class MetaTable:
    def __init__(self, database: Database) -> None:
        self._db = database

    def load_clock_advance(self) -> float:
        """Blocking, at start."""
        rows = self._db.read("SELECT value FROM meta WHERE key = ?", (_ADVANCED,))
        return float(rows[0][0]) if rows else 0.0

    def save_clock_advance(self, seconds: float) -> None:
        self._db.write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                       (_ADVANCED, repr(seconds)))
