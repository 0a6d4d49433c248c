"""The README as the docs tests read it: its quickstart's shell blocks, in order."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def quickstart_blocks(text: str) -> list[str]:
    section = text[text.index("## Quickstart"):text.index("\n## ", text.index("## Quickstart"))]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
