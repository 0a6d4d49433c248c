#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+.

    python3 dev.py serve [FLAGS]   set up .venv, start the emulator (runware-mock serve FLAGS)
    python3 dev.py run [FLAGS]     make a video through the running emulator (runware-mock run)
    python3 dev.py test [ARGS]     set up .venv (and Debian's chromium, podman, mmdebstrap,
                                   runc and eatmydata, when missing and root; the node
                                   example's npm install), then ruff, lint-imports,
                                   mkdocs build --strict and pytest ARGS (a test
                                   process per core): what CI runs
    python3 dev.py docs            serve the documentation site on http://127.0.0.1:8000
    python3 dev.py dist            build the sdist and the wheel into dist/, twine check them,
                                   install the wheel in a fresh virtualenv and serve one task
    python3 dev.py mutate [ARGS]   set up .venv with mutmut, then the mutation score of the
                                   modules in pyproject.toml's [tool.mutmut] (not part of CI)
    python3 dev.py types           write the typed requests (TypedDicts) the request schemas
                                   give to runware_mock/contract/request_types.py
    python3 dev.py new-task-type NAME [--alias A] --model AIR [--output image|text]
                                   the files of a new task type, which pass CI as made
                                   (docs/adding-a-task-type.md)

.venv is (re)installed only when pyproject.toml changed since the last setup, or a command
needs an extra (test, docs) it lacks: serve and run install the emulator alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-from"
EXTRAS = {"serve": (), "run": (), "docs": ("docs",),
          "test": ("test", "docs", "dist", "containers"), "dist": ("dist",),
          "mutate": ("test", "mutate")}
EXIT_INTERRUPTED = 130
# The dashboard's browser tests drive Debian's chromium (Playwright's own browser download is
# not reachable from CI); `test` installs it when missing, where it can.
CHROMIUM = Path("/usr/bin/chromium")
# The container test (tests/test_container.py) builds the Dockerfile with Debian's podman on a
# base made by mmdebstrap (with eatmydata: dpkg without fsync); runc, as crun is refused on
# some hosts (CI's among them).
CONTAINER_TOOLS = {"podman": "podman", "mmdebstrap": "mmdebstrap", "runc": "runc",
                   "eatmydata": "eatmydata"}
# The TypeScript example, run by tests/test_node_client.py with vitest.
NODE_CLIENT = ROOT / "examples" / "node-client"


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def installed() -> tuple[str, set[str]]:
    """The pyproject.toml digest and extras of the last setup (an old plain stamp: none)."""
    try:
        stamp = json.loads(STAMP.read_text())
        return stamp["pyproject"], set(stamp["extras"])
    except (OSError, ValueError, KeyError, TypeError):
        return "", set()


def setup(extras: tuple[str, ...]) -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    digest, have = installed()
    if digest == wanted and have.issuperset(extras):
        return
    have = have if digest == wanted else set()
    started = time.monotonic()
    what = f"runware-mock{'[' + ','.join(extras) + ']' if extras else ''}"
    steps = ["create the virtualenv .venv"] if not (BIN / "python").exists() else []
    steps.append(f"pip install -e {what} and its dependencies")
    say(f"setting up .venv ({'first run' if steps[0].startswith('create') else 'update'}: "
        f"{len(steps)} step{'s' if len(steps) > 1 else ''}; pip prints its progress)")
    for number, step in enumerate(steps, 1):
        say(f"[{number}/{len(steps)}] {step}")
        step_started = time.monotonic()
        if step.startswith("create"):
            venv.EnvBuilder(with_pip=True).create(VENV)
        else:
            pip_install(extras)
        say(f"[{number}/{len(steps)}] done in {time.monotonic() - step_started:.0f} s")
    STAMP.write_text(json.dumps({"pyproject": wanted, "extras": sorted(have | set(extras))}))
    say(f".venv ready in {time.monotonic() - started:.0f} s")


def pip_install(extras: tuple[str, ...]) -> None:
    target = f"{ROOT}[{','.join(extras)}]" if extras else str(ROOT)
    # pip's own output is the progress: a line per package, and its bars on a terminal.
    command = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check",
               "--progress-bar", "on", "-e", target]
    code = call(command)
    if code == EXIT_INTERRUPTED:
        raise KeyboardInterrupt
    if code != 0:
        say("pip install failed (above); fix the cause and run the command again")
        sys.exit(1)


