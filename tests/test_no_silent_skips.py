"""The CI guard of tests/no_silent_skips.py, run on a small test file in a child pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = '''
import pytest

from tests.no_silent_skips import missing_install

@pytest.mark.installed_by_test_command
def test_needs_chromium():
    pytest.skip("/usr/bin/chromium is missing")

def test_skips_by_design():
    pytest.skip("not this platform")

def test_needs_podman():
    missing_install("podman missing")
'''


def _run(tmp_path: Path, ci: str | None) -> str:
    (tmp_path / "conftest.py").write_text(
        "from tests.no_silent_skips import pytest_configure, pytest_runtest_makereport\n")
    (tmp_path / "test_cases.py").write_text(CASES)
    env = {name: value for name, value in os.environ.items() if name != "CI"}
    env["PYTHONPATH"] = str(ROOT)
    if ci is not None:
        env["CI"] = ci
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "-p", "no:xdist", "-p", "no:randomly", "-p", "no:runware_mock",
                           str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return done.stdout


@pytest.mark.parametrize("ci", ["true"])
def test_under_ci_a_skip_of_an_installed_tool_fails(tmp_path: Path, ci: str) -> None:
    output = _run(tmp_path, ci)
    assert "2 failed, 1 skipped" in output, output
    assert "FAILED test_cases.py::test_needs_chromium" in output, output
    assert "FAILED test_cases.py::test_needs_podman" in output, output
    assert "the test command installs what it needs: /usr/bin/chromium is missing" in output


def test_outside_ci_it_skips_and_says_why(tmp_path: Path) -> None:
    output = _run(tmp_path, None)
    assert "3 skipped" in output and "chromium is missing" in output, output
    assert "podman missing" in output, output
