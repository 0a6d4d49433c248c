"""The documentation: generated tables current, the site builds strictly, the README's shape.

The settings, error and fault tables of docs/ are generated from the code; `mkdocs build
--strict` fails on a broken link or anchor and (through the hook in runware_mock/docs.py) on a
stale table. The README keeps the pitch, the quickstart, a feature table and links.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runware_mock import docs as docs_module
from runware_mock.contract import model_catalog
from runware_mock.docs import GENERATED, PAGES, blocks, refreshed
from tests.readme_text import README, quickstart_blocks

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MKDOCS = Path(sys.executable).parent / "mkdocs"


def test_each_generated_table_lives_on_its_page_and_is_current() -> None:
    found: dict[str, list[str]] = {}
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text("utf-8")
        for name in blocks(text):
            found.setdefault(name, []).append(page.name)
        assert refreshed(text) == text, f"{page.name}: run python -m runware_mock.docs --write"
    assert found == {name: [PAGES[name]] for name in GENERATED}


def test_the_docs_command_finds_and_fixes_a_stale_table(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m runware_mock.docs [--write]`: the check and the fix the failure names."""
    shutil.copytree(DOCS, tmp_path / "docs")
    page = tmp_path / "docs" / "configuration.md"
    current = refreshed(page.read_text("utf-8"))  # current here even if not in the checkout
    page.write_text(current.replace("| `--port` |", "| `--porte` |"), "utf-8")
    monkeypatch.setattr(docs_module, "DOCS", tmp_path / "docs")
    assert docs_module.main([]) == 1
    assert docs_module.main(["--write"]) == 0
    assert page.read_text("utf-8") == current
    assert docs_module.main([]) == 0


def mkdocs_build(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([str(MKDOCS), "build", "--strict", "--config-file",
                           str(project / "mkdocs.yml"), "--site-dir", str(site)],
                          cwd=project, env=environment, capture_output=True, text=True,
                          timeout=300, check=False)


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    built = mkdocs_build(ROOT, tmp_path / "site")
    assert built.returncode == 0, built.stderr[-4000:]
    home = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert "python3 dev.py run" in home, "the quickstart is included from the README"
    for page in PAGES.values():
        assert (tmp_path / "site" / page.removesuffix(".md") / "index.html").is_file()


@pytest.fixture
def docs_copy(tmp_path: Path) -> Path:
    """The site's sources, hook included, in a folder of their own to break."""
    project = tmp_path / "project"
    shutil.copytree(DOCS, project / "docs")
    for name in ("mkdocs.yml", "README.md", "runware_mock/docs.py"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    return project


def test_strict_build_fails_on_a_broken_link_or_anchor(docs_copy: Path, tmp_path: Path) -> None:
    page = docs_copy / "docs" / "api.md"
    page.write_text(page.read_text("utf-8") + "\n[gone](gone.md) [nowhere](errors.md#nowhere)\n")
    built = mkdocs_build(docs_copy, tmp_path / "site")
    assert built.returncode != 0
    assert "'gone.md'" in built.stderr and "errors.md#nowhere" in built.stderr


def test_strict_build_fails_on_a_stale_generated_table(docs_copy: Path, tmp_path: Path) -> None:
    page = docs_copy / "docs" / "errors.md"
    text = page.read_text("utf-8")
    stale = re.sub(r"\| `invalidJSON` \| 400 \|", "| `invalidJSON` | 418 |", text)
    assert stale != text
    page.write_text(stale, "utf-8")
    built = mkdocs_build(docs_copy, tmp_path / "site")
    assert built.returncode != 0
    assert "errors.md: generated tables are stale" in built.stderr


# --- the README ----------------------------------------------------------------------------

def test_readme_quickstart_is_serve_and_test_then_run_and_curl() -> None:
    serve, test, run, curl = quickstart_blocks(README.read_text("utf-8"))
    assert serve.strip() == "python3 dev.py serve"
    assert run.strip() == "python3 dev.py run"
    assert "uuid.uuid4()" in curl and "uuidgen" in curl and "while sleep 1" in curl
    assert test.strip() == "python3 dev.py test"
    assert "python3 dev.py test" in (ROOT / ".ci" / "run").read_text("utf-8")


def test_readme_says_what_the_test_command_installs_and_how_long_it_takes() -> None:
    text = README.read_text("utf-8")
    quickstart = text[text.index("## Quickstart"):text.index("## What it does")]
    for installed in ("`runware-sdk`", "`runware`", "`@runware/sdk-js`", "MkDocs", ".venv"):
        assert installed in quickstart
    assert re.search(r"about \d+ minutes on two cores", quickstart)


def test_readme_links_to_pages_and_anchors_that_exist() -> None:
    text = README.read_text("utf-8")
    links = re.findall(r"\]\((docs/[^)#]*)(?:#([^)]*))?\)", text)
    assert {page for page, _ in links} >= {f"docs/{page}" for page in PAGES.values()}
    for page, anchor in links:
        target = ROOT / page
        assert target.exists(), page
        if anchor:
            headings = re.findall(r"^#+ (.+)$", target.read_text("utf-8"), re.MULTILINE)
            assert anchor in {slug(heading) for heading in headings}, f"{page}#{anchor}"


def slug(heading: str) -> str:
    """MkDocs' (Python-Markdown toc) anchor of a heading."""
    text = re.sub(r"[^\w\s-]", "", heading.replace("`", "")).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def test_readme_keeps_a_place_for_how_it_is_built() -> None:
    text = README.read_text("utf-8")
    table_end = text.index("## Documentation")
    assert text.index("## What it does") < text.index("How it is built") < table_end
    assert "[How it is built](#how-it-is-built)" in text


def test_a_model_the_docs_call_not_served_is_not_in_the_catalog() -> None:
    """A sentence saying a model is not served goes stale once it is (issue 24: docs/models.md
    called bria:51@1 and runware:110@1 not served after removeBackground served them)."""
    air = re.compile(r"\b[a-z0-9-]+:[\w-]+@[\w.-]*\w")
    texts = {path: path.read_text("utf-8") for path in [
        ROOT / "README.md", *DOCS.rglob("*.md"),
        *(ROOT / "runware_mock/contract/models").glob("*.toml")]}
    served = model_catalog.models()
    stale = [(path.name, name) for path, text in texts.items()
             for sentence in re.split(r"(?<=[.;])\s", text)
             if re.search(r"not\s+(?:yet\s+)?served|not\s+served\s+yet", sentence, re.I)
             for name in air.findall(sentence) if name in served]
    assert stale == []
