"""``runware-mock serve --workers N`` in a process of its own, with a ``ServerThread``'s
interface, so a test written against one emulator runs against several workers too.

The server is forked from a fork server (multiprocessing's forkserver) that imported the
emulator once per test session: it is serving in a few tenths of a second, where a new
interpreter would take a second to import it.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from runware_mock.runner import EmulatorURLs, free_port
from runware_mock.settings import OPTIONS, Settings

_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["runware_mock.cli", "runware_mock.app", "runware_mock.supervisor"])


def _serve(argv: list[str], log: str) -> None:
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    from runware_mock.cli import main

    sys.exit(main(argv))


class SupervisedServer(EmulatorURLs):
    def __init__(self, settings: Settings, workers: int = 2) -> None:
        if settings.port in (0, Settings().port):
            settings = dataclasses.replace(settings, port=free_port())
        assert settings.data_dir is not None, "give it a data dir of the test's"
        self.settings = settings
        self.workers = workers
        self.log = settings.data_dir.parent / f"{settings.data_dir.name}-server.log"
        self._process: Any = None

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def services(self) -> Any:
        raise AttributeError("a server of several workers is another process: its services "
                             "cannot be reached from the test (mark the test one_process)")

    def start(self) -> SupervisedServer:
        config = self.settings.data_dir.parent / f"{self.settings.data_dir.name}.toml"
        config.write_text(config_file(self.settings))
        argv = ["serve", "--config", str(config), "--workers", str(self.workers)]
        self._process = _FORKS.Process(target=_serve, args=(argv, str(self.log)), daemon=True)
        self._process.start()
        self._wait_until_serving()
        return self

    def _wait_until_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.settings.port}/__admin/clock"
        while time.monotonic() < deadline:
            if not self._process.is_alive():
                raise AssertionError(f"the server exited ({self._process.exitcode}):\n"
                                     f"{self.log.read_text()[-3000:]}")
            try:
                httpx.get(url, timeout=5)  # any answer: the admin API may want a token
                return
            except httpx.HTTPError:
                time.sleep(0.02)
        raise AssertionError(f"the server did not start:\n{self.log.read_text()[-3000:]}")

    @property
    def pid(self) -> int:
        return int(self._process.pid)

    def worker_pids(self) -> dict[str, list[int]]:
        """The workers running now, by role (``leader``, ``follower``)."""
        found: dict[str, list[int]] = {}
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        for child in map(int, children):
            try:
                name = Path(f"/proc/{child}/comm").read_text().strip()
            except OSError:
                continue
            found.setdefault(name.removeprefix("rwmock-"), []).append(child)
        return found

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.is_alive():
            os.kill(self.pid, signal.SIGTERM)
        self._process.join(timeout=self.settings.shutdown_timeout + 15)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._process = None

    def __enter__(self) -> SupervisedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def config_file(settings: Settings) -> str:
    """A --config file of every setting that is not the default."""
    defaults = Settings()
    lines = []
    for option in OPTIONS:
        value = getattr(settings, option.name)
        if value != getattr(defaults, option.name) or option.name in ("port", "data_dir"):
            lines.append(f"{option.name} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        return "{" + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value) + "}"
    if isinstance(value, tuple):
        return "[" + ", ".join(json.dumps(str(v)) for v in value) + "]"
    return json.dumps(str(value))
