#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+.

    python3 dev.py serve [runware-mock serve flags]   # set up .venv, start the emulator
    python3 dev.py test [pytest args]                 # set up .venv, run ruff and the whole suite

The virtualenv is (re)installed only when pyproject.toml changed since the last setup.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-from"


def setup() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command not in ("serve", "test"):
        print(__doc__)
        return 2
    setup()
    if command == "serve":
        return subprocess.call([str(BIN / "runware-mock"), "serve", *rest])
    lint = subprocess.call([str(BIN / "ruff"), "check", str(ROOT)])
    tests = subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)
    return tests or lint


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
