"""The fault injector: the ordered rules and the decision, per request, frame or task, of which
fault (if any) fires.

Rules are tried most specific first: the request's (or WebSocket handshake's) ``X-Mock-Fault``
header, then rules added through the admin API, then the profile given at start. The first rule
that matches and fires wins; at most one fault fires per scope for one request or task.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runware_mock.engine.randomness import Randomness
from runware_mock.faults.fault_kinds import KIND_BY_NAME, FaultKind, Traffic
from runware_mock.faults.rules import Rule, count_seen, rule_from_spec, rule_spec
from runware_mock.store.fault_rule_table import FaultRuleTable


@dataclass(frozen=True)
class Fault:
    """One fault that fired: the rule, and the values it fired with (parameters, plus anything
    drawn, e.g. the delay of a ``latency`` fault)."""

    rule_id: str
    source: str
    kind: FaultKind
    values: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.kind.name

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def to_state(self) -> dict[str, Any]:
        return {"rule": self.rule_id, "source": self.source, "kind": self.kind.name,
                "values": dict(self.values)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Fault:
        return cls(state["rule"], state["source"], KIND_BY_NAME[state["kind"]],
                   state["values"])

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule_id, "source": self.source, "kind": self.kind.name,
                "scope": self.kind.scope,
                **{name: value for name, value in self.values.items() if value is not None}}


class FaultInjector:
    def __init__(self, randomness: Randomness, profile: Iterable[Rule] = (),
                 table: FaultRuleTable | None = None) -> None:
        self._random = randomness
        self._admin: list[Rule] = []
        self._profile = list(profile)
        self._numbers = itertools.count(1)
        # The store keeps admin rules and every rule's counters; None: nothing is kept.
        self._table = table
        self._positions: dict[str, int] = {}
        # A header rule lives for one request (or connection): its draws are counted here, by
        # what it says, so repeating a header does not repeat the same draw.
        self._header_seen: Counter[str] = Counter()
        self.fired_total: Counter[tuple[str, str, str]] = Counter()

    def rules(self) -> list[Rule]:
        """Admin rules (newest last), then the profile's, in the order they are tried."""
        return [*self._admin, *self._profile]

    def add(self, spec: Mapping[str, Any]) -> Rule:
        rule = rule_from_spec(spec, f"rule-{next(self._numbers)}", "admin")
        self._admin.append(rule)
        self._save(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        kept = [rule for rule in self._admin if rule.id != rule_id]
        kept_profile = [rule for rule in self._profile if rule.id != rule_id]
        found = len(kept) + len(kept_profile) < len(self._admin) + len(self._profile)
        if found:
            removed_profile = len(kept_profile) < len(self._profile)
            self._forget(rule_id, keep_removal=removed_profile)
        self._admin, self._profile = kept, kept_profile
        return found

    def restore(self, saved: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """The rules and counters the store kept (at start): admin rules come back, profile
        rules the admin API removed stay removed, and every rule counts on from where it was
        (a profile rule only if the profile still says the same)."""
        profile = {rule.id: rule for rule in self._profile}
        for rule_id, state in saved:
            self._positions[rule_id] = len(self._positions)
            rule = self._restored(rule_id, state, profile)
            if rule is not None:
                rule.matched, rule.fired = state["matched"], state["fired"]
        numbers = [int(rule.id.rpartition("-")[2]) for rule in self._admin]
        self._numbers = itertools.count(max(numbers, default=0) + 1)

    def _restored(self, rule_id: str, state: Mapping[str, Any],
                  profile: Mapping[str, Rule]) -> Rule | None:
        """The rule a kept state counts on: an admin rule made again, or the profile's rule
        of that id while it says the same; None for a profile rule removed (now gone)."""
        if state["source"] == "admin":
            rule = rule_from_spec(state["spec"], rule_id, "admin")
            self._admin.append(rule)
            return rule
        found = profile.get(rule_id)
        if found is not None and state.get("removed"):
            self._profile.remove(found)
            return None
        return found if found is not None and found.signature == state.get("signature") \
            else None

    def _save(self, rule: Rule) -> None:
        if self._table is None or rule.source == "header":
            return
        position = self._positions.setdefault(rule.id, len(self._positions))
        state: dict[str, Any] = {"source": rule.source, "matched": rule.matched,
                                 "fired": rule.fired, "signature": rule.signature}
        if rule.source == "admin":
            state["spec"] = rule_spec(rule)
        self._table.save(rule.id, position, state)

    def _forget(self, rule_id: str, keep_removal: bool = False) -> None:
        if self._table is None:
            return
        if keep_removal:
            position = self._positions.setdefault(rule_id, len(self._positions))
            self._table.save(rule_id, position, {"source": "profile", "removed": True})
        else:
            self._table.remove(rule_id)

    def clear(self) -> int:
        """Remove every admin and profile rule; returns how many there were."""
        removed = len(self._admin) + len(self._profile)
        for rule in self.rules():
            self._forget(rule.id, keep_removal=rule.source == "profile")
        self._admin, self._profile = [], []
        return removed

    def armed(self, header: Sequence[Rule] = ()) -> bool:
        """Whether any rule could fire: without one, callers skip describing the traffic."""
        return bool(header or self._admin or self._profile)

    def pick(self, scope: str, traffic: Traffic, header: Sequence[Rule] = ()) -> Fault | None:
        for rule in itertools.chain(header, self._admin, self._profile):
            if self._considers(rule, scope, traffic):
                fault = self._try(rule, traffic)
                self._save(rule)
                if fault is not None:
                    return fault
        return None

    @staticmethod
    def _considers(rule: Rule, scope: str, traffic: Traffic) -> bool:
        kind = rule.kind
        return (kind.scope == scope and traffic.transport in kind.transports
                and rule.match.matches(traffic) and kind.applies(traffic, rule.params))

    def _try(self, rule: Rule, traffic: Traffic) -> Fault | None:
        """Count the match; fire from the nth match on, at most ``times`` times, with the
        rule's probability drawn from the seeded source keyed by the traffic's taskUUID."""
        rule.matched += 1
        if rule.matched < rule.nth or rule.exhausted():
            return None
        identity = traffic.identity
        if rule.source == "header":
            key = (rule.signature, identity, count_seen(self._header_seen,
                                                        f"{rule.signature}|{identity}"))
        else:
            key = (rule.id, identity, rule.occurrence(identity))
        rng = self._random.stream("fault", *key)
        if rule.probability < 1.0 and rng.random() >= rule.probability:
            return None
        rule.fired += 1
        self.fired_total[(rule.kind.name, rule.kind.scope, rule.source)] += 1
        values = {**rule.params, **rule.kind.resolve(rule.params, rng)}
        return Fault(rule.id, rule.source, rule.kind, values)
