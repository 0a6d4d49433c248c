"""Fault rules in process (faults/rules.py), against docs/faults.md: a rule is one flat object
(kind, its parameters, match and firing fields); the X-Mock-Fault header's compact form
``kind; name=value; ...`` (values read as JSON when they parse) or a JSON object or array,
repeated for several rules, a malformed one refused naming the field; a profile is a TOML
file of ``[[rules]]`` or JSON ``{"rules": [...]}``, a bare name loads a shipped one, and a bad
rule stops the start with the file, the rule number and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from runware_mock.faults.fault_kinds import FaultSpecError
from runware_mock.faults.rules import header_rules, load_profile, rule_from_spec

SHIPPED = ("flaky-network", "overloaded", "provider-timeouts", "chaos")


def test_the_compact_header_reads_values_as_json_when_they_parse() -> None:
    (rule,) = header_rules(["task_error; code=timeoutProvider; results=[0,2]; times=1;"
                            " taskType=videoInference; probability=0.5"])
    assert (rule.kind.name, rule.source) == ("task_error", "header")
    assert rule.params["code"] == "timeoutProvider" and rule.params["results"] == [0, 2]
    assert (rule.times, rule.probability, rule.nth) == (1, 0.5, 1)
    assert rule.match.task_type == "videoInference"


def test_a_json_header_and_repeated_headers_give_several_rules() -> None:
    rules = header_rules(['[{"kind": "reset"}, {"kind": "http_error", "status": 429}]',
                          '{"kind": "malformed"}', "latency; seconds=fixed:2"])
    assert [rule.kind.name for rule in rules] == ["reset", "http_error", "malformed", "latency"]
    assert rules[1].params["status"] == 429


@pytest.mark.parametrize(("header", "field"), [
    ("", "x-mock-fault"),
    ("http_error; status", "x-mock-fault"),
    ("{not json", "x-mock-fault"),
    ("no_such_kind", "kind"),
    ("http_error; status=418", "status"),
    ("http_error; colour=red", "colour"),
    ("reset; times=0", "times"),
    ("reset; probability=2", "probability"),
    ("empty; transport=websocket", "transport"),
    ("reset; taskType=", "taskType"),
])
def test_a_malformed_header_names_the_field(header: str, field: str) -> None:
    with pytest.raises(FaultSpecError) as refused:
        header_rules([header])
    assert refused.value.parameter == field, refused.value


def test_match_fields_and_the_description_round_trip() -> None:
    spec = {"kind": "reset", "taskType": "imageInference", "model": "runware:400@2",
            "taskUUID": "ABC", "apiKey": "k", "transport": "rest", "nth": 2, "times": 3,
            "description": "a note"}
    rule = rule_from_spec(spec, "rule-1", "admin")
    shown = rule.to_json()
    assert shown["taskUUID"] == "abc" and shown["description"] == "a note"
    assert {name: shown[name] for name in ("taskType", "model", "apiKey", "transport", "nth",
                                           "times")} == {
        "taskType": "imageInference", "model": "runware:400@2", "apiKey": "k",
        "transport": "rest", "nth": 2, "times": 3}
    assert (shown["matched"], shown["fired"]) == (0, 0)


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_profile_loads_by_its_bare_name(name: str) -> None:
    rules = load_profile(name)
    assert rules and all(rule.source == "profile" for rule in rules)
    assert [rule.id for rule in rules] == [f"profile-{n}" for n in range(1, len(rules) + 1)]


def test_a_toml_and_a_json_profile(tmp_path: Path) -> None:
    toml = tmp_path / "mine.toml"
    toml.write_text('[[rules]]\nkind = "http_error"\nstatus = 503\n'
                    'taskType = "videoInference"\nprobability = 0.3\n')
    (rule,) = load_profile(str(toml))
    assert (rule.kind.name, rule.params["status"], rule.probability) == ("http_error", 503, 0.3)
    json_file = tmp_path / "mine.json"
    json_file.write_text('{"rules": [{"kind": "reset"}, {"kind": "empty"}]}')
    assert [rule.kind.name for rule in load_profile(str(json_file))] == ["reset", "empty"]


def test_a_bad_rule_names_the_file_the_rule_number_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[rules]]\nkind = "reset"\n\n[[rules]]\nkind = "latency"\nsconds = 1\n')
    with pytest.raises(ValueError) as refused:
        load_profile(str(path))
    message = str(refused.value)
    assert str(path) in message and "rule 2" in message and "sconds" in message


@pytest.mark.parametrize("text", ["rules = 3", "[[rule]]\nkind = 'reset'", "not = [toml"])
def test_a_profile_without_a_list_of_rules_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "odd.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"odd\.toml"):
        load_profile(str(path))


def test_a_missing_profile_lists_the_shipped_ones() -> None:
    with pytest.raises(ValueError) as refused:
        load_profile("no-such-profile")
    assert all(name in str(refused.value) for name in SHIPPED)
