"""Start an emulator for a test run: in this process (a thread) or as a subprocess.

    emulator = start_emulator("thread", {"latency": "fixed:5", "seed": 7}, None, "key")
    emulator.post([{"taskType": "ping", "ping": True}])
    emulator.stop()

Without a data dir (``None``, and no ``data_dir`` among the settings), the emulator runs
``ephemeral``: on a temporary data dir of its own, removed when it stops.

Settings are the names of ``runware-mock serve``'s options (``latency``, ``seed``,
``api_keys``, ...); any setting the installed emulator knows passes through unchanged.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import httpx

from runware_mock import settings as settings_module
from runware_mock.admin.client import AdminClient
from runware_mock.runner import EmulatorURLs

MODES = ("thread", "subprocess")


@dataclasses.dataclass
class Emulator(EmulatorURLs):
    """A running emulator: where it listens, the API key it takes, and its admin client."""

    base_url: str
    api_key: str
    settings: dict[str, Any]
    _stop: Callable[[], None] = dataclasses.field(repr=False)

    @cached_property
    def admin(self) -> AdminClient:
        return AdminClient(self.base_url, token=self.settings.get("admin_token") or None)

    @cached_property
    def http(self) -> httpx.Client:
        return httpx.Client(timeout=60, headers={"Authorization": f"Bearer {self.api_key}"})

    def post(self, tasks: list[Any]) -> httpx.Response:
        """POST a task array to ``/v1`` with this emulator's API key."""
        return self.http.post(self.url, json=tasks)

    def stop(self) -> None:
        if "http" in self.__dict__:
            self.http.close()
        if "admin" in self.__dict__:
            self.admin.close()
        self._stop()


def checked_settings(values: Mapping[str, Any]) -> settings_module.Settings:
    """Parse settings as the emulator would, so a typo fails before anything starts."""
    return settings_module.from_mapping(values)


def start_emulator(mode: str, values: Mapping[str, Any], data_dir: Path | None,
                   api_key: str, python: str = sys.executable) -> Emulator:
    values = {"api_keys": (api_key,), "log_level": "warning", **values}
    if data_dir is not None:
        values["data_dir"] = data_dir
    elif "data_dir" not in values:
        values.setdefault("ephemeral", True)
    checked_settings(values)
    if mode == "thread":
        return _start_thread(values, api_key)
    if mode == "subprocess":
        return _start_subprocess(values, api_key, python)
    raise ValueError(f"unknown emulator mode {mode!r}: use one of {', '.join(MODES)}")


def _start_thread(values: Mapping[str, Any], api_key: str) -> Emulator:
    from runware_mock.runner import ServerThread

    server = ServerThread(checked_settings({**values, "port": 0})).start()
    return Emulator(server.base_url, api_key, dict(values), server.stop)


def _start_subprocess(values: Mapping[str, Any], api_key: str, python: str) -> Emulator:
    from runware_mock.runner import free_port

    port = free_port()
    command = [python, "-m", "runware_mock", "serve", "--port", str(port), *cli_flags(values)]
    with _log_file(values.get("data_dir")) as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(base_url, process, log)
        except BaseException:
            _terminate(process)
            raise
    return Emulator(base_url, api_key, dict(values), lambda: _terminate(process))


def _log_file(data_dir: Path | str | None) -> IO[bytes]:
    """The subprocess's output: ``runware-mock.log`` in a data dir given, else an unnamed
    temporary file (an ephemeral dir is the subprocess's own, gone when it stops)."""
    if data_dir is None:
        return tempfile.TemporaryFile()
    path = Path(data_dir) / "runware-mock.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w+b")


def cli_flags(values: Mapping[str, Any]) -> list[str]:
    """``runware-mock serve`` flags for these settings (repeatable ones repeated)."""
    options = {option.name: option for option in settings_module.OPTIONS}
    flags: list[str] = []
    for name, value in values.items():
        option = options[name]
        if option.repeatable and not isinstance(value, str):
            items = value.items() if isinstance(value, Mapping) else value
            for item in items:
                text = "=".join(item) if isinstance(item, tuple) else str(item)
                flags += [option.cli_flag, text]
        else:
            flags += [option.cli_flag, _flag_text(value)]
    return flags


def _flag_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: IO[bytes],
                        timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode("utf-8", "replace")
            raise RuntimeError(f"runware-mock exited with {process.returncode}:\n"
                               f"{output[-2000:]}")
        try:
            if httpx.get(f"{base_url}/__admin/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"runware-mock did not answer on {base_url} within {timeout} s")
        time.sleep(0.05)


def _terminate(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
