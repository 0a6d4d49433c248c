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


def test_dev_py_installs_the_container_tools_only_when_missing_and_it_can(
        dev: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    present: set[str] = set()
    monkeypatch.setattr(dev, "call", lambda command: calls.append(command) or 0)
    monkeypatch.setattr(dev.shutil, "which", lambda name: f"/usr/bin/{name}"
                        if name == "apt-get" or name in present else None)
    monkeypatch.setattr(dev.os, "geteuid", lambda: 1000)
    dev.ensure_container_tools()
    assert calls == []  # not root: nothing to do but say so
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0)
    present.add("runc")
    dev.ensure_container_tools()
    assert calls[0][-2:] == ["/usr/bin/apt-get", "update"]
    assert calls[1][-3:] == ["podman", "mmdebstrap", "eatmydata"]
    assert "--no-install-recommends" in calls[1]
    present.update(("podman", "mmdebstrap", "eatmydata"))
    dev.ensure_container_tools()
    assert len(calls) == 2


def test_dev_py_runs_the_node_example_npm_install_once_per_package_json(
        dev: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    example = tmp_path / "node-client"
    example.mkdir()
    (example / "package.json").write_text('{"name": "x"}')
    installs: list[tuple[list[str], Path | None]] = []

    def npm_install(command: list[str], cwd: Path | None = None) -> int:
        installs.append((command, cwd))
        (example / "node_modules").mkdir(exist_ok=True)
        return 0

    monkeypatch.setattr(dev, "NODE_CLIENT", example)
    monkeypatch.setattr(dev, "call", npm_install)
    monkeypatch.setattr(dev.shutil, "which", lambda name: f"/usr/bin/{name}")
    dev.ensure_node_client()
    dev.ensure_node_client()
    assert installs == [(["/usr/bin/npm", "install", "--no-audit", "--no-fund"], example)]
    (example / "package.json").write_text('{"name": "x", "private": true}')
    dev.ensure_node_client()
    assert len(installs) == 2
