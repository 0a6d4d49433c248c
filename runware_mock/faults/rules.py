"""Fault rules: which fault, with which parameters, on which traffic, how often.

A rule is written as one flat object (JSON, TOML, or the header's compact form): ``kind``, the
kind's parameters, the match fields (``taskType``, ``model``, ``taskUUID``, ``apiKey``,
``transport``), and when it fires (``nth``, ``probability``, ``times``)::

    {"kind": "http_error", "status": 429, "retryAfter": 2, "taskType": "videoInference",
     "times": 1}
    X-Mock-Fault: http_error; status=429; retryAfter=2; taskType=videoInference; times=1
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runware_mock import settings
from runware_mock.faults.fault_kinds import (
    BOTH,
    FaultKind,
    FaultSpecError,
    Traffic,
    _integer,
    _number,
    kind_named,
)
from runware_mock.fixtures import faults_dir

HEADER = "x-mock-fault"
SOURCES = ("header", "admin", "profile")
MATCH_FIELDS = ("taskType", "model", "taskUUID", "apiKey", "transport")
FIRING_FIELDS = ("nth", "probability", "times")
# Free text a profile may carry beside a rule; it is shown back, never interpreted.
NOTE_FIELD = "description"
# Per-rule memory of how often each taskUUID was seen, for the seeded draws; bounded so a
# long-running emulator does not grow without end (past it, draws restart their count).
_SEEN_LIMIT = 100_000


@dataclass(frozen=True)
class Match:
    task_type: str | None = None
    model: str | None = None
    task_uuid: str | None = None
    api_key: str | None = None
    transport: str | None = None

    def matches(self, traffic: Traffic) -> bool:
        return ((self.task_type is None or self.task_type in traffic.task_types)
                and (self.model is None or self.model in traffic.models)
                and (self.task_uuid is None or self.task_uuid in traffic.task_uuids)
                and (self.api_key is None or self.api_key == traffic.api_key)
                and (self.transport is None or self.transport == traffic.transport))

    def to_json(self) -> dict[str, str]:
        given = {"taskType": self.task_type, "model": self.model, "taskUUID": self.task_uuid,
                 "apiKey": self.api_key, "transport": self.transport}
        return {name: value for name, value in given.items() if value is not None}


@dataclass
class Rule:
    id: str
    source: str
    kind: FaultKind
    params: dict[str, Any]
    match: Match = field(default_factory=Match)
    nth: int = 1
    probability: float = 1.0
    times: int | None = None
    description: str | None = None
    matched: int = 0
    fired: int = 0
    _seen: Counter[str] = field(default_factory=Counter, repr=False)

    @property
    def signature(self) -> str:
        """What the rule says, without its id and counters: two headers that ask for the same
        fault are the same rule to the seeded draws."""
        return repr((self.kind.name, sorted(self.params.items()), self.match, self.nth,
                     self.probability, self.times))

    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def occurrence(self, identity: str) -> int:
        """How many times this rule has now seen this identity (1 the first time)."""
        return count_seen(self._seen, identity)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "source": self.source, "kind": self.kind.name,
                                "scope": self.kind.scope}
        body.update({name: value for name, value in self.params.items() if value is not None})
        body.update(self.match.to_json())
        body.update(nth=self.nth, probability=self.probability, times=self.times,
                    matched=self.matched, fired=self.fired)
        if self.description:
            body[NOTE_FIELD] = self.description
        return body


def rule_spec(rule: Rule) -> dict[str, Any]:
    """The flat form ``rule_from_spec`` reads, without the rule's id and counters."""
    return {name: value for name, value in rule.to_json().items()
            if name not in ("id", "source", "scope", "matched", "fired")}


def rule_from_spec(spec: Mapping[str, Any], rule_id: str, source: str) -> Rule:
    """A rule from its flat form; unknown fields and bad values raise FaultSpecError."""
    if not isinstance(spec, Mapping):
        raise FaultSpecError("rule", "A fault rule must be an object with at least a 'kind'.")
    kind = kind_named(spec.get("kind"))
    allowed = {"kind", NOTE_FIELD, *MATCH_FIELDS, *FIRING_FIELDS, *kind.param_names}
    for name in spec:
        if name not in allowed:
            raise FaultSpecError(name, f"Unknown field {name!r} for a {kind.name} rule. "
                                 f"Fields: {', '.join(sorted(allowed))}.")
    return Rule(id=rule_id, source=source, kind=kind, params=kind.parse_params(spec),
                match=_match(spec, kind), nth=_integer(1)("nth", spec.get("nth", 1)),
                probability=_number(0, 1)("probability", spec.get("probability", 1.0)),
                times=None if spec.get("times") is None else _integer(1)("times", spec["times"]),
                description=_note(spec.get(NOTE_FIELD)))


