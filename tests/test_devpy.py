"""dev.py, the one entry point of a checkout and of CI (.ci/run runs `python3 dev.py test`).

Its first-run setup and Ctrl-C on `dev.py serve` run for real in tests/test_quickstart.py.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_ci_builds_the_site_strictly_and_runs_every_check(dev: ModuleType) -> None:
    found = dev.checks("SITE", ["-x"])
    names = list(found)
    assert names[0] == "ruff" and names[-1] == "pytest"
    assert found["mkdocs build --strict"][1:3] == ["build", "--strict"]
    assert found["pytest"][-1] == "-x"
    assert "python3 dev.py test" in (ROOT / ".ci" / "run").read_text("utf-8")


def test_any_failing_check_fails_the_test_command_after_all_ran(
        dev: ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(dev, "checks", lambda site, args: {
        "ruff": python("pass"), "mkdocs build --strict": python("raise SystemExit(1)"),
        "pytest": python("pass")})
    assert dev.test([]) == 1
    out = capsys.readouterr().out
    assert "dev.py: mkdocs build --strict: FAILED (exit 1)" in out and "dev.py: pytest: ok" in out
    assert out.strip().endswith("dev.py: failed: mkdocs build --strict")
    monkeypatch.setattr(dev, "checks", lambda site, args: {"ruff": python("pass")})
    assert dev.test([]) == 0


def test_setup_installs_only_what_a_command_lacks(dev: ModuleType, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    installs: list[tuple[str, ...]] = []
    monkeypatch.setattr(dev, "VENV", tmp_path)
    monkeypatch.setattr(dev, "BIN", tmp_path)
    monkeypatch.setattr(dev, "STAMP", tmp_path / "stamp")
    monkeypatch.setattr(dev, "pip_install", installs.append)
    (tmp_path / "python").touch()  # the virtualenv exists
    dev.setup(())
    dev.setup(())
    dev.setup(("test", "docs"))
    dev.setup(())
    dev.setup(("docs",))
    assert installs == [(), ("test", "docs")]
    assert json.loads((tmp_path / "stamp").read_text())["extras"] == ["docs", "test"]
    (tmp_path / "stamp").write_text("0123abcd")  # the stamp of the first releases
    dev.setup(("docs",))
    assert installs[-1] == ("docs",)


def test_an_unknown_command_prints_the_usage(dev: ModuleType,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert dev.main(["deploy"]) == 2
    out = capsys.readouterr().out
    assert "python3 dev.py serve" in out and "unknown command 'deploy'" in out
    assert dev.main([]) == 0


def test_a_sigterm_to_dev_py_reaches_its_child(tmp_path: Path) -> None:
    """A process manager stopping `dev.py serve` must not leave the server running."""
    ready = tmp_path / "ready"
    child = ("import pathlib, signal, sys, time; "
             "signal.signal(signal.SIGTERM, lambda *_: sys.exit(7)); "
             f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", "import sys, dev; "
                               f"sys.exit(dev.call([sys.executable, '-c', {child!r}]))"],
                              cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    parent.send_signal(signal.SIGTERM)
    _, err = parent.communicate(timeout=30)
    assert parent.returncode == 7 and "Traceback" not in err
