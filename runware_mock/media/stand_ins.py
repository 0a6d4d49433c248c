"""Stand-ins for input URLs whose host cannot be reached (``--unreachable-inputs stand-in``).

A client whose tests name a public image works against the real service and, offline, failed
against the emulator. Such an input gets a generated file of the kind its field expects (an
image, audio or video), made by the same makers as the outputs, a function of the URL and the
run's ``--seed`` alone, and sized within every model's published input limits (the strictest
are the avatar models': an image of at least 300 px a side, audio of 2 to 300 seconds). The
task records which inputs were stood in for (``Task.stand_ins``): the admin API's task and the
dashboard's task page show them.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import mimetypes
import zipfile
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from runware_mock.media.images import ImageMaker
from runware_mock.media.placeholder import Picture
from runware_mock.media.render import Renderer, RenderRequest
from runware_mock.media.sound import Sound, SoundMaker

log = logging.getLogger("runware_mock.media")

IMAGE, AUDIO, VIDEO, DATASET = "image", "audio", "video", "dataset"
# A square of 1024 px: every model takes it (sides of 300 px or more, any aspect limit), and an
# upscale of it by 4 is within the default --max-upscale-pixels.
_IMAGE_SIDE = 1024
_IMAGE_QUALITY = 90
# Within the avatar models' 2 to 300 seconds, and short enough to make in a few milliseconds.
_SECONDS = 5.0
# A training dataset's stand-in: a ZIP of the fewest images a dataset holds (training's 10),
# smaller than an input image's, as nothing measures them.
_DATASET_IMAGES = 10
_DATASET_SIDE = 256

# The stand-ins of the task being measured: the engine sets a list, the media adds to it.
STOOD_IN: ContextVar[list[dict[str, str]] | None] = ContextVar("stood_in", default=None)


@dataclass(frozen=True)
class StandIn:
    """One input stood in for: the field, the URL the client gave, the kind made, and why."""

    parameter: str
    url: str
    kind: str
    reason: str


def expected_kind(parameter: str, url: str) -> str:
    """The kind of media a field takes: named by the field (``inputs.audio``, ``inputImage``,
    ``referenceVideos``, ``inputs.dataset``...), else, for a field taking any media
    (``mediaStorage``'s ``media``), guessed from the URL's file name; an image when nothing
    tells."""
    name = parameter.lower()
    for kind in (DATASET, AUDIO, VIDEO, IMAGE):
        if kind in name:
            return kind
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    major = (guessed or "").partition("/")[0]
    return major if major in (AUDIO, VIDEO) else IMAGE


def note(stand_in: StandIn) -> None:
    """Record a stand-in on the task being measured (and in the log, whatever the task)."""
    log.warning("%s: %s could not be reached (%s); a generated %s stands in for it",
                stand_in.parameter, stand_in.url, stand_in.reason, stand_in.kind)
    recorded = STOOD_IN.get()
    if recorded is not None:
        recorded.append(asdict(stand_in))


class StandInMaker:
    def __init__(self, seed: int, images: ImageMaker, sounds: SoundMaker,
                 renderer: Renderer) -> None:
        self._seed = seed
        self._images = images
        self._sounds = sounds
        self._renderer = renderer

    async def make(self, kind: str, url: str) -> bytes:
        """The bytes of the stand-in of ``kind`` for ``url``: the same for the same URL and
        seed."""
        seed = self._seed_of(url)
        if kind == AUDIO:
            path = await self._sound(seed)
        elif kind == DATASET:
            return await self._dataset(seed, url)
        elif kind == VIDEO:
            picture, sound = await asyncio.gather(self._picture(seed, url), self._sound(seed))
            path = await self._renderer.render(RenderRequest(
                picture, sound, _SECONDS, "MP4", 85, "stand-in"))
        else:
            path = await self._picture(seed, url)
        return await asyncio.to_thread(path.read_bytes)

    def _seed_of(self, url: str) -> int:
        digest = hashlib.sha256(repr((self._seed, "stand-in", url)).encode()).digest()
        return int.from_bytes(digest[:4], "big") % (2**31 - 1) + 1

    async def _picture(self, seed: int, url: str) -> Path:
        shown = url if len(url) <= 60 else f"{url[:57]}..."
        return await self._images.picture(Picture(
            _IMAGE_SIDE, _IMAGE_SIDE, "JPG", _IMAGE_QUALITY, seed,
            ("stand-in: the host of this input could not be reached", shown)))

    async def _dataset(self, seed: int, url: str) -> bytes:
        """A ZIP of pictures, as a training dataset holds them."""
        shown = url if len(url) <= 60 else f"{url[:57]}..."
        paths = await asyncio.gather(*(self._images.picture(Picture(
            _DATASET_SIDE, _DATASET_SIDE, "JPG", _IMAGE_QUALITY, seed + index,
            ("stand-in dataset image", shown))) for index in range(_DATASET_IMAGES)))
        return await asyncio.to_thread(_zipped, paths)

    async def _sound(self, seed: int) -> Path:
        return await self._sounds.make(Sound("speech", _SECONDS, seed, "MP3", 44100, 128, 1))


def _zipped(paths: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index, path in enumerate(paths):
            # A fixed date: the same ZIP for the same URL and seed.
            entry = zipfile.ZipInfo(f"image-{index + 1:02d}.jpg", date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(entry, path.read_bytes())
    return buffer.getvalue()
