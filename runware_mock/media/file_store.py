"""Files on disk and the URLs they are served at: uploaded inputs and rendered videos.

Inputs are stored by content hash, so the same portrait sent twice is one file and one cache key.
Served files carry an expiry; after it the URL answers 404, as a real expired ``videoURL`` does.
A task's output may be published before its file exists (``--renders lazy``): its URL is then
``Pending``, with the maker that renders it at its first download, and becomes ``Served`` once
made (``publish`` under the same UUID).
An upload belongs to the API key that made it, as a task does: another key's task neither finds
nor deletes it (its URL, like every served URL, stays public).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Collection
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from runware_mock.store.file_table import FileRow, FileTable

# The API key the current task runs as (the dispatcher sets it around each handler; a task's
# input preparation, started from the handler, inherits it). None outside a task: serving a
# URL, the sweeper, the admin API, which see every owner's files.
REQUESTER: ContextVar[str | None] = ContextVar("runware_mock_requester", default=None)
# An input file written this recently, and served by nothing yet, may be the one a task is
# being prepared from: the disk budget leaves it alone.
_FRESH_INPUT_SECONDS = 60.0

CONTENT_TYPES = {
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "svg": "image/svg+xml",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "bin": "application/octet-stream",
    # 3dInference's outputs (media.glb).
    "glb": "model/gltf-binary",
    "obj": "model/obj",
    "fbx": "application/octet-stream",
    "stl": "model/stl",
    "usdz": "model/vnd.usdz+zip",
    "3mf": "model/3mf",
    "ply": "model/ply",
    # training's output (media.datasets): a LoRA's weights.
    "safetensors": "application/octet-stream",
}


@dataclass(frozen=True)
class Served:
    uuid: str
    path: Path
    extension: str
    expires_at: float | None
    # The API key that uploaded it; None for a file any key may use (a task's output).
    owner: str | None = None

    def visible(self) -> bool:
        """Whether the task running now may use it (every file, outside a task)."""
        asking = REQUESTER.get()
        return self.owner is None or asking is None or asking == self.owner

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.extension, "application/octet-stream")

    @property
    def filename(self) -> str:
        return f"{self.uuid}.{self.extension}"


# Renders a pending output's file (through the render cache) and returns its path.
Maker = Callable[[], Awaitable[Path]]


@dataclass(frozen=True, slots=True)
class Pending:
    """An output whose URL is published and whose file is not made yet."""

    kind: str
    uuid: str
    extension: str
    expires_at: float | None
    make: Maker = field(repr=False, compare=False)
    # (taskUUID, result index) of the task that makes it: kept, to make it after a restart.
    origin: tuple[str, int] | None = None

    @property
    def filename(self) -> str:
        return f"{self.uuid}.{self.extension}"


class MediaStore:
    def __init__(self, data_dir: Path, base_url: str, files: FileTable) -> None:
        # Absolute: every path handed to ffmpeg then starts with "/", never with "-", which
        # ffmpeg would read as an option (a relative --data-dir such as "-data").
        self.data_dir = data_dir.absolute()
        data_dir = self.data_dir
        self.base_url = base_url
        self.inputs_dir = data_dir / "inputs"
        self.cache_dir = data_dir / "cache"
        # Bytes in the data dir at the last trim, and bytes written since.
        self._measured = 0
        self.written = 0
        for folder in (self.inputs_dir, self.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._served: dict[str, dict[str, Served]] = {"video": {}, "image": {}, "audio": {},
                                                     "media": {}}
        # Outputs published before their file is made, by kind and UUID: a few hundred bytes
        # each, so a flood of tasks whose files nobody reads costs no disk and no render.
        self._pending: dict[str, dict[str, Pending]] = {kind: {} for kind in self._served}
        # The source of truth: every URL published or dropped is written there.
        self._files = files

    async def save_input(self, content: bytes | bytearray) -> Path:
        # Hashed in a worker thread (hashlib lets go of the GIL): 20 MB takes tens of ms.
        digest = await asyncio.to_thread(_sha256, content) if len(content) > 65536 \
            else _sha256(content)
        path = self.inputs_dir / digest
        try:
            # Known already: touched, so the disk budget sees it as just used.
            os.utime(path)
        except FileNotFoundError:
            await asyncio.to_thread(_write_atomically, path, content)
            self.written += len(content)
        return path

    def discard_input(self, path: Path, keep: Collection[Path] = ()) -> bool:
        """Delete an input file that turned out unusable, unless an upload or output serves
        it or ``keep`` names it (another task uses the same bytes)."""
        if path.parent != self.inputs_dir or path in keep or path in self._served_paths():
            return False
        path.unlink(missing_ok=True)
        return True

    def _served_paths(self) -> set[Path]:
        return {item.path for table in self._served.values() for item in list(table.values())}

    def publish(self, kind: str, path: Path, extension: str, expires_at: float | None,
                item_uuid: str | None = None, owner: str | None = None) -> Served:
        served = Served(item_uuid or str(uuid.uuid4()), path, extension, expires_at, owner)
        if path.parent != self.inputs_dir:
            self.written += path.stat().st_size  # a new output (inputs count when saved)
        self._served[kind][served.uuid] = served
        self._pending[kind].pop(served.uuid, None)
        self._files.save(FileRow(kind, served.uuid, str(path), extension, expires_at,
                                      owner, made=1))
        return served

    def restore(self, rows: list[FileRow], remake: Callable[[str, int], Awaitable[Path]]) -> None:
        """The URLs the store kept, served again at start: a file made is served (its URL
        answers 404 if it is gone from the disk); one not made yet is made, at its first
        download, by ``remake(taskUUID, index)`` (its task run again). Files left
        half-written by a crash are removed."""
        for folder in (self.inputs_dir, self.cache_dir):
            for partial in folder.glob("*.part*"):
                partial.unlink(missing_ok=True)
        served, pending = self._served, self._pending
        # Unpacked, not read by name: tuples straight from the database (see FileTable.load).
        for kind, item_uuid, path, extension, expires_at, owner, made, task_uuid, index in rows:
            if made:
                served[kind][item_uuid] = Served(item_uuid, Path(path), extension, expires_at,
                                                 owner)
            elif task_uuid is not None and index is not None:
                pending[kind][item_uuid] = Pending(kind, item_uuid, extension, expires_at,
                                                   functools.partial(remake, task_uuid, index),
                                                   (task_uuid, index))
            else:
                self._files.remove(kind, item_uuid)

    async def committed(self) -> None:
        """Wait until what was published so far is in the store (an upload's ack waits)."""
        await self._files.committed()

    def publish_pending(self, pending: Pending) -> None:
        """Publish an output's URL now; its file is made by ``pending.make`` when needed."""
        self._served[pending.kind].pop(pending.uuid, None)
        self._pending[pending.kind][pending.uuid] = pending
        origin = pending.origin or (None, None)
        self._files.save(FileRow(pending.kind, pending.uuid, "", pending.extension,
                                      pending.expires_at, None, 0, *origin))

    def find_pending(self, kind: str, item_uuid: str, now: float) -> Pending | None:
        """The output at this UUID if its file is still to be made (and its ttl not over)."""
        pending = self._pending.get(kind, {}).get(item_uuid)
        if pending is not None and pending.expires_at is not None and now >= pending.expires_at:
            del self._pending[kind][item_uuid]
            self._files.remove(kind, item_uuid)
            return None
        return pending

    def pending_count(self) -> int:
        return sum(len(table) for table in self._pending.values())

    def url(self, kind: str, served: Served | Pending) -> str:
        return f"{self.base_url}/{kind}/{served.filename}"

    def find(self, kind: str, item_uuid: str, now: float) -> Served | None:
        served = self._served.get(kind, {}).get(item_uuid)
        if served is None or not served.visible():
            return None
        if served.expires_at is not None and now >= served.expires_at:
            del self._served[kind][item_uuid]
            self._files.remove(kind, item_uuid)
            return None
        return served

    def remove(self, kind: str, item_uuid: str) -> bool:
        served = self._served[kind].get(item_uuid)
        if served is None or not served.visible():
            return False
        del self._served[kind][item_uuid]
        self._files.remove(kind, item_uuid)
        return True

    def sweep(self, now: float) -> None:
        for kind, table in self._served.items():
            for item_uuid in [u for u, s in table.items() if s.expires_at and now >= s.expires_at]:
                self.find(kind, item_uuid, now)
        for waiting in self._pending.values():
            for item_uuid, pending in list(waiting.items()):
                if pending.expires_at is not None and now >= pending.expires_at:
                    del waiting[item_uuid]
                    self._files.remove(pending.kind, item_uuid)

    def trim_cache(self, budget: int, now: float | None = None,
                   keep: Collection[Path] = ()) -> int:
        """Delete files, oldest first, until the whole data dir (renders and inputs) fits
        ``budget`` bytes; returns the bytes freed. Runs in a worker thread.

        First go the files nothing needs (intermediate renders, inputs of finished or refused
        tasks); then served outputs, whose URLs answer 404 as after their ttl; then uploads,
        whose mediaUUID is then unknown. Never ``keep`` (the inputs of tasks still waiting),
        files being written, or an input written in the last minute that nothing serves yet
        (a task may be being prepared from it).
        """
        if now is not None:
            self.sweep(now)
        files = _files(self.cache_dir) + _files(self.inputs_dir)
        total = sum(stat.st_size for stat, _ in files)
        self.written = 0
        served = {item.path: (kind, item.uuid) for kind, table in self._served.items()
                  for item in list(table.values())}
        fresh = time.time() - _FRESH_INPUT_SECONDS
        kept = set(keep)

        def order(pair: tuple[os.stat_result, Path]) -> tuple[int, float]:
            kind = served.get(pair[1], ("", ""))[0]
            return (2 if kind == "media" else 1 if kind else 0), pair[0].st_mtime

        freed = 0
        for stat, entry in sorted(files, key=order):
            if total - freed <= budget:
                break
            if entry in kept or (entry.parent == self.inputs_dir and entry not in served
                                 and stat.st_mtime > fresh):
                continue
            if entry in served:
                self._served[served[entry][0]].pop(served[entry][1], None)
                self._files.remove(*served[entry])
            entry.unlink(missing_ok=True)
            freed += stat.st_size
        self._measured = total - freed
        return freed

    def over(self, budget: int) -> bool:
        """Whether what was written since the last trim may have put the data dir over."""
        return self.written > 0 and self._measured + self.written > budget


def _files(folder: Path) -> list[tuple[os.stat_result, Path]]:
    """The finished files of a folder (``.part`` files are still being written)."""
    found = []
    for entry in folder.iterdir():
        if ".part" in entry.name:
            continue
        try:
            stat = entry.stat()
        except FileNotFoundError:
            continue
        if entry.is_file():
            found.append((stat, entry))
    return found


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_suffix(f".{uuid.uuid4().hex}.part")
    temporary.write_bytes(content)
    temporary.replace(path)
