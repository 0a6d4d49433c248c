"""Outputs made once each in the media cache folder, named by everything they are made from
(a 3D model of a picture, an upscaled video, a video's frame): a repeated task finds its file
on disk, and a burst of identical tasks makes it once. The disk budget trims the folder."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path


class MadeFiles:
    def __init__(self, cache_dir: Path) -> None:
        self._dir = cache_dir
        # Files being made: a second asker waits for the first making.
        self._pending: dict[str, asyncio.Future[None]] = {}

    async def file(self, name: str, make: Callable[[Path], Awaitable[None]]) -> Path:
        """The file ``name`` in the cache, made by ``make(path)`` (which writes it whole, or
        not at all) unless it is there already."""
        path = self._dir / name
        # A stat, not a read: cheap enough on the loop, and the cached case is the common one.
        if path.exists():
            return path
        pending = self._pending.get(name)
        if pending is None:
            pending = asyncio.ensure_future(make(path))
            self._pending[name] = pending
            pending.add_done_callback(lambda _: self._pending.pop(name, None))
        await asyncio.shield(pending)
        return path


async def write_whole(path: Path, make: Callable[[], bytes]) -> None:
    """Write what ``make`` returns (run in a worker thread: makers are CPU-bound) beside
    ``path``, then move it there, so a reader never sees half a file."""
    def write() -> None:
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            partial.write_bytes(make())
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)

    await asyncio.to_thread(write)
