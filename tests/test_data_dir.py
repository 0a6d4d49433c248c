"""Issue 14, item 4: who owns a data dir. The default one is per user and per port, a server
locks its data dir for its whole life (a second one refuses to start, naming the first), a
kill -9 leaves no stale lock, and ``--ephemeral`` (the pytest plugin's default) runs on a
temporary dir removed at exit.

Real ``runware-mock serve`` processes, each with its own XDG_STATE_HOME and TMPDIR under the
test's tmp_path, so nothing touches the real home or temp dir.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.contract.harness import start_emulator
from runware_mock.datadir import LOCK_NAME, DataDirInUse, claim
from runware_mock.runner import ServerThread, free_port
from runware_mock.settings import Settings
from tests.ctrl_c import children_take_ctrl_c
from tests.server_process import wait_until_serving

pytest_plugins = ["pytester"]

RUNWARE_MOCK = Path(sys.executable).parent / "runware-mock"


class Machine:
    """A user's state dir and system temp dir of their own, and the servers started there."""

    def __init__(self, root: Path) -> None:
        self.state = root / "state"
        self.temp = root / "temp"
        self.temp.mkdir(parents=True)
        self.environment = {name: value for name, value in os.environ.items()
                            if not name.startswith(("RUNWARE_MOCK_", "PYTEST_"))}
        self.environment.update(XDG_STATE_HOME=str(self.state), TMPDIR=str(self.temp))
        self.started: list[subprocess.Popen[str]] = []

    def serve(self, port: int, *flags: str) -> subprocess.Popen[str]:
        with children_take_ctrl_c():
            process = subprocess.Popen([str(RUNWARE_MOCK), "serve", "--port", str(port),
                                        "--latency", "instant", *flags],
                                       env=self.environment, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True,
                                       stdin=subprocess.DEVNULL)
        self.started.append(process)
        return process

    def serving(self, port: int, *flags: str) -> subprocess.Popen[str]:
        process = self.serve(port, *flags)
        wait_until_serving(process, port)
        return process

    def ephemeral_dirs(self) -> list[Path]:
        return sorted(self.temp.glob("runware-mock-*"))

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    machine = Machine(tmp_path)
    yield machine
    machine.stop_all()


def lock_record(data_dir: Path) -> dict[str, Any]:
    return json.loads((data_dir / LOCK_NAME).read_text("utf-8"))


