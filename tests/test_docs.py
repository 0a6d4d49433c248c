"""The README's settings and error tables are generated from the code and must be current."""

from __future__ import annotations

from pathlib import Path

from runware_mock.docs import GENERATED, refreshed

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_tables_are_current() -> None:
    text = README.read_text("utf-8")
    for name in GENERATED:
        assert f"<!-- generated: {name} -->" in text
    assert refreshed(text) == text, "run: python -m runware_mock.docs --write"


def test_readme_starts_with_the_two_command_quickstart() -> None:
    text = README.read_text("utf-8")
    quickstart = text[text.index("## Quickstart"):]
    start = quickstart.index("```sh")
    block = quickstart[start:quickstart.index("```", start + 3)]
    commands = [line for line in block.splitlines()[1:] if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["python3 dev.py serve",
                                                          "python3 dev.py test"]
    ci = (README.parent / ".ci" / "run").read_text("utf-8")
    assert "python3 dev.py test" in ci
