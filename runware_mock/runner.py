"""Run the emulator in a background thread on a free port: for tests and the pytest plugin."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from types import TracebackType

import uvicorn

from runware_mock import datadir
from runware_mock.app import PromptServer, create_app, server_options
from runware_mock.settings import Settings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class EmulatorURLs:
    """The API endpoints of an emulator reached at ``base_url``."""

    base_url: str

    @property
    def url(self) -> str:
        """The REST endpoint, ``http://127.0.0.1:PORT/v1``."""
        return f"{self.base_url}/v1"

    @property
    def ws_url(self) -> str:
        """The WebSocket endpoint, ``ws://127.0.0.1:PORT/v1``."""
        return self.url.replace("http", "ws", 1)


class ServerThread(EmulatorURLs):
    """``with ServerThread(settings) as server: httpx.post(server.url, ...)``

    ``start`` takes the data dir as ``runware-mock serve`` does (``datadir.DataDirInUse`` when
    another server holds it, ``settings.data_dir`` resolved after) and ``stop`` gives it back."""

    def __init__(self, settings: Settings | None = None, *, startup_timeout: float = 20.0) -> None:
        settings = settings or Settings()
        if settings.workers > 1:
            raise ValueError("workers: several worker processes need runware-mock serve (or "
                             "the pytest plugin's subprocess mode); a server thread is one")
        if settings.port == 0 or settings.port == Settings().port:
            settings = dataclasses.replace(settings, port=free_port(settings.host))
        self.settings = settings
        self._startup_timeout = startup_timeout
        self._claim: datadir.Claim | None = None

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def services(self):
        return self.app.state.services

    def start(self) -> ServerThread:
        self._claim = datadir.claim(self.settings)
        self.settings = self._claim.settings
        self.app = create_app(self.settings, claim=self._claim)
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on",
                                **server_options(self.settings))
        self._server = PromptServer(config)
        self._thread = threading.Thread(target=self._server.run, name="runware-mock", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"runware-mock did not start on {self.base_url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Shut down; requests still held after ``shutdown_timeout`` are cancelled."""
        if self._claim is None:
            return
        self._server.exit_now()
        self._thread.join(timeout=self.settings.shutdown_timeout + 10)
        self._claim.release()  # the lifespan released it, unless it never ran

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
