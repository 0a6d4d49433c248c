"""``runware-mock serve --workers N``: N processes serving one port over one store.

The supervisor (the ``serve`` process) holds the data dir and the port and forks the workers:

- the **leader**, the emulator itself: it alone runs every task's lifecycle, the clock, the
  fault rules and their counters, the journal, deliveries, pushes and the admin API, so each
  lifecycle step is decided by exactly one process and everything a client sees is one
  emulator's, whichever worker its connection reached. It takes no connection from clients:
  its core is left to that work;
- N-1 **followers**, which take every connection: each parses its requests' HTTP, hands the
  leader the bodies of ``POST /v1`` (``transport.offload``), writes the leader's replies, and
  relays everything else byte for byte (``transport.relay``).

Every follower listens on a socket of its own bound with SO_REUSEPORT, so the kernel spreads
new connections across them. The supervisor keeps every listening socket open and forks a
worker again when one dies: connections made meanwhile wait in a socket's backlog, and a leader
forked again recovers every task from the store, as a restart does. Workers are forked from
the supervisor once it has imported the emulator, so one starts in milliseconds; each stops
when the supervisor does, even on a kill -9 of the supervisor (it watches a pipe the
supervisor holds).
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runware_mock import datadir
from runware_mock.settings import Settings

log = logging.getLogger("runware_mock.supervisor")

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
# A worker that dies this soon after its start, this many times in a row, is not forked again:
# it would only die again (a bug, or the machine out of memory).
SHORT_LIFE = 2.0
MOST_SHORT_LIVES = 5
_POLL = 0.05
EXCHANGES_NAME = "exchanges.sock"
_PR_SET_PDEATHSIG = 1  # prctl(2)


@dataclass
class Worker:
    role: str  # "leader" or "follower"
    index: int
    # A follower's socket on the port; the leader takes no connections from clients.
    listener: socket.socket | None
    pid: int | None = None
    started: float = 0.0
    short_lives: int = 0

    @property
    def name(self) -> str:
        return f"worker {self.index} ({self.role})"


class Supervisor:
    def __init__(self, claim: datadir.Claim, listeners: list[socket.socket]) -> None:
        self._claim = claim
        self._settings = claim.settings
        self._workers = [Worker("leader", 0, None), *(
            Worker("follower", index, listener) for index, listener in enumerate(listeners, 1))]
        # Followers reach the leader on a loopback port of its own, which takes the connections
        # they relay, and on a Unix socket, which takes the exchanges they offload: a send on
        # it costs less than over TCP (measured: a follower's sends to the leader took a
        # quarter of its time over TCP, a sixth over the Unix socket).
        self._exchanges, self._folder = _exchanges_listener(claim.data_dir / EXCHANGES_NAME)
        self._private = _loopback_listener()
        # Each worker reads this pipe; its end-of-file says the supervisor is gone.
        self._alive_read, self._alive_write = os.pipe()
        self._stopping: int | None = None
        self._supervisor_pid = os.getpid()

    def run(self) -> int:
        """Fork the workers and keep them running until SIGTERM or Ctrl-C; the exit code."""
        previous = {signum: signal.signal(signum, self._on_signal)
                    for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            for worker in self._workers:
                self._fork(worker)
            while self._stopping is None:
                if not self._reap_and_restart():
                    return 1
                time.sleep(_POLL)
            return self._stop_all()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._close()

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stopping = signum

    def _reap_and_restart(self) -> bool:
        """Fork again each worker that died; False when one keeps dying at start."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return True
            if pid == 0:
                return True
            worker = self._worker_of(pid)
            if worker is None:
                continue
            worker.pid = None
            if self._stopping is not None:
                return True
            lived = time.monotonic() - worker.started
            worker.short_lives = worker.short_lives + 1 if lived < SHORT_LIFE else 0
            log.warning("%s exited (%s) after %.1f s; starting it again", worker.name,
                        _describe(status), lived)
            if worker.short_lives >= MOST_SHORT_LIVES:
                log.error("%s died %d times in a row at start: stopping", worker.name,
                          worker.short_lives)
                self._stopping = signal.SIGTERM
                self._stop_all()
                return False
            self._fork(worker)

    def _worker_of(self, pid: int) -> Worker | None:
        return next((worker for worker in self._workers if worker.pid == pid), None)

    def _stop_all(self) -> int:
        """SIGTERM every worker; SIGKILL those still running after the shutdown bound."""
        for worker in self._workers:
            _signal(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + self._settings.shutdown_timeout + 2
        while any(worker.pid is not None for worker in self._workers):
            if time.monotonic() > deadline:
                for worker in self._workers:
                    _signal(worker.pid, signal.SIGKILL)
            self._reap_and_restart()
            time.sleep(_POLL)
        return EXIT_INTERRUPTED if self._stopping == signal.SIGINT else EXIT_TERMINATED

    def _fork(self, worker: Worker) -> None:
        worker.started = time.monotonic()
        pid = os.fork()
        if pid:
            worker.pid = pid
            return
        code = 1
        try:  # the child: never returns into the supervisor's code
            code = self._serve_as(worker)
        except BaseException:  # reported, then the child exits
            log.exception("%s failed", worker.name)
        finally:
            logging.shutdown()
            os._exit(code)

    def _serve_as(self, worker: Worker) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        _die_with(self._supervisor_pid)
        os.close(self._alive_write)
        for other in self._workers:
            if other is not worker and other.listener is not None:
                other.listener.close()
        _stop_when_closed(self._alive_read)
        _name_process(f"rwmock-{worker.role}")
        if worker.listener is None:
            return _lead(self._settings, self._private, self._exchanges)
        leader, exchanges = _address(self._private), self._exchanges.getsockname()
        self._private.close()
        self._exchanges.close()
        _follow(self._settings, worker.listener, leader, exchanges)
        return 0

    def _close(self) -> None:
        for worker in self._workers:
            if worker.listener is not None:
                worker.listener.close()
        self._private.close()
        with contextlib.suppress(OSError):
            os.unlink(self._exchanges.getsockname())
        self._exchanges.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        for fd in (self._alive_read, self._alive_write):
            with contextlib.suppress(OSError):
                os.close(fd)


def supervise(claim: datadir.Claim, listen: Callable[[], socket.socket],
              first: socket.socket) -> int:
    """Serve with ``claim.settings.workers`` workers: the leader, and followers on ``first``
    and the sockets ``listen`` binds to the same port; the exit code (130 after Ctrl-C, 143
    after SIGTERM)."""
    listeners = [first, *(listen() for _ in range(claim.settings.workers - 2))]
    return Supervisor(claim, listeners).run()


def _loopback_listener() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    return listener


def _exchanges_listener(path: Path) -> tuple[socket.socket, str | None]:
    """The exchanges' Unix socket, and the temporary folder that holds it, if any.

    It goes in the data dir, which the supervisor holds locked, so a socket file found there
    is one a kill -9 left, and a kill -9 leaves nothing behind elsewhere. A data dir whose path
    is too long for a Unix socket's (about 100 bytes), or whose file system takes no sockets,
    gets a temporary folder instead; ``DataDirError`` when that fails too.
    """
    try:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return _unix_listener(str(path)), None
    except OSError as error:
        log.debug("exchanges socket in a temporary folder: %s: %s", path, error)
    folder = tempfile.mkdtemp(prefix="runware-mock-")
    try:
        return _unix_listener(os.path.join(folder, EXCHANGES_NAME)), folder
    except OSError as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise datadir.DataDirError(
            f"the workers' Unix socket fits in neither the data dir {path.parent} nor the "
            f"temporary dir {tempfile.gettempdir()} ({error}): pass a shorter --data-dir"
        ) from error


def _unix_listener(path: str) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
    except OSError:
        listener.close()
        raise
    listener.listen(1024)
    return listener


def _address(listener: socket.socket) -> tuple[str, int]:
    host, port = listener.getsockname()[:2]
    return str(host), int(port)


def _lead(settings: Settings, relayed: socket.socket, exchanges: socket.socket) -> int:
    """Serve the emulator; the exit code (3, as uvicorn's, when it failed to start)."""
    import uvicorn

    from runware_mock.app import PromptServer, create_app, server_options

    app = create_app(settings, claim=datadir.Claim.held_elsewhere(settings), exchanges=exchanges,
                     private_port=_address(relayed)[1])
    config = uvicorn.Config(app, log_level=settings.log_level, **server_options(settings))
    server = PromptServer(config)
    server.run(sockets=[relayed])
    return 0 if server.started else 3


def _follow(settings: Settings, listener: socket.socket, leader: tuple[str, int],
            exchanges: str) -> None:
    import asyncio

    from runware_mock.app import KEEP_ALIVE
    from runware_mock.transport.relay import Relay

    async def relay_until_stopped() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        relay = Relay(listener, leader, exchanges, KEEP_ALIVE, settings.reused_answers,
                      settings.header_timeout)
        await relay.start()
        await stop.wait()
        await relay.close(settings.shutdown_timeout)

    logging.basicConfig(level=getattr(logging, settings.log_level.upper(), logging.INFO))
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(relay_until_stopped())


def _loop_factory() -> Callable[[], object] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _stop_when_closed(fd: int) -> None:
    """SIGTERM this worker when the supervisor's end of the pipe closes (it exited or died)."""
    def watch() -> None:
        while True:
            try:
                if not os.read(fd, 1):
                    break
            except InterruptedError:
                continue
            except OSError:
                break
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def _die_with(supervisor: int) -> None:
    """A kill -9 of the supervisor kills this worker too, at once (Linux: the kernel sends the
    SIGKILL as the supervisor dies), so the port is free for a restart right away, as after a
    kill -9 of one worker. Elsewhere the pipe's watch stops it (``_stop_when_closed``)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != supervisor:  # it died before the request was made
        os._exit(1)


def _name_process(name: str) -> None:
    """What ``ps -o comm`` and ``pgrep`` show of a worker (Linux; elsewhere the name stays)."""
    try:
        with open("/proc/self/comm", "w", encoding="ascii") as comm:
            comm.write(name[:15])
    except OSError:
        pass


def _signal(pid: int | None, signum: int) -> None:
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
