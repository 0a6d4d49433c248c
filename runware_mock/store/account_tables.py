"""What the store keeps of each API key's account: the models it uploaded, what each of its
results cost, and the balance the admin API last set for it."""

from __future__ import annotations

from typing import Any, NamedTuple

from runware_mock.store.database import Database, decode, encode


class Spent(NamedTuple):
    """One result's cost, charged to its API key (``at``: Unix seconds), or the error code
    that ended it (charged nothing)."""

    task_uuid: str
    generation: int
    owner: str
    task_type: str
    model: str
    cost: float
    at: float
    error_code: str | None = None


class Balance(NamedTuple):
    """The balance set for a key, and what the key had spent when it was set."""

    owner: str
    usd: float
    spent_then: float


class AccountTables:
    def __init__(self, database: Database) -> None:
        self._db = database

    def save_model(self, owner: str, air: str, spec: dict[str, Any]) -> None:
        """An uploaded model as its last upload described it (the same AIR replaces it)."""
        self._db.write("INSERT INTO uploaded_models (owner, air, spec) VALUES (?, ?, ?)"
                       " ON CONFLICT (owner, air) DO UPDATE SET spec = excluded.spec",
                       (owner, air, encode(spec)))

    def load_models(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every uploaded model as (owner, AIR, spec); blocking, at start."""
        return [(owner, air, decode(spec)) for owner, air, spec in
                self._db.read("SELECT owner, air, spec FROM uploaded_models")]

    def charge(self, spent: Spent) -> None:
        """A result's cost; charged once, whatever reports it again."""
        self._db.write("INSERT OR IGNORE INTO spending (task_uuid, generation, owner, task_type,"
                       " model, cost, at, error_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       tuple(spent))

    def load_spending(self) -> list[Spent]:
        """Blocking, at start."""
        return [Spent(*row) for row in self._db.read(
            "SELECT task_uuid, generation, owner, task_type, model, cost, at, error_code"
            " FROM spending")]

    def set_balance(self, balance: Balance) -> None:
        self._db.write("INSERT OR REPLACE INTO balances (owner, usd, spent_then) VALUES"
                       " (?, ?, ?)", tuple(balance))

    def load_balances(self) -> list[Balance]:
        """Blocking, at start."""
        return [Balance(*row) for row in self._db.read(
            "SELECT owner, usd, spent_then FROM balances")]
