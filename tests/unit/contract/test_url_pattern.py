"""common.json's httpUrl pattern takes exactly the URLs of its documented form (an http(s)
scheme, a host part without spaces, then no space, to the very end), and reads a long URL
once: the form ``[^\\s/?#]+[^\\s]*`` backtracked over every split of its host."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from runware_mock.contract import schemas

PATTERN = re.compile(schemas.load("common")["$defs"]["httpUrl"]["pattern"])
DOCUMENTED_FORM = re.compile(r"^[hH][tT][tT][pP][sS]?://[^\s/?#]+[^\s]*(?![\s\S])")
URLISH = st.text(st.sampled_from(["h", "t", "p", "s", ":", "/", "?", "#", "a", " ", "\n"]))


@given(st.one_of(URLISH, URLISH.map(lambda rest: "https://" + rest), st.text()))
def test_the_pattern_takes_the_documented_form(text: str) -> None:
    assert bool(PATTERN.search(text)) == bool(DOCUMENTED_FORM.search(text))


def test_a_long_host_ending_in_a_space_is_refused() -> None:
    """Two million characters: the backtracking form would take hours on it."""
    assert PATTERN.search("https://" + "a" * 2_000_000 + " ") is None
    assert PATTERN.search("https://" + "a" * 2_000_000) is not None
