"""Keep the documentation's generated tables (settings, error and fault catalogs, API coverage,
the models official documents use) in step with the code and data that declare them.

    python -m runware_mock.docs          # exit 1 if a page under docs/ is out of date
    python -m runware_mock.docs --write  # rewrite the generated blocks in place

mkdocs.yml also loads this file as a hook: a stale table is logged as a warning, so
``mkdocs build --strict`` (run by ``python3 dev.py test``, hence CI) fails on it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runware_mock.contract.coverage import coverage_table
from runware_mock.contract.errors import catalog_table
from runware_mock.contract.image_sizes import sizes_table, unlisted_table
from runware_mock.contract.model_catalog import documented_examples_table
from runware_mock.faults.fault_kinds import catalog_table as fault_table
from runware_mock.settings import option_table

GENERATED: dict[str, Callable[[], str]] = {"settings": option_table, "errors": catalog_table,
                                            "faults": fault_table, "coverage": coverage_table,
                                            "documented_models": documented_examples_table,
                                            "image_sizes": sizes_table,
                                            "image_sizes_unlisted": unlisted_table}
# The page of docs/ each table lives on.
PAGES = {"settings": "configuration.md", "errors": "errors.md", "faults": "faults.md",
         "coverage": "coverage.md", "documented_models": "models.md", "image_sizes": "models.md",
         "image_sizes_unlisted": "models.md"}
DOCS = Path(__file__).resolve().parent.parent / "docs"
_BLOCK = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- /generated -->)", re.DOTALL)
STALE = "generated tables are stale: run python -m runware_mock.docs --write"
log = logging.getLogger("mkdocs.plugins.runware_mock")


def refreshed(text: str) -> str:
    return _BLOCK.sub(lambda m: f"{m.group(1)}{GENERATED[m.group(2)]()}\n{m.group(4)}", text)


def blocks(text: str) -> list[str]:
    """The names of the generated blocks of a page, in order."""
    return [match.group(2) for match in _BLOCK.finditer(text)]


def main(argv: list[str]) -> int:
    if not DOCS.is_dir():
        print(f"no docs folder at {DOCS}: run this from a checkout")
        return 2
    stale = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text("utf-8")
        if refreshed(text) == text:
            continue
        if "--write" in argv:
            page.write_text(refreshed(text), "utf-8")
        else:
            stale.append(page.name)
    if stale:
        print(f"{', '.join(stale)}: {STALE}")
        return 1
    return 0


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """MkDocs hook: warn on a stale table (strict builds fail), and show the current one."""
    fresh = refreshed(markdown)
    if fresh != markdown:
        log.warning("%s: %s", page.file.src_path, STALE)
    return fresh


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
