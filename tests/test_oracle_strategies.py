"""Validity known apart from the schemas: cases drawn from the oracle table get the documented
verdict over the wire, and the contract's own schema-read strategies (which a client's tests
use) stay inside, or go outside, the documented bounds, not merely the schema's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from runware_mock.contract import schemas
from runware_mock.contract.schema_strategies import valid_values, violations
from runware_mock.runner import ServerThread
from tests import oracle
from tests.oracle_strategies import oracle_cases

BATCH = 60
# Seeded: the same cases each run. The health checks stay on.
SEEDED = settings(derandomize=True, database=None, deadline=None)


@pytest.fixture(scope="module")
def batch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    from runware_mock.settings import Settings
    server = ServerThread(Settings(latency="instant", push_results=False,
                                   max_tasks_per_request=BATCH, max_errors_per_reply=BATCH,
                                   data_dir=tmp_path_factory.mktemp("oracle-cases"))).start()
    yield server
    server.stop()


def test_oracle_drawn_cases_get_the_documented_verdicts(batch_server: ServerThread) -> None:
    with httpx.Client(base_url=batch_server.base_url, timeout=60,
                      headers={"Authorization": "Bearer oracle-key"}) as http:

        # No shrinking: a failure already lists every wrong case of its batch, and shrinking
        # a batch of sixty over the wire takes minutes.
        @settings(SEEDED, max_examples=25, phases=[Phase.explicit, Phase.generate])
        @given(st.lists(oracle_cases(), min_size=BATCH // 2, max_size=BATCH))
        def case(cases: list[oracle.Edge]) -> None:
            answer = http.post("/v1", json=[edge.task for edge in cases])
            assert answer.status_code in (200, 400), answer.text[:500]
            wrong = oracle.verdicts(cases, answer.json().get("errors", []))
            assert not wrong, "\n".join(wrong)

        case()


def _node(bound: oracle.Bound) -> dict[str, Any]:
    node = schemas.inlined(bound.schema)
    for part in bound.field.split("."):
        node = node["properties"][part.removesuffix("[]")]
        if part.endswith("[]"):
            node = node["items"]
    return node


def _contract_bounds() -> list[oracle.Bound]:
    """The bounds the contract's schema strategies draw for (integers and string lengths of a
    plain schema node), one per distinct node."""
    seen, found = set(), []
    for bound in oracle.bounds():
        if bound.kind not in ("integer", "length") or bound.catalog or bound.model:
            continue
        node = _node(bound)
        key = (bound.field, json.dumps(node, sort_keys=True))
        # Keywords schema_strategies does not read (it refuses such a node).
        if key in seen or {"anyOf", "pattern", "multipleOf"} & node.keys():
            continue
        seen.add(key)
        found.append(bound)
    return found


@pytest.mark.parametrize("bound", _contract_bounds(), ids=oracle.Bound.label)
def test_the_contracts_strategies_respect_the_documented_bound(bound: oracle.Bound) -> None:
    node, path = _node(bound), tuple(bound.parameter.split("."))
    documented = (bound.low, bound.high)
    ranged = violations(node, path)

    @settings(SEEDED, max_examples=15)
    @given(valid_values(node, path), st.one_of(*ranged))
    def case(valid: Any, violation: Any) -> None:
        assert oracle.within(bound, oracle.size_of(bound, valid)), (
            f"{bound.label()}: the contract's valid_values drew {valid!r}, outside the "
            f"documented {documented} ({bound.source})")
        value = violation.value
        right_kind = isinstance(value, str) if bound.kind == "length" else (
            isinstance(value, int) and not isinstance(value, bool))
        if violation.code == bound.error_code and right_kind:
            assert not oracle.within(bound, oracle.size_of(bound, value)), (
                f"{bound.label()}: the contract's violations drew {value!r} as invalid, "
                f"inside the documented {documented} ({bound.source})")

    case()
