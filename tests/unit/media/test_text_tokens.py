"""The emulator's token rule (docs/text.md): a token is a run of non-space characters with
the spaces before it, as ``re.findall(r"\\s*\\S+", text)`` finds them; trailing spaces belong to
no token. Checked against that documented expression, and on the input that made the
expression's backtracking hold the event loop for seconds."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from runware_mock.media.text import count_tokens, tokens

DOCUMENTED = re.compile(r"\s*\S+")
# Spaces of every kind Python's \s takes, and a few words, so runs of each are drawn.
SPACED_TEXT = st.text(st.sampled_from([" ", "\n", "\t", "\x1e", "\u3000", "a", "é", "😀"]))


@given(st.one_of(SPACED_TEXT, st.text()))
def test_tokens_are_the_documented_runs(text: str) -> None:
    assert tokens(text) == DOCUMENTED.findall(text)
    assert count_tokens(text) == len(DOCUMENTED.findall(text))


def test_tokens_join_back_to_the_text_without_its_trailing_spaces() -> None:
    assert tokens("  one two\n\tthree  ") == ["  one", " two", "\n\tthree"]


def test_a_prompt_of_spaces_only_has_no_token() -> None:
    """A million spaces: the documented expression would try its backtracking from each of
    them (hours); the emulator's tokenizer reads them once."""
    spaces = "\n\x1e" * 500_000
    assert tokens(spaces) == []
    assert count_tokens(spaces + "word") == 1
