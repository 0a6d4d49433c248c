"""Files on disk and the URLs they are served at: uploaded inputs and rendered videos.

Inputs are stored by content hash, so the same portrait sent twice is one file and one cache key.
Served files carry an expiry; after it the URL answers 404, as a real expired ``videoURL`` does.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

CONTENT_TYPES = {
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "bin": "application/octet-stream",
}


@dataclass(frozen=True)
class Served:
    uuid: str
    path: Path
    extension: str
    expires_at: float | None

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.extension, "application/octet-stream")

    @property
    def filename(self) -> str:
        return f"{self.uuid}.{self.extension}"


class MediaStore:
    def __init__(self, data_dir: Path, base_url: str) -> None:
        # Absolute: every path handed to ffmpeg then starts with "/", never with "-", which
        # ffmpeg would read as an option (a relative --data-dir such as "-data").
        self.data_dir = data_dir.absolute()
        data_dir = self.data_dir
        self.base_url = base_url
        self.inputs_dir = data_dir / "inputs"
        self.cache_dir = data_dir / "cache"
        for folder in (self.inputs_dir, self.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._served: dict[str, dict[str, Served]] = {"video": {}, "image": {}, "audio": {},
                                                     "media": {}}

    async def save_input(self, content: bytes) -> Path:
        # Hashed in a worker thread (hashlib lets go of the GIL): 20 MB takes tens of ms.
        digest = await asyncio.to_thread(_sha256, content) if len(content) > 65536 \
            else _sha256(content)
        path = self.inputs_dir / digest
        if not path.exists():
            await asyncio.to_thread(_write_atomically, path, content)
        return path

    def publish(self, kind: str, path: Path, extension: str, expires_at: float | None,
                item_uuid: str | None = None) -> Served:
        served = Served(item_uuid or str(uuid.uuid4()), path, extension, expires_at)
        self._served[kind][served.uuid] = served
        return served

    def url(self, kind: str, served: Served) -> str:
        return f"{self.base_url}/{kind}/{served.filename}"

    def find(self, kind: str, item_uuid: str, now: float) -> Served | None:
        served = self._served.get(kind, {}).get(item_uuid)
        if served is None:
            return None
        if served.expires_at is not None and now >= served.expires_at:
            del self._served[kind][item_uuid]
            return None
        return served

    def remove(self, kind: str, item_uuid: str) -> bool:
        return self._served[kind].pop(item_uuid, None) is not None

    def sweep(self, now: float) -> None:
        for kind, table in self._served.items():
            for item_uuid in [u for u, s in table.items() if s.expires_at and now >= s.expires_at]:
                self.find(kind, item_uuid, now)


    def trim_cache(self, budget: int, now: float) -> int:
        """Delete cached renders, oldest first, until the cache fits ``budget`` bytes.

        Files no live URL serves go first; if that is not enough, served videos go too and
        their URLs answer 404, as after their ttl. Runs in a worker thread.
        """
        self.sweep(now)
        files = [(entry.stat(), entry) for entry in self.cache_dir.iterdir() if entry.is_file()]
        total = sum(stat.st_size for stat, _ in files)
        served = {item.path: (kind, item.uuid) for kind, table in self._served.items()
                  for item in list(table.values())}
        freed = 0
        for stat, entry in sorted(files, key=lambda pair: (pair[1] in served, pair[0].st_mtime)):
            if total - freed <= budget:
                break
            if entry in served:
                self.remove(*served[entry])
            entry.unlink(missing_ok=True)
            freed += stat.st_size
        return freed


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_suffix(f".{uuid.uuid4().hex}.part")
    temporary.write_bytes(content)
    temporary.replace(path)
