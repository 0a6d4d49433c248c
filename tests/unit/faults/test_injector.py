"""The fault injector in process (faults/injector.py), against docs/faults.md's "Rules" section:
rules are tried header first, then the admin API's (oldest first), then the profile; the first
rule that matches and fires wins, at most one fault per scope; ``nth``, ``probability`` (drawn
from --seed, keyed by the rule and the request's first taskUUID) and ``times``; only traffic a
kind can act on counts as a match; the admin API lists ``matched`` and ``fired`` and its
DELETE removes every rule, the profile's included; counters outlive a restart."""

from __future__ import annotations

from typing import Any

from runware_mock.engine.randomness import Randomness
from runware_mock.faults.fault_kinds import DELIVERY, TASK, TRANSPORT, Traffic
from runware_mock.faults.injector import FaultInjector
from runware_mock.faults.rules import header_rules, rule_from_spec

REST = "rest"


def traffic(uuid: str = "t-1", task_type: str = "imageInference", **fields: Any) -> Traffic:
    return Traffic(transport=REST, api_key="key", task_types=(task_type,),
                   models=("runware:400@2",), task_uuids=(uuid,), **fields)


def profile(*specs: dict[str, Any]) -> list[Any]:
    return [rule_from_spec(spec, f"profile-{number}", "profile")
            for number, spec in enumerate(specs, 1)]


def fired(injector: FaultInjector, scope: str, seen: Traffic, header: Any = ()) -> str | None:
    fault = injector.pick(scope, seen, header)
    return None if fault is None else f"{fault.source}:{fault.name}"


def test_header_then_admin_oldest_first_then_profile() -> None:
    injector = FaultInjector(Randomness(0), profile({"kind": "malformed"}))
    assert fired(injector, TRANSPORT, traffic()) == "profile:malformed"
    injector.add({"kind": "reset"})
    injector.add({"kind": "empty"})
    assert fired(injector, TRANSPORT, traffic()) == "admin:reset"
    header = header_rules(["hang; seconds=1"])
    assert fired(injector, TRANSPORT, traffic(), header) == "header:hang"
    assert [rule.id for rule in injector.rules()] == ["rule-1", "rule-2", "profile-1"]


def test_one_fault_per_scope_and_scopes_apart() -> None:
    injector = FaultInjector(Randomness(0), profile(
        {"kind": "reset"}, {"kind": "never_finish"}, {"kind": "webhook_skip"}))
    assert fired(injector, TRANSPORT, traffic()) == "profile:reset"
    assert fired(injector, TASK, traffic()) == "profile:never_finish"
    assert fired(injector, DELIVERY, traffic()) is None, "no webhookURL: nothing to act on"
    assert fired(injector, DELIVERY, traffic(has_webhook=True)) == "profile:webhook_skip"


def test_a_rule_matches_on_its_fields_omitted_meaning_any() -> None:
    injector = FaultInjector(Randomness(0))
    injector.add({"kind": "reset", "taskType": "videoInference", "apiKey": "key"})
    assert fired(injector, TRANSPORT, traffic()) is None
    assert fired(injector, TRANSPORT, traffic(task_type="videoInference")) == "admin:reset"
    injector.clear()
    injector.add({"kind": "reset", "taskUUID": "T-9"})  # a taskUUID in any case
    assert fired(injector, TRANSPORT, traffic("t-9")) == "admin:reset"
    assert fired(injector, TRANSPORT, traffic("t-8")) is None


def test_nth_and_times() -> None:
    injector = FaultInjector(Randomness(0))
    rule = injector.add({"kind": "reset", "nth": 3, "times": 2})
    outcomes = [fired(injector, TRANSPORT, traffic(f"t-{n}")) for n in range(6)]
    assert outcomes == [None, None, "admin:reset", "admin:reset", None, None]
    assert (rule.matched, rule.fired) == (6, 2)
    assert rule.to_json()["matched"] == 6 and rule.to_json()["fired"] == 2


