"""Making placeholder images off the event loop, each distinct picture once.

A picture is named by everything it depends on (``Picture.key``), so a repeated request (same
prompt, model, seed, size, format and inputs) finds its file already on disk, and a burst of
identical requests draws it once. Files live in the media cache folder,
which the disk budget trims.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

from runware_mock.media import placeholder
from runware_mock.media.placeholder import Picture
from runware_mock.media.render import file_identity


class ImageMaker:
    def __init__(self, cache_dir: Path) -> None:
        self._cache_dir = cache_dir
        # Pictures being drawn: a burst of identical requests waits for one drawing.
        self._pending: dict[str, asyncio.Task[Path]] = {}

    async def picture(self, picture: Picture) -> Path:
        """The file of a generated (or image-to-image) placeholder."""
        identity = file_identity(picture.source) if picture.source is not None else ""
        return await self._file(picture.key(identity), picture.extension,
                                lambda: placeholder.draw(picture))

    async def upscale(self, source: Path, size: tuple[int, int], caption: tuple[str, ...],
                      output_format: str, quality: int) -> Path:
        """The file of ``source`` resized to ``size``, labelled."""
        # Seed -1: no generated picture has it, so an upscale never shares a generated name.
        key = Picture(*size, output_format, quality, -1, caption, source).key(
            file_identity(source))
        return await self._file(key, placeholder.FORMATS[output_format][1],
                                lambda: placeholder.upscaled(source, size, caption,
                                                             output_format, quality))

    async def derived(self, key: str, extension: str, make: Callable[[], bytes]) -> Path:
        """The file of an image made from an input by ``make`` (a background removal, a guide,
        a mask, an SVG), named by ``key``: everything its bytes depend on."""
        return await self._file(key, extension, make)

    async def _file(self, key: str, extension: str, make: Callable[[], bytes]) -> Path:
        path = self._cache_dir / f"image-{key}.{extension}"

        async def made() -> Path:
            await asyncio.to_thread(_write, path, make)
            return path

        # A stat, not a read: cheap enough on the loop, and the cached case is the common one.
        if path.exists():
            return path
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_task(made())
        self._pending[key] = future
        try:
            return await asyncio.shield(future)
        finally:
            if future.done():
                self._pending.pop(key, None)
            else:
                future.add_done_callback(lambda _: self._pending.pop(key, None))


def _write(path: Path, make: Callable[[], bytes]) -> None:
    temporary = path.with_suffix(f".{uuid.uuid4().hex}.part")
    temporary.write_bytes(make())
    temporary.replace(path)
