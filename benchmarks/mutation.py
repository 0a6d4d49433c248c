"""The mutation score of the modules where a wrong value is a wrong emulator.

    python3 dev.py mutate [MUTMUT RUN ARGS]

Runs mutmut (configured in pyproject.toml's [tool.mutmut]: the modules, and the fast in-process
unit tests each mutant is tried against) and prints, per module, the mutants killed and those
that survived, then every survivor by name (``.venv/bin/mutmut show NAME`` prints its diff).
A timeout counts as killed (the mutant hung a test), a mutant no selected test reaches as
survived. Not part of CI: a full run takes minutes. mutmut keeps its work in ``mutants/``
(git-ignored there) and reuses results of mutants whose function did not change.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
SURVIVED = {"survived", "no tests"}
# mutmut's exit codes of a mutant's test run (mutmut/stats.py).
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests",
          34: "skipped", 36: "timeout", 37: "caught by type check", 24: "timeout",
          -24: "timeout", 152: "timeout", 255: "timeout", -11: "segfault", -9: "segfault",
          None: "not checked"}
TARGET = 0.85


def modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]
    return list(config["only_mutate"])


def run(args: list[str]) -> int:
    return subprocess.call([str(BIN / "mutmut"), "run", *args], cwd=ROOT)


def results(module: str) -> dict[str, str]:
    """Each mutant of ``module`` and its status, from mutmut's record beside the mutated file."""
    meta = ROOT / "mutants" / f"{module}.meta"
    if not meta.exists():
        return {}
    codes = json.loads(meta.read_text("utf-8")).get("exit_code_by_key", {})
    return {name: STATUS.get(code, "suspicious") for name, code in codes.items()}


def report() -> bool:
    """Print the table and the survivors; whether every module reached the target."""
    rows, survivors, ok = [], [], True
    for module in modules():
        found = results(module)
        counts = Counter(found.values())
        killed = sum(counts[status] for status in KILLED)
        survived = sum(counts[status] for status in SURVIVED)
        other = len(found) - killed - survived
        share = killed / (killed + survived) if killed + survived else 0.0
        ok &= share >= TARGET
        rows.append((module, killed, survived, other, share))
        survivors += [f"{name} ({status})" for name, status in sorted(found.items())
                      if status in SURVIVED]
    print(f"\n{'module':48} {'killed':>7} {'survived':>9} {'other':>6} {'score':>7}")
    for module, killed, survived, other, share in rows:
        mark = "" if share >= TARGET else f"  < {TARGET:.0%}"
        print(f"{module:48} {killed:7} {survived:9} {other:6} {share:7.1%}{mark}")
    print(f"\nsurvivors ({len(survivors)}):")
    for name in survivors:
        print(f"  {name}")
    return ok


def main(args: list[str]) -> int:
    code = run(args)
    if code not in (0, 1):  # 1: mutants survived, which the table says
        print(f"mutmut run stopped (exit {code})", file=sys.stderr)
    return 0 if report() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