def refusal(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2, (out, err)
    assert out == "" and "serving" not in err and "Traceback" not in err
    [line] = err.strip().splitlines()
    return line


# --- the default data dir ---------------------------------------------------------------------

def test_the_default_data_dir_is_per_user_and_per_port(machine: Machine) -> None:
    ports = [free_port(), free_port()]
    servers = [machine.serving(port) for port in ports]
    for port, server in zip(ports, servers, strict=True):
        data_dir = machine.state / "runware-mock" / f"port-{port}"
        record = lock_record(data_dir)
        assert (record["pid"], record["port"]) == (server.pid, port)
        assert f"--port {port}" in record["command"]
        assert (data_dir / "inputs").is_dir(), "the server works in it"
    assert sorted(path.name for path in (machine.state / "runware-mock").iterdir()) == sorted(
        f"port-{port}" for port in ports)
    assert machine.ephemeral_dirs() == []
    servers[0].send_signal(signal.SIGINT)
    _, err = servers[0].communicate(timeout=60)
    assert f"data in {machine.state / 'runware-mock' / f'port-{ports[0]}'}," in err


# --- the lock ---------------------------------------------------------------------------------

def test_a_second_server_on_a_data_dir_in_use_refuses_before_binding(machine: Machine,
                                                                     tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    first_port = free_port()
    first = machine.serving(first_port, "--data-dir", str(data_dir))
    with socket.socket() as taken:
        # The second server's port is in use too: the data dir is checked first, so its
        # refusal is what the user reads (a port in use would be exit code 1).
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        line = refusal(machine.serve(taken.getsockname()[1], "--data-dir", str(data_dir)))
    assert line.startswith(f"runware-mock: the data dir {data_dir} is in use by runware-mock "
                           f"pid {first.pid} (port {first_port}: ")
    assert f"serve --port {first_port} --latency instant --data-dir {data_dir}" in line
    assert line.endswith("; stop it, or choose another dir with --data-dir, or run on a "
                         "temporary one with --ephemeral")
    assert first.poll() is None and lock_record(data_dir)["pid"] == first.pid


def test_the_default_data_dir_is_locked_too(machine: Machine) -> None:
    port = free_port()
    first = machine.serving(port)
    default = machine.state / "runware-mock" / f"port-{port}"
    line = refusal(machine.serve(free_port(), "--data-dir", str(default)))
    assert f"in use by runware-mock pid {first.pid} (port {port}: " in line


def test_in_process_servers_take_the_same_lock(machine: Machine, tmp_path: Path) -> None:
    held_by_process = tmp_path / "a"
    port = free_port()
    process = machine.serving(port, "--data-dir", str(held_by_process))
    with pytest.raises(DataDirInUse, match=f"in use by runware-mock pid {process.pid} "
                                           rf"\(port {port}: "):
        ServerThread(Settings(data_dir=held_by_process, latency="instant")).start()

    held_by_thread = tmp_path / "b"
    with ServerThread(Settings(data_dir=held_by_thread, latency="instant")) as server:
        line = refusal(machine.serve(free_port(), "--data-dir", str(held_by_thread)))
        assert f"in use by runware-mock pid {os.getpid()} (port {server.settings.port}: " in line
        with pytest.raises(DataDirInUse):
            ServerThread(Settings(data_dir=held_by_thread, latency="instant")).start()
    with ServerThread(Settings(data_dir=held_by_thread, latency="instant")) as again:
        assert lock_record(held_by_thread)["port"] == again.settings.port, "released on stop"


def test_a_server_killed_with_sigkill_leaves_no_stale_lock(machine: Machine,
                                                          tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = machine.serving(free_port(), "--data-dir", str(data_dir))
    first.kill()
    first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert lock_record(data_dir)["pid"] == first.pid, "the file stays; its lock does not"
    port = free_port()
    second = machine.serving(port, "--data-dir", str(data_dir))
    assert (lock_record(data_dir)["pid"], lock_record(data_dir)["port"]) == (second.pid, port)


# The holder claims the dir and forks a child, which says it runs (its pid) and lives on,
# blocked on its stdin; the holder waits too: killed, it leaves the child behind.
_HOLDER_WITH_A_CHILD = """
import os, sys
from pathlib import Path
from runware_mock import datadir
from runware_mock.settings import Settings
held = datadir.claim(Settings(data_dir=Path(sys.argv[1])))
if os.fork() == 0:
    print(os.getpid(), flush=True)
    os.read(0, 1)
    os._exit(0)
os.read(0, 1)
"""


def test_the_lock_goes_with_its_holder_whatever_its_children_do(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER_WITH_A_CHILD, str(data_dir)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdin is not None and holder.stdout is not None
    try:
        child = int(holder.stdout.readline())
        holder.kill()
        holder.wait(timeout=30)
        os.kill(child, 0)  # the child lives on
        claim(Settings(data_dir=data_dir)).release()
    finally:
        holder.stdin.close()  # the child's end of its wait


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_restart_right_after_a_kill_9_serves_on_the_same_port_and_data_dir(
        machine: Machine, tmp_path: Path, workers: str) -> None:
    """Even with a request held when the server is killed: a sync task due in ten minutes,
    which a shutdown would wait for up to --shutdown-timeout (so a worker outliving its
    supervisor would hold the data dir and the port that long)."""
    data_dir, port = tmp_path / "data", free_port()
    flags = ("--data-dir", str(data_dir), "--workers", workers, "--latency", "fixed:600",
             "--shutdown-timeout", "600")
    first = machine.serving(port, *flags)
    threading.Thread(target=_hold_a_sync_task, args=(port,), daemon=True).start()
    _wait_until_processing(port)
    first.kill()
    first.communicate(timeout=30)
    second = machine.serving(port, *flags)
    assert lock_record(data_dir)["pid"] == second.pid
    assert_pong(port)


def _hold_a_sync_task(port: int) -> None:
    task = {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": "runware:400@2",
            "positivePrompt": "a lighthouse", "width": 512, "height": 512,
            "deliveryMethod": "sync"}
    with contextlib.suppress(httpx.HTTPError):  # cut by the kill
        httpx.post(f"http://127.0.0.1:{port}/v1", json=[task], timeout=600,
                   headers={"Authorization": "Bearer held"})


def _wait_until_processing(port: int) -> None:
    deadline = time.monotonic() + 60
    while not httpx.get(f"http://127.0.0.1:{port}/__admin/tasks",
                        params={"state": "processing"}).json()["tasks"]:
        assert time.monotonic() < deadline, "the sync task never came"
        time.sleep(0.05)


def test_workers_killed_with_sigkill_leave_nothing_in_the_temp_dir(machine: Machine,
                                                                   tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for _ in range(2):  # the second server on the data dir finds the socket the first left
        port = free_port()
        server = machine.serving(port, "--data-dir", str(data_dir), "--workers", "2")
        assert_pong(port)
        server.kill()
        server.communicate(timeout=30)  # the next server takes the data dir at once
        assert list(machine.temp.iterdir()) == []


def test_a_data_dir_too_long_for_a_unix_socket_has_it_in_the_temp_dir(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="rwm-", dir="/tmp") as short:  # pytest's is long
        machine = Machine(Path(short))
        data_dir = tmp_path / ("long-" * 24)
        port = free_port()
        server = machine.serving(port, "--data-dir", str(data_dir), "--workers", "2")
        assert_pong(port)
        assert len(list(machine.temp.iterdir())) == 1
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
        assert server.returncode == 143, err
        assert list(machine.temp.iterdir()) == []


def test_a_unix_socket_that_fits_nowhere_stops_the_server_with_a_reason(tmp_path: Path) -> None:
    machine = Machine(tmp_path / ("t" * 60))
    data_dir = tmp_path / ("long-" * 24)
    server = machine.serve(free_port(), "--data-dir", str(data_dir), "--workers", "2")
    _, err = server.communicate(timeout=60)
    assert server.returncode == 1, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"runware-mock: the workers' Unix socket fits in neither the data dir {data_dir} nor "
        f"the temporary dir {machine.temp} (AF_UNIX path too long): pass a shorter --data-dir")
    assert list(machine.temp.iterdir()) == []


def assert_pong(port: int) -> None:
    """A follower takes the ping and hands it to the leader over the exchanges' socket."""
    reply = httpx.post(f"http://127.0.0.1:{port}/v1", json=[{"taskType": "ping", "ping": True}])
    assert reply.json()["data"] == [{"taskType": "ping", "pong": True}]


# --- ephemeral --------------------------------------------------------------------------------

@pytest.mark.parametrize(("stop", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_ephemeral_data_dir_is_removed_at_exit(machine: Machine, stop: signal.Signals,
                                                  code: int) -> None:
    port = free_port()
    server = machine.serving(port, "--ephemeral")
    [data_dir] = machine.ephemeral_dirs()
    assert lock_record(data_dir)["port"] == port and (data_dir / "inputs").is_dir()
    server.send_signal(stop)
    _, err = server.communicate(timeout=60)
    assert server.returncode == code, err
    assert f"data in {data_dir} (ephemeral)," in err and "Traceback" not in err
    assert machine.ephemeral_dirs() == []
    assert not machine.state.exists(), "no default data dir was made"


def test_two_ephemeral_servers_get_two_dirs(machine: Machine) -> None:
    for _ in range(2):
        machine.serving(free_port(), "--ephemeral")
    assert len(machine.ephemeral_dirs()) == 2


def test_ephemeral_and_a_data_dir_are_refused_together(machine: Machine, tmp_path: Path) -> None:
    line = refusal(machine.serve(free_port(), "--ephemeral", "--data-dir", str(tmp_path / "d")))
    assert "ephemeral runs on a temporary data dir of its own" in line
    assert not (tmp_path / "d").exists() and machine.ephemeral_dirs() == []


# --- the harness and the pytest plugin --------------------------------------------------------

@pytest.fixture
def temp_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Machine:
    """This process's temp dir and state dir moved under tmp_path too (for thread mode)."""
    machine = Machine(tmp_path)
    monkeypatch.setenv("TMPDIR", str(machine.temp))
    monkeypatch.setenv("XDG_STATE_HOME", str(machine.state))
    monkeypatch.setattr(tempfile, "tempdir", str(machine.temp))
    return machine


@pytest.mark.parametrize("mode", ["thread", "subprocess"])
def test_the_harness_runs_ephemeral_unless_given_a_data_dir(temp_dirs: Machine, mode: str,
                                                            tmp_path: Path) -> None:
    emulator = start_emulator(mode, {"latency": "instant"}, None, "key")
    try:
        [data_dir] = temp_dirs.ephemeral_dirs()
        assert f":{lock_record(data_dir)['port']}" in emulator.base_url
        assert emulator.post([{"taskType": "ping", "ping": True}]).status_code == 200
    finally:
        emulator.stop()
    assert temp_dirs.ephemeral_dirs() == [] and not temp_dirs.state.exists()

    kept = tmp_path / "kept"
    emulator = start_emulator(mode, {"latency": "instant"}, kept, "key")
    emulator.stop()
    assert (kept / LOCK_NAME).is_file() and temp_dirs.ephemeral_dirs() == []


PLUGIN_TEST = """
import json, os
from pathlib import Path

def test_the_emulator_runs_on_a_temporary_dir(runware_mock):
    [lock] = Path(os.environ["TMPDIR"]).glob("runware-mock-*/runware-mock.lock")
    assert runware_mock.base_url.endswith(f":{json.loads(lock.read_text())['port']}")
"""


@pytest.mark.parametrize("mode", ["thread", "subprocess"])
def test_the_plugins_emulators_run_ephemeral(pytester: pytest.Pytester, temp_dirs: Machine,
                                             mode: str) -> None:
    pytester.makepyfile(PLUGIN_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--runware-mock-mode={mode}")
    result.assert_outcomes(passed=1)
    assert temp_dirs.ephemeral_dirs() == [] and not temp_dirs.state.exists()


def test_the_plugin_keeps_data_under_a_dir_given(pytester: pytest.Pytester,
                                                 temp_dirs: Machine) -> None:
    pytester.makepyfile("def test_x(runware_mock):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--runware-mock-data-dir=kept")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "kept" / "emulator-0" / LOCK_NAME).is_file()
    assert temp_dirs.ephemeral_dirs() == []