def call(command: list[str], cwd: Path | None = None) -> int:
    """Run a child to its end, its exit status ours (128 + N when signal N ended it).

    Ctrl-C from a terminal reaches the child too (same process group): dev.py lets it stop on
    its own terms, without a traceback of its own, and forwards a second Ctrl-C (press it
    twice to hurry a graceful stop). A SIGTERM sent to dev.py alone is forwarded at once.
    """
    # Material for MkDocs prints a banner about its successor on every build: not our news.
    child = subprocess.Popen(command, cwd=cwd, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    previous = signal.signal(signal.SIGTERM, lambda signum, _: child.send_signal(signum))
    interrupts = 0
    try:
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:
                interrupts += 1
                if interrupts > 1 and child.poll() is None:
                    child.send_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if interrupts:
        return EXIT_INTERRUPTED
    return 128 - code if code < 0 else code


def ensure_chromium() -> None:
    """apt-get install chromium, once, when it is missing and apt-get runs as root (CI does);
    elsewhere the browser tests skip and say why."""
    if not CHROMIUM.exists():
        apt_install(["chromium"], "the dashboard's browser tests")


def ensure_container_tools() -> None:
    """apt-get install podman, mmdebstrap, runc and eatmydata, once, when missing and root (as
    chromium)."""
    missing = [package for tool, package in CONTAINER_TOOLS.items() if not shutil.which(tool)]
    if missing:
        apt_install(missing, "the container test", "--no-install-recommends")


def apt_install(packages: list[str], needed_by: str, *options: str) -> None:
    """Debian's packages, where apt-get runs as root; elsewhere the tests that need them skip
    (and fail under CI=true), which is said here."""
    names = ", ".join(packages)
    apt = shutil.which("apt-get")
    if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        say(f"{names} missing and apt-get cannot install them here (it needs root): "
            f"{needed_by} will skip (under CI=true: fail)")
        return
    say(f"installing Debian's {names} for {needed_by} (once; apt-get prints its progress)")
    started = time.monotonic()
    quiet = ["env", "DEBIAN_FRONTEND=noninteractive", apt]
    for command in ([*quiet, "update"], [*quiet, "install", "-y", *options, *packages]):
        code = call(command)
        if code == EXIT_INTERRUPTED:
            raise KeyboardInterrupt
        if code != 0:
            say(f"{' '.join(command[2:])} failed (exit {code}): {needed_by} will skip "
                "(under CI=true: fail)")
            return
    say(f"{names} installed in {time.monotonic() - started:.0f} s")


def ensure_node_client() -> None:
    """npm install in examples/node-client, when its package.json changed since the last one."""
    npm = shutil.which("npm")
    if npm is None:
        say("npm is missing: the node-client example's test will skip")
        return
    stamp = NODE_CLIENT / "node_modules" / ".installed-from"
    wanted = hashlib.sha256((NODE_CLIENT / "package.json").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say("npm install in examples/node-client (once; npm prints its progress)")
    code = call([npm, "install", "--no-audit", "--no-fund"], cwd=NODE_CLIENT)
    if code == EXIT_INTERRUPTED:
        raise KeyboardInterrupt
    if code != 0:
        say(f"npm install failed (exit {code}): the node-client example's test will fail")
        return
    stamp.write_text(wanted)


def dist(out: Path = ROOT / "dist") -> int:
    """The sdist and the wheel into ``out``, checked as PyPI would, then the wheel installed
    into a fresh virtualenv that prints its version and serves one task."""
    shutil.rmtree(out, ignore_errors=True)
    say("building the sdist and the wheel ...")
    if (code := call([str(BIN / "python"), "-m", "build", "--outdir", str(out), str(ROOT)])) != 0:
        return code
    built = sorted(str(path) for path in out.iterdir())
    say(f"twine check {' '.join(Path(path).name for path in built)}")
    if (code := call([str(BIN / "twine"), "check", "--strict", *built])) != 0:
        return code
    wheel = next(path for path in built if path.endswith(".whl"))
    with tempfile.TemporaryDirectory(prefix="runware-mock-wheel-") as folder:
        return try_wheel(Path(wheel), Path(folder))


def try_wheel(wheel: Path, folder: Path) -> int:
    """Install ``wheel`` into a new virtualenv in ``folder``: --version, then one task served."""
    say(f"installing {wheel.name} into a fresh virtualenv")
    venv.EnvBuilder(with_pip=True).create(folder / "venv")
    scripts = folder / "venv" / ("Scripts" if os.name == "nt" else "bin")
    if (code := call([str(scripts / "python"), "-m", "pip", "install", "--quiet",
                      "--disable-pip-version-check", str(wheel)])) != 0:
        return code
    command = str(scripts / "runware-mock")
    if (code := call([command, "--version"])) != 0:
        return code
    # Warnings only: the pipe is read up to the banner, not after it.
    server = subprocess.Popen([command, "serve", "--port", "0", "--ephemeral", "--latency",
                               "instant", "--log-level", "warning"], stderr=subprocess.PIPE,
                              text=True)
    try:
        url = served_url(server)
        if url is None:
            say("the installed runware-mock did not start (its output is above)")
            return 1
        code = call([command, "run", "--url", url, "--output", str(folder), "--poll-every",
                     "0.1"])
    finally:
        server.terminate()
        server.wait()
    say("the wheel installs, prints its version and serves a task" if code == 0
        else f"runware-mock run failed (exit {code})")
    return code


def served_url(server: subprocess.Popen[str]) -> str | None:
    """The API URL a starting ``runware-mock serve`` names on stderr, once it answers."""
    assert server.stderr is not None
    for line in server.stderr:
        print(line, end="", file=sys.stderr)
        if ": serving " in line:
            url = line.split(": serving ", 1)[1].split()[0]
            break
    else:
        return None
    # The banner comes before the server accepts: wait for its health endpoint (or its end).
    health = url.removesuffix("/v1") + "/__admin/health"
    while server.poll() is None:
        try:
            with urllib.request.urlopen(health, timeout=5):
                return url
        except OSError:
            time.sleep(0.1)
    return None


def checks(site: str, pytest_args: list[str]) -> dict[str, list[str]]:
    """What CI runs, in order; the site is built into a temporary folder."""
    found = {"ruff": [str(BIN / "ruff"), "check", str(ROOT)],
             # The layer contracts of [tool.importlinter] in pyproject.toml.
             "lint-imports": [str(BIN / "lint-imports"), "--config", str(ROOT / "pyproject.toml")]}
    found["mkdocs build --strict"] = [str(BIN / "mkdocs"), "build", "--strict", "--quiet",
                                      "--config-file", str(ROOT / "mkdocs.yml"),
                                      "--site-dir", site]
    # A test process per core and one more (pytest-xdist), a test file to each: a test spends
    # much of its time waiting on a server, ffmpeg or a subprocess. On two cores, 2,050 tests:
    # two processes took 14 min 14 s, three 10 min 16 s (measured one after the other).
    processes = str((os.cpu_count() or 1) + 1)
    found["pytest"] = [str(BIN / "python"), "-m", "pytest", "--numprocesses", processes,
                       "--dist", "loadfile", *pytest_args]
    return found


def test(args: list[str]) -> int:
    """Every check runs, and any failure fails the whole."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="runware-mock-site-") as site:
        for name, command in checks(site, args).items():
            say(f"{name} ...")
            started = time.monotonic()
            results[name] = call(command, cwd=ROOT)
            if results[name] == EXIT_INTERRUPTED:
                return EXIT_INTERRUPTED
            verdict = "ok" if results[name] == 0 else f"FAILED (exit {results[name]})"
            say(f"{name}: {verdict} in {time.monotonic() - started:.0f} s")
    failed = [name for name, code in results.items() if code != 0]
    say(f"failed: {', '.join(failed)}" if failed else "all checks passed")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command not in EXTRAS:
        print(__doc__)
        if command in ("", "-h", "--help"):
            return 0
        say(f"unknown command {command!r}: use one of {', '.join(EXTRAS)}")
        return 2
    try:
        setup(EXTRAS[command])
        if command == "test":
            ensure_chromium()
            ensure_container_tools()
            ensure_node_client()
    except KeyboardInterrupt:
        print(file=sys.stderr)
        say("setup interrupted; the next command finishes it")
        return EXIT_INTERRUPTED
    if command in ("serve", "run"):
        return call([str(BIN / "runware-mock"), command, *rest])
    if command == "dist":
        return dist()
    if command == "docs":
        return call([str(BIN / "mkdocs"), "serve", "--config-file", str(ROOT / "mkdocs.yml"),
                     *rest])
    if command == "types":
        return types()
    if command == "new-task-type":
        return call([str(BIN / "python"), str(ROOT / "tools" / "new_task_type.py"), *rest],
                    cwd=ROOT)
    if command == "mutate":
        return call([str(BIN / "python"), str(ROOT / "benchmarks" / "mutation.py"), *rest],
                    cwd=ROOT)
    return test(rest)


# `types` writes runware_mock/contract/request_types.py from the request schemas.
EXTRAS["types"] = ()
# `new-task-type NAME`: a task type's files (tools/new_task_type.py).
EXTRAS["new-task-type"] = ()


def types() -> int:
    """The typed requests written anew (runware_mock/contract/request_typing.py), with the
    emulator's own Python: it reads the schemas from the package."""
    return call([str(BIN / "python"), "-c",
                 "from runware_mock.contract import request_typing; request_typing.write()"],
                cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
