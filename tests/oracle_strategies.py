"""Hypothesis strategies that know validity from the oracle table (tests/oracle.toml), not from
the schemas: a case sets one documented field to a value inside its bound (accepted) or outside
it, anywhere from just past the bound to far beyond (refused, with the documented code)."""

from __future__ import annotations

from hypothesis import strategies as st

from tests import oracle

# How far past a bound an invalid case may go, in steps (a length or a count of items this far
# off stays a reasonable request body).
FARTHEST_STEPS = {"integer": 10**9, "number": 10**6, "length": 200, "items": 20}


def _inside(bound: oracle.Bound) -> st.SearchStrategy[float]:
    low = bound.low if bound.low is not None else 0
    high = bound.high if bound.high is not None else low + 100
    if bound.kind == "number":
        return st.one_of(st.sampled_from([low, high]),
                         st.floats(low, high, allow_nan=False, allow_infinity=False))
    if bound.kind in ("length", "items"):
        high = min(high, low + 300)  # long enough to say something, short enough to send
    steps = int((high - low) // bound.step)
    return st.integers(0, steps).map(lambda k: low + k * bound.step)


def _below_room(bound: oracle.Bound) -> int:
    """How many steps below the minimum a value may go (a length or a count stops at 0)."""
    if bound.low is None:
        return 0
    if bound.kind in ("length", "items"):
        return int(bound.low // bound.step)
    return FARTHEST_STEPS[bound.kind]


def _outside(bound: oracle.Bound) -> st.SearchStrategy[float]:
    sides = []
    if bound.high is not None:
        sides.append(st.integers(1, FARTHEST_STEPS[bound.kind]).map(
            lambda k: bound.high + k * bound.step))
    if _below_room(bound):
        sides.append(st.integers(1, _below_room(bound)).map(lambda k: bound.low - k * bound.step))
    return st.one_of(*sides)


def has_outside(bound: oracle.Bound) -> bool:
    return bound.high is not None or _below_room(bound) > 0


@st.composite
def oracle_cases(draw: st.DrawFn) -> oracle.Edge:
    """A task with one documented field inside or outside its bound, and the verdict due."""
    bound = draw(st.sampled_from(oracle.bounds()))
    accepted = draw(st.booleans()) if has_outside(bound) else True
    size = draw(_inside(bound) if accepted else _outside(bound))
    assert oracle.within(bound, size) == accepted
    name = f"{'inside' if accepted else 'outside'} at {size}"
    return oracle.Edge(bound, name, oracle.task_for(bound, bound.value(size)), accepted)
