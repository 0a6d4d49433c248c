"""Each API key's account: the models it uploaded (modelUpload), what its results cost, and its
balance (accountManagement; a task the balance cannot pay is refused with
``insufficientCredits``).

The store is the source of truth (``store.account_tables``): what is here is read from it at
start and written to it on every change, so uploads, spending and balances survive restarts.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.engine.lifecycle import SUCCESS, Generation, Task
from runware_mock.store.account_tables import AccountTables, Balance, Spent

# The open source whose family and price an uploaded checkpoint takes: an uploaded model is
# open weights the real service runs, like an unlisted CivitAI checkpoint (contract/models/
# open.toml gives that rule).
_OPEN_WEIGHTS_SOURCE = "civitai"
_DAY = 24 * 3600.0
# accountManagement's usage windows: (name, days back from now; None: all time).
USAGE_WINDOWS: tuple[tuple[str, float | None], ...] = (
    ("total", None), ("today", 1.0), ("last7Days", 7.0), ("last30Days", 30.0))


class Accounts:
    def __init__(self, default_balance: float = math.inf, tables: AccountTables | None = None,
                 now: Callable[[], float] = time.time) -> None:
        """``default_balance``: the credit, in USD, of a key the admin API set none for
        (``--balance``); ``tables``: where the account is kept (``None``: in memory only)."""
        self._default_balance = default_balance
        self._tables = tables
        self._now = now
        self._models: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._spending: dict[str, list[Spent]] = defaultdict(list)
        self._charged: set[tuple[str, int]] = set()
        # What each key spent so far: kept as results are charged, as every submit reads it.
        self._spent: dict[str, float] = defaultdict(float)
        self._balances: dict[str, Balance] = {}

    def load(self) -> None:
        """What the store keeps (blocking, at start)."""
        if self._tables is None:
            return
        for owner, air, spec in self._tables.load_models():
            self._models[owner][air] = spec
        for spent in self._tables.load_spending():
            self._add_spent(spent)
        self._balances = {balance.owner: balance for balance in self._tables.load_balances()}

    # --- uploaded models -------------------------------------------------------------------

    def uploaded(self, owner: str, air: str) -> dict[str, Any] | None:
        """The model ``owner`` uploaded under ``air``, as its last upload described it."""
        return self._models.get(owner, {}).get(air)

    def uploaded_models(self, owner: str) -> list[dict[str, Any]]:
        return list(self._models.get(owner, {}).values())

    def keep_model(self, owner: str, spec: dict[str, Any]) -> None:
        """An upload's model (the same AIR replaces the one it had)."""
        self._models[owner][spec["air"]] = spec
        if self._tables is not None:
            self._tables.save_model(owner, spec["air"], spec)

    def model_for(self, air: str, owner: str | None) -> model_catalog.Model | None:
        """An uploaded checkpoint as a model ``imageInference`` runs (the catalog's lookup of
        a key's models, ``model_catalog.add_owner_models``; ``owner`` None: any key's, for a
        task validated already); LoRAs, VAEs and the other categories are not a task's
        ``model``."""
        owners = [owner] if owner is not None else list(self._models)
        spec = next((found for found in (self.uploaded(key, air) for key in owners) if found),
                    None)
        if spec is None or spec["category"] != "checkpoint":
            return None
        open_weights = model_catalog.open_sources()[_OPEN_WEIGHTS_SOURCE]
        return model_catalog.Model(air, spec["name"], open_weights.family, open_weights.price)

    # --- spending and balance --------------------------------------------------------------

    def on_finished(self, task: Task, generation: Generation) -> None:
        """An engine listener: a result that succeeded is charged to its task's key (its
        price, whether or not the request asked to see it with ``includeCost``); one that
        failed is recorded, with its error code, and charged nothing."""
        failed = generation.status != SUCCESS
        spent = Spent(task.task_uuid, generation.index, task.owner, task.task_type,
                      str(task.request.get("model", "")),
                      0.0 if failed else generation.cost or 0.0, self._now(),
                      generation.error.code if failed and generation.error else None)
        if self._add_spent(spent) and self._tables is not None:
            self._tables.charge(spent)

    def activity(self, owner: str) -> list[Spent]:
        """Every result of the key's tasks so far, oldest first."""
        return list(self._spending.get(owner, ()))

    def _add_spent(self, spent: Spent) -> bool:
        key = (spent.task_uuid, spent.generation)
        if key in self._charged:
            return False
        self._charged.add(key)
        self._spending[spent.owner].append(spent)
        self._spent[spent.owner] += spent.cost
        return True

    def spent(self, owner: str) -> float:
        return self._spent.get(owner, 0.0)

    def usage(self, owner: str) -> dict[str, dict[str, float | int]]:
        """``{total, today, last7Days, last30Days: {credits, requests}}``: USD spent and tasks
        run (a task of several results counts once) in each window, back from now."""
        now, spending = self._now(), self._spending.get(owner, [])
        usage = {}
        for name, days in USAGE_WINDOWS:
            inside = [spent for spent in spending if days is None or spent.at > now - days * _DAY]
            usage[name] = {"credits": round(sum(spent.cost for spent in inside), 5),
                           "requests": len({spent.task_uuid for spent in inside})}
        return usage

    def last_used(self, owner: str) -> float | None:
        spending = self._spending.get(owner)
        return max(spent.at for spent in spending) if spending else None

    def balance(self, owner: str) -> float:
        """What the key has left: the balance set for it (``--balance`` or the admin API)
        less what it spent since."""
        found = self._balances.get(owner)
        if found is None:
            return self._default_balance - self.spent(owner)
        return found.usd - (self.spent(owner) - found.spent_then)

    def set_balance(self, owner: str, usd: float) -> None:
        """The key has ``usd`` left from now on (the admin API)."""
        balance = Balance(owner, usd, self.spent(owner))
        self._balances[owner] = balance
        if self._tables is not None:
            self._tables.set_balance(balance)

    def check_credit(self, owner: str, request: dict[str, Any]) -> None:
        """Refuse (``insufficientCredits``, HTTP 402) a paid task once the key's balance is
        spent; a task of a free model runs whatever the balance."""
        found = model_catalog.model_for(request.get("model"), owner)
        if found is None or found.price.usd <= 0:
            return
        left = self.balance(owner)
        if left <= 0:
            raise ApiRefusal(error(
                "insufficientCredits", f"Insufficient credits: this API key's balance is "
                f"{max(left, 0.0):.5f} USD (set with --balance or the admin API, "
                "PUT /__admin/accounts/{apiKey}/balance).", parameter="apiKey"))
