"""A cassette on disk: ``cassette.jsonl``, one recorded exchange a line in the order they
happened, and ``media/``, the result files its answers point to, named by their content's
SHA-256 so the same file always gets the same name.

A line: ``transport`` (rest or websocket), ``tasks`` (the request, keys redacted), ``status``
and ``contentType`` (REST), ``body`` (a REST answer as text: JSON or server-sent events),
``frames`` (the WebSocket frames that answered it, in order), ``media`` (each media URL of
the answer, as the upstream gave it, to its file under ``media/``).

Nothing secret is written: no header is kept, the ``apiKey`` of an authentication task and
every field named like a key, token, secret or password is replaced by ``[redacted]``, and
any text still holding the client's key has it replaced too.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runware_mock.protocol import jsoncodec

CASSETTE = "cassette.jsonl"
MEDIA = "media"
REDACTED = "[redacted]"
_SECRET_WORDS = ("apikey", "api_key", "authorization", "token", "secret", "password")


def is_secret_field(name: Any) -> bool:
    return isinstance(name, str) and any(word in name.lower() for word in _SECRET_WORDS)


def redacted(value: Any) -> Any:
    """A copy of a request's tasks with every secret-looking field's value replaced."""
    if isinstance(value, dict):
        return {key: REDACTED if is_secret_field(key) else redacted(inner)
                for key, inner in value.items()}
    if isinstance(value, list):
        return [redacted(inner) for inner in value]
    return value


def scrubbed(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


@dataclass
class Recording:
    transport: str
    tasks: list[Any]
    status: int | None = None
    content_type: str = ""
    body: str = ""
    frames: list[str] = field(default_factory=list)
    media: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {"transport": self.transport, "tasks": self.tasks}
        if self.transport == "rest":
            line |= {"status": self.status, "contentType": self.content_type, "body": self.body}
        else:
            line["frames"] = self.frames
        if self.media:
            line["media"] = self.media
        return line

    @classmethod
    def of(cls, line: dict[str, Any]) -> Recording:
        return cls(line["transport"], line["tasks"], line.get("status"),
                   line.get("contentType", ""), line.get("body", ""), line.get("frames", []),
                   line.get("media", {}))

    def answer_texts(self) -> list[str]:
        return [self.body] if self.transport == "rest" else self.frames


def load(directory: Path) -> list[Recording]:
    """The cassette's recordings (raises OSError or ValueError for a folder that holds none)."""
    path = directory / CASSETTE
    recordings = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            recordings.append(Recording.of(jsoncodec.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, line {number}: not a recorded exchange ({exc})") from exc
    return recordings


def media_name(content: bytes, url: str, content_type: str) -> str:
    """The stable name of a media file: its content's hash and its type's extension."""
    suffix = Path(urlsplit(url).path).suffix.lower()
    if not suffix or len(suffix) > 6:
        suffix = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
    return hashlib.sha256(content).hexdigest()[:32] + suffix


class CassetteWriter:
    """Appends recordings; refuses one that would take the folder past ``max_bytes``."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        (directory / MEDIA).mkdir(parents=True, exist_ok=True)
        self._path = directory / CASSETTE
        self.size = sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())

    @property
    def room(self) -> int:
        return max(0, self.max_bytes - self.size)

    def write(self, recording: Recording, media: dict[str, bytes], secrets: Iterable[str]
              ) -> bool:
        """Write the recording and its media files (name -> content); False when they do not
        fit (nothing is written then)."""
        line = scrubbed(jsoncodec.dumps(recording.to_json()).decode(), secrets).encode() + b"\n"
        new_media = {name: content for name, content in media.items()
                     if not (self.directory / MEDIA / name).exists()}
        needed = len(line) + sum(len(content) for content in new_media.values())
        if needed > self.room:
            return False
        for name, content in new_media.items():
            (self.directory / MEDIA / name).write_bytes(content)
        with self._path.open("ab") as out:
            out.write(line)
        self.size += needed
        return True
