"""The account logic under accountManagement and modelUpload, in-process: charging each result
once, usage windows, the balance and its refusal, and the lookup that makes a key's uploaded
checkpoint a model for that key only (runware-surface.md §2.10-2.11)."""

from __future__ import annotations

from typing import Any

import pytest

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal
from runware_mock.engine.lifecycle import ERROR, SUCCESS, Generation, Task
from runware_mock.handling.accounts import Accounts

DAY = 24 * 3600.0
NOW = 1_800_000_000.0
PAID = "runware:101@1"


def finished(owner: str, task_uuid: str, cost: float | None, status: str = SUCCESS,
             results: int = 1) -> Task:
    generations = [Generation(index, seed=index, status=status, cost=cost)
                   for index in range(results)]
    return Task(owner, task_uuid, {"taskType": "imageInference", "taskUUID": task_uuid,
                                   "model": PAID}, 0.0, generations, None)


def charge(accounts: Accounts, task: Task) -> None:
    for generation in task.generations:
        accounts.on_finished(task, generation)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def test_every_result_is_charged_once_and_tasks_count_once() -> None:
    accounts = Accounts()
    task = finished("key", "t1", 0.25, results=2)
    charge(accounts, task)
    charge(accounts, task)  # reported again (a restart, a second listener): not charged again
    assert accounts.spent("key") == 0.5
    assert accounts.usage("key")["total"] == {"credits": 0.5, "requests": 1}
    assert accounts.spent("another key") == 0


def test_a_failed_result_is_recorded_and_charged_nothing() -> None:
    accounts = Accounts()
    charge(accounts, finished("key", "t1", 0.25, status=ERROR))
    assert accounts.spent("key") == 0
    assert [spent.task_uuid for spent in accounts.activity("key")] == ["t1"]


def test_usage_windows_count_back_from_now() -> None:
    clock = Clock()
    accounts = Accounts(now=clock)
    for days_ago, task_uuid in ((40, "old"), (10, "month"), (3, "week"), (0, "today")):
        clock.now = NOW - days_ago * DAY
        charge(accounts, finished("key", task_uuid, 1.0))
    clock.now = NOW
    usage = accounts.usage("key")
    assert [usage[window]["requests"] for window in ("total", "last30Days", "last7Days",
                                                     "today")] == [4, 3, 2, 1]


def test_the_balance_is_the_credit_less_what_was_spent_since() -> None:
    accounts = Accounts(default_balance=1.0)
    charge(accounts, finished("key", "t1", 0.25))
    assert accounts.balance("key") == 0.75
    accounts.set_balance("key", 2.0)  # what is left from now on
    charge(accounts, finished("key", "t2", 0.5))
    assert accounts.balance("key") == 1.5
    assert accounts.balance("another key") == 1.0


def test_a_spent_balance_refuses_paid_tasks_only() -> None:
    accounts = Accounts(default_balance=0.5)
    paid = {"taskType": "imageInference", "model": PAID}
    accounts.check_credit("key", paid)
    charge(accounts, finished("key", "t1", 0.5))
    with pytest.raises(ApiRefusal) as refused:
        accounts.check_credit("key", paid)
    assert (refused.value.problem.code, refused.value.problem.status) == \
        ("insufficientCredits", 402)
    accounts.check_credit("key", {"taskType": "caption", "model": "runware:150@2"})  # free
    accounts.check_credit("key", {"taskType": "modelUpload"})  # no model: free


def upload(category: str = "checkpoint", **fields: Any) -> dict[str, Any]:
    return {"air": "qatests:1@1", "name": "mine", "category": category, **fields}


@pytest.fixture
def accounts() -> Any:
    found = Accounts()
    model_catalog.add_owner_models(found.model_for)
    yield found
    model_catalog.remove_owner_models(found.model_for)


def test_an_uploaded_checkpoint_is_a_model_for_its_key_only(accounts: Accounts) -> None:
    accounts.keep_model("key", upload())
    owned = model_catalog.model_for("qatests:1@1", "key")
    assert owned is not None and owned.task_type == "imageInference"
    assert model_catalog.model_for("qatests:1@1", "another key") is None


def test_an_uploaded_lora_is_not_a_tasks_model(accounts: Accounts) -> None:
    accounts.keep_model("key", upload("lora"))
    assert model_catalog.model_for("qatests:1@1", "key") is None
    assert accounts.uploaded("key", "qatests:1@1") == upload("lora")
