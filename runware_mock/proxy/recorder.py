"""``--record DIR``: each exchange written to the cassette with the media its answer points
to, downloaded so a replay needs no network."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx

from runware_mock.protocol import jsoncodec
from runware_mock.replay.cassette import CassetteWriter, Recording, media_name

log = logging.getLogger("runware_mock.proxy")


def media_urls(value: Any) -> Iterator[str]:
    """Every http(s) URL of an answer held in a field named ``...URL`` (videoURL, imageURL,
    audioURL, mediaURL, ...)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(key, str) and key.endswith("URL") and isinstance(inner, str) \
                    and inner.startswith(("http://", "https://")):
                yield inner
            else:
                yield from media_urls(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from media_urls(inner)


class Recorder:
    def __init__(self, writer: CassetteWriter, http: httpx.AsyncClient) -> None:
        self._writer = writer
        self._http = http
        self._downloaded: dict[str, str] = {}  # URL -> file name, for a URL polled again

    async def record(self, recording: Recording, secrets: list[str]) -> bool:
        """False when the cassette has no room for it (or a medium could not be fetched)."""
        media: dict[str, bytes] = {}
        for url in dict.fromkeys(self._urls_of(recording)):
            if url in self._downloaded:
                recording.media[url] = self._downloaded[url]
                continue
            fetched = await self._download(url, self._writer.room)
            if fetched is None:
                return False
            content, content_type = fetched
            name = media_name(content, url, content_type)
            media[name] = content
            recording.media[url] = name
        if not self._writer.write(recording, media, secrets):
            return False
        self._downloaded.update(recording.media)
        return True

    def _urls_of(self, recording: Recording) -> Iterator[str]:
        for text in recording.answer_texts():
            for value in _json_values(text):
                yield from media_urls(value)

    async def _download(self, url: str, most: int) -> tuple[bytes, str] | None:
        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    log.warning("not recorded: %s answered %s", url, response.status_code)
                    return None
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > most:
                        return None
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("content-type", "")
        except httpx.HTTPError as exc:
            log.warning("not recorded: cannot download %s (%s)", url, exc)
            return None


def _json_values(text: str) -> Iterator[Any]:
    """The JSON of an answer: the body, or each event's data of a stream."""
    try:
        yield jsoncodec.loads(text)
        return
    except ValueError:
        pass
    for line in text.splitlines():
        if line.startswith("data:"):
            try:
                yield jsoncodec.loads(line[5:].strip())
            except ValueError:
                continue
