"""``python3 dev.py new-task-type``: the files it makes pass CI's checks as made (ruff,
lint-imports, the strict docs build, their own real-server test, the oracle, layout and typed
request checks), in a copy of this checkout (docs/adding-a-task-type.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import new_task_type as scaffold  # noqa: E402

BIN = Path(sys.executable).parent


def checkout_copy(target: Path) -> Path:
    """This checkout's files (committed or not, but not ignored) copied to ``target``."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    # The package-dir mapping of pyproject.toml, as the installed package has it.
    (target / "runware_mock" / "fixtures").symlink_to(target / "fixtures")
    return target


def run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("output", scaffold.OUTPUTS)
def test_a_new_task_type_passes_ci_as_made(tmp_path: Path, output: str) -> None:
    copy = checkout_copy(tmp_path / "checkout")
    run([sys.executable, "tools/new_task_type.py", "snapshot", "--alias", "imageSnapshot",
         "--model", "runware:990@1", "--output", output], copy)
    assert (copy / "runware_mock" / "tasks" / "snapshot.py").is_file()
    run([str(BIN / "ruff"), "check", "."], copy)
    run([str(BIN / "lint-imports"), "--no-cache"], copy)
    run([str(BIN / "mkdocs"), "build", "--strict", "--quiet", "--site-dir",
         str(tmp_path / "site")], copy)
    run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "tests/test_snapshot.py", "tests/unit/test_layout.py", "tests/test_request_types.py",
         "tests/test_oracle.py::test_every_bound_of_the_schemas_is_in_the_table",
         "tests/test_oracle.py::test_the_table_agrees_with_the_catalog_prices"], copy)


def test_a_taken_name_is_refused() -> None:
    spec = scaffold.parse(["upscale", "--model", "runware:990@1"])
    assert "taskType upscale" in scaffold.existing(spec)


@pytest.mark.parametrize("argv", [["Caption", "--model", "runware:1@1"],
                                  ["caption", "--model", "not-an-air"],
                                  ["caption", "--alias", "image-caption", "--model", "a:1@1"]])
def test_a_bad_name_or_air_is_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        scaffold.parse(argv)
    assert exit_.value.code == 2


def test_the_nav_gets_one_sorted_task_types_section() -> None:
    mkdocs = "nav:\n  - Home: index.md\n  - Error catalog: errors.md\n"
    first = scaffold.with_nav_entry(mkdocs, scaffold.parse(["zoom", "--model", "a:1@1"]))
    both = scaffold.with_nav_entry(first, scaffold.parse(["blur", "--model", "a:1@1"]))
    assert both == ("nav:\n  - Home: index.md\n  - Task types:\n"
                    "      - blur: task-types/blur.md\n      - zoom: task-types/zoom.md\n"
                    "  - Error catalog: errors.md\n")