def _match(spec: Mapping[str, Any], kind: FaultKind) -> Match:
    values: dict[str, str | None] = {}
    for name in MATCH_FIELDS:
        raw = spec.get(name)
        if raw is not None and (not isinstance(raw, str) or not raw):
            raise FaultSpecError(name, f"{name} must be a non-empty string, got {raw!r}.")
        values[name] = raw
    transport = values["transport"]
    if transport is not None and transport not in kind.transports:
        allowed = " or ".join(kind.transports)
        raise FaultSpecError("transport", f"A {kind.name} fault applies to {allowed}, not "
                             f"{transport!r}." if transport in BOTH else
                             f"transport must be rest or websocket, got {transport!r}.")
    task_uuid = values["taskUUID"]
    return Match(task_type=values["taskType"], model=values["model"],
                 task_uuid=task_uuid.lower() if task_uuid else None,
                 api_key=values["apiKey"], transport=transport)


def _note(raw: Any) -> str | None:
    if raw is not None and not isinstance(raw, str):
        raise FaultSpecError(NOTE_FIELD, f"{NOTE_FIELD} must be a string.")
    return raw


def count_seen(seen: Counter[str], key: str) -> int:
    if len(seen) >= _SEEN_LIMIT and key not in seen:
        seen.clear()
    seen[key] += 1
    return seen[key]


# --- the X-Mock-Fault header ---------------------------------------------------------------------

def header_rules(values: Iterable[str], prefix: str = "header") -> list[Rule]:
    """Rules from every ``X-Mock-Fault`` header: each one a JSON object or array, or the
    compact ``kind; name=value; ...`` form."""
    specs: list[Any] = []
    for value in values:
        specs.extend(_header_specs(value.strip()))
    return [rule_from_spec(spec, f"{prefix}-{number}", "header")
            for number, spec in enumerate(specs, 1)]


def _header_specs(value: str) -> list[Any]:
    if not value:
        raise FaultSpecError(HEADER, "X-Mock-Fault is empty: give a kind, e.g. "
                             "'http_error; status=503'.")
    if value[0] in "{[":
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise FaultSpecError(HEADER, f"X-Mock-Fault is not valid JSON: {exc}.") from None
        return parsed if isinstance(parsed, list) else [parsed]
    kind, *pairs = (part.strip() for part in value.split(";"))
    spec: dict[str, Any] = {"kind": kind}
    for pair in pairs:
        if not pair:
            continue
        name, equals, raw = pair.partition("=")
        if not equals or not name.strip():
            raise FaultSpecError(HEADER, f"X-Mock-Fault: {pair!r} is not name=value (the form "
                                 "is 'kind; name=value; ...').")
        spec[name.strip()] = _compact_value(raw.strip())
    return [spec]


def _compact_value(raw: str) -> Any:
    """Numbers, booleans and lists as JSON (``times=1``, ``results=[0,2]``), else text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# --- profile files -------------------------------------------------------------------------------

def resolve_profile_path(name: str) -> Path:
    """A path, or the name of a shipped profile (``flaky-network``)."""
    path = Path(name).expanduser()
    if not path.exists() and path.parent == Path(".") and not path.suffix:
        for suffix in (".toml", ".json"):
            shipped = faults_dir() / f"{name}{suffix}"
            if shipped.exists():
                return shipped
    return path


def load_profile(name: str) -> list[Rule]:
    """The rules of a profile file: ``[[rules]]`` tables in TOML, or ``{"rules": [...]}``."""
    path = resolve_profile_path(name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        shipped = ", ".join(sorted(p.stem for p in faults_dir().glob("*.*")))
        raise ValueError(f"fault profile {name}: cannot read it ({exc.strerror}); shipped "
                         f"profiles: {shipped}") from None
    try:
        document = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"fault profile {path}: not valid {path.suffix or 'TOML'}: {exc}") \
            from None
    specs = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(specs, list):
        raise ValueError(f"fault profile {path}: needs a list of rules ([[rules]] in TOML, "
                         '{"rules": [...]} in JSON)')
    rules = []
    for number, spec in enumerate(specs, 1):
        try:
            rules.append(rule_from_spec(spec, f"profile-{number}", "profile"))
        except FaultSpecError as exc:
            raise ValueError(f"fault profile {path}, rule {number}: {exc}") from None
    return rules


def _check_profile_setting(name: str) -> None:
    if name:  # none: no profile
        load_profile(name)


settings.check_with("faults", _check_profile_setting)