def test_only_traffic_a_kind_can_act_on_counts_as_a_match() -> None:
    injector = FaultInjector(Randomness(0))
    close = injector.add({"kind": "ws_close"})
    no_pong = injector.add({"kind": "ws_no_pong"})
    frame = Traffic(transport="websocket", task_types=("imageInference",), task_uuids=("t",))
    assert injector.pick(TRANSPORT, frame) is None
    assert (close.matched, no_pong.matched) == (0, 0)
    video = Traffic(transport="websocket", task_types=("videoInference",), task_uuids=("v",))
    assert fired(injector, TRANSPORT, video) == "admin:ws_close"
    pings = Traffic(transport="websocket", task_types=("ping",))
    assert fired(injector, TRANSPORT, pings) == "admin:ws_no_pong"


def test_content_policy_only_where_safety_checks_content() -> None:
    injector = FaultInjector(Randomness(0))
    injector.add({"kind": "task_error", "code": "contentPolicyViolation"})
    assert fired(injector, TASK, traffic()) is None
    assert fired(injector, TASK, traffic(checks_content=True)) == "admin:task_error"


def test_upload_faults_only_on_tasks_with_an_upload_endpoint() -> None:
    injector = FaultInjector(Randomness(0))
    injector.add({"kind": "upload_fail"})
    assert fired(injector, DELIVERY, traffic(has_webhook=True)) is None
    assert fired(injector, DELIVERY, traffic(has_upload=True)) == "admin:upload_fail"


def draws(seed: int, uuids: list[str]) -> dict[str, bool]:
    injector = FaultInjector(Randomness(seed))
    injector.add({"kind": "reset", "probability": 0.5})
    return {uuid: injector.pick(TRANSPORT, traffic(uuid)) is not None for uuid in uuids}


def test_probability_is_seeded_and_keyed_by_the_task_not_the_order() -> None:
    uuids = [f"task-{number}" for number in range(400)]
    first = draws(7, uuids)
    assert draws(7, list(reversed(uuids))) == first, "same seed and traffic, same faults"
    assert 120 < sum(first.values()) < 280, "about half"
    assert draws(8, uuids) != first


def test_a_header_rule_draws_afresh_for_each_request_it_comes_with() -> None:
    injector = FaultInjector(Randomness(3))
    outcomes = [injector.pick(TRANSPORT, traffic("same"), header_rules(["reset; probability=0.5"]))
                is not None for _ in range(60)]
    assert 10 < sum(outcomes) < 50, "a repeated header does not repeat the same draw"


def test_clear_removes_every_rule_the_profiles_too() -> None:
    injector = FaultInjector(Randomness(0), profile({"kind": "reset"}))
    injector.add({"kind": "empty"})
    assert injector.clear() == 2
    assert injector.rules() == [] and not injector.armed()
    assert fired(injector, TRANSPORT, traffic()) is None


class Table:
    """Stands for the fault rules table: what it was told, by rule id, in order."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[int, dict[str, Any]]] = {}

    def save(self, rule_id: str, position: int, state: dict[str, Any]) -> None:
        self.rows[rule_id] = (position, dict(state))

    def remove(self, rule_id: str) -> None:
        self.rows.pop(rule_id, None)

    def load(self) -> list[tuple[str, dict[str, Any]]]:
        return [(rule_id, state) for rule_id, (_, state) in
                sorted(self.rows.items(), key=lambda row: row[1][0])]


def test_rules_and_counters_outlive_a_restart() -> None:
    table = Table()
    specs = ({"kind": "reset", "times": 3}, {"kind": "malformed"})
    before = FaultInjector(Randomness(0), profile(*specs), table)  # type: ignore[arg-type]
    before.add({"kind": "empty", "times": 2})
    fired(before, TRANSPORT, traffic())
    before.remove("profile-2")
    after = FaultInjector(Randomness(0), profile(*specs), table)  # type: ignore[arg-type]
    after.restore(table.load())
    assert [(rule.id, rule.matched, rule.fired) for rule in after.rules()] == [
        ("rule-1", 1, 1), ("profile-1", 0, 0)], "profile-2 stays removed"
    assert fired(after, TRANSPORT, traffic()) == "admin:empty"
    assert fired(after, TRANSPORT, traffic()) == "profile:reset", "rule-1 fired its 2 times"
    assert after.add({"kind": "reset"}).id == "rule-2", "new ids after the restored ones"
