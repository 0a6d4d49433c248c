"""The strategies derived from each request schema of the registry: every valid task passes the
emulator's validation, and every broken one gets exactly the one error the strategy promises.
In-process: the validation is the one both transports run (contract/validation.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from runware_mock.contract import enum_case, image_sizes, schemas
from runware_mock.contract import strategies as rs
from runware_mock.contract.schema_strategies import Violation, violations
from runware_mock.contract.schemas import variants
from runware_mock.contract.validation import check_task

REQUEST_SCHEMAS = sorted({name for task_type in schemas.TASK_TYPES
                          for name in schemas.request_schemas(task_type)})
# Every way to break a task is tried on one schema of each base: the variants of a base
# (schemas/variants.toml) share its fields and bounds, and what each leaves out or narrows is
# checked in tests/unit/contract/test_inference_parameters.py (trying them all took minutes).
_LARGEST_VARIANT = {variants.specs()[name]["base"]: name for name in sorted(
    (name for name in REQUEST_SCHEMAS if name in variants.specs()),
    key=lambda name: len(schemas.inlined(name)["properties"]))}
BROKEN_SCHEMAS = sorted({*(name for name in REQUEST_SCHEMAS if name not in variants.specs()),
                         *_LARGEST_VARIANT.values()})
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.parametrize("name", REQUEST_SCHEMAS)
def test_valid_tasks_pass_validation(name: str) -> None:
    @FAST
    @given(rs.valid_tasks(name))
    def accepted(task: dict[str, Any]) -> None:
        # The schema judges a case-insensitive enum as its canonical spelling (enum_case), and
        # a model's published sizes stand in for its width and height (image_sizes).
        judged = image_sizes.schema_stand_in(enum_case.canonical(name, task))
        assert schemas.is_valid(name, judged), task
        assert check_task(task).errors == [], task

    accepted()


@pytest.mark.parametrize("name", BROKEN_SCHEMAS)
def test_invalid_tasks_get_the_one_promised_error(name: str) -> None:
    """Each way to break a task, tried on its own in every example: none is left to chance.
    The ways are tried a batch per run: all of a schema's drawn in one example would outgrow
    Hypothesis's buffer."""
    every = rs.task_violations(name)
    for start in range(0, len(every), WAYS_PER_RUN):
        _rejected_in_each_way(name, every[start:start + WAYS_PER_RUN])


WAYS_PER_RUN = 60


def _rejected_in_each_way(name: str, ways: list[st.SearchStrategy[Violation]]) -> None:
    @settings(FAST, max_examples=5)
    @given(rs.valid_tasks(name), st.data())
    def rejected(task: dict[str, Any], data: st.DataObject) -> None:
        for way in ways:
            violation = data.draw(way)
            errors = check_task(violation.apply(task)).errors
            assert [(problem.code, problem.parameter) for problem in errors] \
                == [(violation.code, violation.parameter)], (task, violation)
            if violation.allowed_values is not None:
                assert errors[0].allowed_values == violation.allowed_values

    rejected()


@pytest.mark.parametrize("name", ["request.videoInference.klingai-avatar-2.0",
                                  "request.textInference.chat"])
def test_invalid_tasks_are_a_valid_task_broken_once(name: str) -> None:
    @FAST
    @given(rs.invalid_tasks(name))
    def rejected(case: rs.InvalidCase) -> None:
        assert len(check_task(case.task).errors) == 1, case

    rejected()


def test_every_bound_of_a_schema_has_its_violation() -> None:
    """The derived violations reach the keywords the hand-written ones used to cover: numbers,
    multiples, arrays and their items, a choice of types."""
    schema = schemas.inlined("request.imageInference.open-weights")
    derived = st.one_of(*violations(schema, (), None, rs.dispatch_violations("imageInference")))
    kinds: dict[str, Callable[[Violation], bool]] = {
        "a side within range, not a multiple of 64": lambda v: v.code == "invalidWidth"
        and isinstance(v.value, int) and 128 <= v.value <= 2048,
        "a fractional CFGScale above 50": lambda v: v.code == "invalidCFGScale"
        and isinstance(v.value, float) and v.value > 50,
        "an outputType list with an unknown item": lambda v: v.parameter == "outputType.0"
        and v.code == "unsupportedOutputType",
        "an outputType of no allowed type": lambda v: v.code == "invalidOutputType"
        and not isinstance(v.value, str | list),
        "an outputType list with a repeated item": lambda v: v.code == "invalidOutputType"
        and isinstance(v.value, list) and len(v.value) == 2 and v.value[0] == v.value[1],
        "a referenceImages item too short": lambda v: v.parameter == "referenceImages.0",
    }
    for kind, matches in kinds.items():
        try:
            find(derived, matches, settings=settings(max_examples=5000, database=None,
                                                     suppress_health_check=list(HealthCheck)))
        except NoSuchExample:
            pytest.fail(f"no derived violation is {kind}")
