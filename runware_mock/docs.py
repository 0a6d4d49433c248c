"""Keep the README's generated tables (settings, error catalog) in step with the code.

    python -m runware_mock.docs          # exit 1 if README.md is out of date
    python -m runware_mock.docs --write  # rewrite the generated blocks in place
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from runware_mock.contract.errors import catalog_table
from runware_mock.faults.catalog import catalog_table as fault_table
from runware_mock.settings import option_table

GENERATED: dict[str, Callable[[], str]] = {"settings": option_table, "errors": catalog_table,
                                            "faults": fault_table}
_BLOCK = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- /generated -->)", re.DOTALL)


def refreshed(text: str) -> str:
    return _BLOCK.sub(lambda m: f"{m.group(1)}{GENERATED[m.group(2)]()}\n{m.group(4)}", text)


def main(argv: list[str]) -> int:
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text("utf-8")
    if "--write" in argv:
        readme.write_text(refreshed(text), "utf-8")
        return 0
    if refreshed(text) != text:
        print("README.md's generated tables are stale: run python -m runware_mock.docs --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
