"""Who owns a data dir: the default one (per user and per port), the lock a server holds on it
for its whole life, and the temporary one of ``--ephemeral``.

Every server start goes through ``claim``: ``runware-mock serve`` claims before binding its port
(so a data dir in use is the one thing it reports), ``runner.ServerThread`` before starting its
thread, and the app's lifespan when it was given no claim (an embedding ``create_app`` user).
The lifespan releases the claim on shutdown, after the services are closed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shlex
import shutil
import sys
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any

import platformdirs

from runware_mock.settings import Settings

APP_NAME = "runware-mock"
LOCK_NAME = "runware-mock.lock"


class DataDirError(Exception):
    """The data dir cannot be created or written."""


class DataDirInUse(DataDirError):
    """Another server holds the data dir; the message names it."""


def default_data_dir(port: int) -> Path:
    """Per user and per port, so two servers started without --data-dir never share one."""
    return Path(platformdirs.user_state_dir(APP_NAME)) / f"port-{port}"


class Claim:
    """A data dir locked by this process: ``settings`` has its ``data_dir`` resolved."""

    def __init__(self, settings: Settings, lock_fd: int | None,
                 created: Path | None = None) -> None:
        self.settings = settings
        self._lock_fd = lock_fd
        # The outermost folder this claim made, for a start that fails to take away.
        self._created = created
        self._release_lock = threading.Lock()
        if lock_fd is not None:
            _HELD.add(self)
        # An ephemeral dir also goes at interpreter exit if no one released it (best effort:
        # a kill -9 leaves it behind in the system temp dir).
        self._remove = (weakref.finalize(self, shutil.rmtree, str(settings.data_dir), True)
                        if settings.ephemeral and lock_fd is not None else None)

    @classmethod
    def held_elsewhere(cls, settings: Settings) -> Claim:
        """The claim of a worker process whose supervisor holds the data dir: releasing it
        neither unlocks nor removes anything."""
        return cls(settings, None)

    @property
    def data_dir(self) -> Path:
        assert self.settings.data_dir is not None
        return self.settings.data_dir

    def _forget_in_child(self) -> None:
        """In a process forked from the holder: its copy of the lock's descriptor closed, so
        the lock goes when the holder dies, whatever its children do (a flock belongs to the
        open file, which every copy of the descriptor keeps locked). Nothing is unlocked or
        removed: the holder still holds the dir."""
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None
        if self._remove is not None:
            self._remove.detach()
            self._remove = None

    def release(self) -> None:
        """Unlock (and remove an ephemeral dir); safe to call more than once."""
        with self._release_lock:
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # closing the only descriptor drops the flock
                self._lock_fd = None
            if self._remove is not None:
                self._remove()

    def abandon(self) -> None:
        """Release after a start that failed: the folders this claim made go too, so a
        mistyped port or a port in use leaves no data dir behind."""
        self.release()
        if self._created is not None:
            shutil.rmtree(self._created, ignore_errors=True)
            self._created = None


# The claims this process holds: a forked child (a worker of ``--workers``) drops its copies.
_HELD: weakref.WeakSet[Claim] = weakref.WeakSet()


def _drop_inherited_locks() -> None:
    for held in list(_HELD):
        held._forget_in_child()
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


def claim(settings: Settings) -> Claim:
    """Resolve the data dir for ``settings.port`` and lock it for the life of the server.

    Raises ``DataDirInUse`` when another server (in this process or another) holds it, and
    ``DataDirError`` when it cannot be created or written.
    """
    data_dir, created = _resolve(settings)
    settings = dataclasses.replace(settings, data_dir=data_dir)
    try:
        lock_fd = _lock(data_dir, settings.port)
    except DataDirError:
        if settings.ephemeral:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return Claim(settings, lock_fd, created)


def _resolve(settings: Settings) -> tuple[Path, Path | None]:
    """The data dir, made if need be, and the outermost folder made for it (if any)."""
    if settings.ephemeral:
        return Path(tempfile.mkdtemp(prefix=f"{APP_NAME}-")), None
    data_dir = settings.data_dir or default_data_dir(settings.port)
    missing = [folder for folder in (data_dir, *data_dir.parents) if not folder.exists()]
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"cannot use the data dir {data_dir}: {exc.strerror or exc}") from exc
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise DataDirError(f"cannot write to the data dir {data_dir}; choose another with "
                           "--data-dir")
    return data_dir, (missing[-1] if missing else None)


def _lock(data_dir: Path, port: int) -> int:
    """An exclusive flock on the lock file: the OS drops it when the holder dies, even on a
    kill -9, so a stale lock never needs cleaning up. The file is never deleted (deleting it
    would let two servers lock two different files of the same name)."""
    path = data_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DataDirError(f"cannot use the data dir {data_dir}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirInUse(in_use_message(data_dir, holder(data_dir))) from None
    record = {"pid": os.getpid(), "port": port, "command": shlex.join(sys.orig_argv)}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode() + b"\n", 0)
    return fd


def holder(data_dir: Path) -> dict[str, Any]:
    """What the lock file says of the server holding ``data_dir`` (empty if unreadable: its
    holder may not have written it yet)."""
    try:
        record = json.loads((data_dir / LOCK_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def in_use_message(data_dir: Path, record: dict[str, Any]) -> str:
    if "pid" in record:
        who = (f"runware-mock pid {record['pid']} (port {record.get('port', '?')}: "
               f"{record.get('command', '?')})")
    else:
        who = f"another runware-mock (its lock file {data_dir / LOCK_NAME} names no process yet)"
    return (f"the data dir {data_dir} is in use by {who}; stop it, or choose another dir with "
            "--data-dir, or run on a temporary one with --ephemeral")
