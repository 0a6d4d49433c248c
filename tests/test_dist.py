"""A release a user can install: docs/install.md's install commands, run as written.

In order, in one shell of a user's: ``pip install .`` into a fresh virtualenv, ``python3 dev.py
dist`` (sdist and wheel, ``twine check --strict``, the wheel installed into a virtualenv of its
own that prints its version and serves one task), ``pip install`` of the wheel, ``pipx install``
of it, ``pip install`` of the git URL, and ``runware-mock --version``. Only what the commands
reach differs from a user's machine: the git URL is a clone of this checkout's HEAD
(``git+file://``), pipx keeps its files in the test's folder, pip's cache is the user's own
(as .venv's setup left it), and runware-mock is uninstalled between two pip installs so each one
installs it for real.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GIT_URL = "git+https://github.com/runware-mock/runware-mock"
INSTALL_TIMEOUT = 900.0  # a first install downloads every dependency


def install_commands() -> list[str]:
    page = (ROOT / "docs" / "install.md").read_text("utf-8")
    block = re.search(r"<!-- install-commands -->\n```sh\n(.*?)```", page, re.S)
    assert block is not None, "docs/install.md lost its marked install commands"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines()
            if line.split("#")[0].strip()]


def test_the_docs_install_commands_work_as_written(tmp_path: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    commands = install_commands()
    assert commands[0] == "pip install ." and commands[-1] == "runware-mock --version"
    assert f"dist/runware_mock-{version}-py3-none-any.whl" in " ".join(commands), (
        "the wheel's name in the docs follows the version")

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    user = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(user)
    tools = tmp_path / "tools"  # pipx, as a user has it on PATH
    tools.mkdir()
    pipx = Path(sys.executable).parent / "pipx"
    if not pipx.exists():
        pytest.fail("pipx is missing from this virtualenv: `python3 dev.py test` installs the "
                    "dist extra")
    (tools / "pipx").symlink_to(pipx)
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("VIRTUAL_ENV", "PYTHONPATH")
                   and not name.startswith(("PYTEST_", "RUNWARE_MOCK_"))}
    environment.update(
        PATH=os.pathsep.join([str(user / "bin"), str(tmp_path / "pipx-bin"), str(tools),
                              environment.get("PATH", "")]),
        PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "pipx-bin"),
        PIPX_MAN_DIR=str(tmp_path / "pipx-man"), PIP_DISABLE_PIP_VERSION_CHECK="1",
        # One pip cache for the three fresh virtualenvs (the user's, dev.py dist's and pipx's):
        # the dependencies are downloaded once; and no bytecode compiled at install (most of an
        # install's time on two busy cores; Python compiles what it imports anyway).
        PIP_NO_COMPILE="1")

    def shell(command: str) -> str:
        argv = shlex.split(command.replace(GIT_URL, f"git+file://{clone}"))
        done = subprocess.run(argv, cwd=ROOT, env=environment, capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT, check=False)
        assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
        return done.stdout + done.stderr

    said = {}
    for command in commands:
        if command.startswith("pip install") and command != commands[0]:
            shell("pip uninstall --yes runware-mock")
        started = time.monotonic()
        said[command] = shell(command)
        print(f"{time.monotonic() - started:5.1f} s  {command}")  # pytest -s shows them
    dist = next(output for command, output in said.items() if command.endswith("dev.py dist"))
    assert "PASSED" in dist and "the wheel installs, prints its version and serves a task" in (
        dist)
    assert said[commands[-1]].strip() == f"runware-mock {version}"
    pipx_installed = tmp_path / "pipx-bin" / "runware-mock"
    assert subprocess.run([str(pipx_installed), "--version"], capture_output=True, text=True,
                          check=True).stdout.strip() == f"runware-mock {version}"
    installed_from = subprocess.run(
        [str(user / "bin" / "python"), "-m", "pip", "show", "runware-mock"],
        capture_output=True, text=True, check=True).stdout
    assert "Name: runware-mock" in installed_from


def test_the_metadata_is_ready_for_pypi() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["readme"] == "README.md" and (ROOT / "LICENSE").is_file()
    assert {"Homepage", "Source", "Issues", "Documentation"} <= set(project["urls"])
    assert "License :: OSI Approved :: MIT License" in project["classifiers"]
    assert any(c.startswith("Programming Language :: Python :: 3.11")
               for c in project["classifiers"])
