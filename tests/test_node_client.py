"""examples/node-client: a TypeScript client on @runware/sdk-js whose vitest suite starts the
emulator in its global setup (this checkout's `runware-mock`) and stops it at the end.

`python3 dev.py test` runs its `npm install` (examples/node-client/node_modules); here it runs as
its users would run it: `npm test` (tsc --noEmit, then vitest run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.no_silent_skips import missing_install

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "node-client"


def test_the_node_client_example_passes_against_the_emulator(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("node and npm are needed to run examples/node-client")
    if not (EXAMPLE / "node_modules" / ".bin" / "vitest").exists():
        missing_install("examples/node-client has no node_modules: `python3 dev.py test` runs "
                        "its npm install")
    command = Path(sys.executable).parent / "runware-mock"
    env = {**os.environ, "RUNWARE_MOCK_COMMAND": str(command), "CI": "true", "NO_COLOR": "1",
           "HOME": os.environ.get("HOME", str(tmp_path))}
    env.pop("RUNWARE_URL", None)
    env.pop("RUNWARE_MOCK_IMAGE", None)
    finished = subprocess.run([npm, "test"], cwd=EXAMPLE, env=env, capture_output=True,
                              text=True, timeout=300)
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output[-4000:]
    assert "Tests  2 passed (2)" in output, output[-4000:]
    # The global setup stopped the server it started: its shutdown is in the log.
    assert "Application shutdown complete" in output, output[-4000:]
