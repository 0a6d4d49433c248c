"""Media made on demand, each knowing the error code the emulator answers for it.

A ``Sample`` is an image or an audio track, its media type, and ``code``: ``None`` when it is
within the model's published limits, else the code of the one limit it breaks. Limits are read
from the model catalog (``runware_mock.contract.model_catalog``); the rule that turns a
size or a length into a verdict is the published one, written out here. Images are drawn
with Pillow; audio tracks are written with the standard library (WAV and Sun AU), so no
encoder is needed.

``catalog(kind)`` holds the edge cases by name; ``image_sample`` and ``tone_sample`` make any
other size or length (the Hypothesis strategies draw those).
"""

from __future__ import annotations

import io
import math
import struct
import threading
import wave
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from PIL import Image

from runware_mock.contract import model_catalog
from runware_mock.fixtures import media_path

# The avatar models' published limits: these samples are portraits and voice tracks.
_AVATAR = model_catalog.model("klingai:avatar@2.0-standard").family
assert _AVATAR.image is not None and _AVATAR.audio is not None
IMAGE_LIMITS = _AVATAR.image
AUDIO_LIMITS = _AVATAR.audio
UNDECODABLE = "invalidValueUploadFailed"

# The seed document's portraits and voice tracks, shipped as fixtures, with their lengths.
SEED_PORTRAIT = "b06de116-9865-4f69-85aa-47389348df02.jpg"
SEED_VOICES = {"f7e9776d-d6d9-40d3-aa53-120611f4b9c8.mp3": 12.266,
               "551930ae-e549-4142-a9e8-24884810c18f.mp3": 17.333,
               "64711012-965c-468b-ac8d-03008677482c.mp3": 19.2}
SEED_VOICE = next(iter(SEED_VOICES))

IMAGE_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"),
                 "WEBP": ("webp", "image/webp"), "GIF": ("gif", "image/gif"),
                 "BMP": ("bmp", "image/bmp"), "TIFF": ("tiff", "image/tiff")}


@dataclass(frozen=True)
class Sample:
    name: str
    kind: str
    mime: str
    make: Callable[[], bytes] = field(repr=False, compare=False)
    code: str | None = None
    seconds: float | None = None

    @property
    def content(self) -> bytes:
        """Made once per name (a name says everything its content depends on); a MediaHost
        thread may ask at the same time as the test."""
        with _CONTENT_LOCK:
            if self.name not in _CONTENT:
                _CONTENT[self.name] = self.make()
                while len(_CONTENT) > 64:
                    _CONTENT.popitem(last=False)
            _CONTENT.move_to_end(self.name)
            return _CONTENT[self.name]

    @property
    def valid(self) -> bool:
        return self.code is None


_CONTENT: OrderedDict[str, bytes] = OrderedDict()
_CONTENT_LOCK = threading.Lock()


# --- makers ---------------------------------------------------------------------------------

def picture(width: int, height: int, fmt: str) -> Callable[[], bytes]:
    def make() -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), (40, 120, 160)).save(buffer, format=fmt)
        return buffer.getvalue()

    return make


def tone_wav(frames: int, rate: int) -> Callable[[], bytes]:
    """8-bit mono: the smallest WAV ffmpeg measures to the sample (300 s at 4 kHz is 1.2 MB)."""

    def make() -> bytes:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as track:
            track.setnchannels(1)
            track.setsampwidth(1)
            track.setframerate(rate)
            track.writeframes(_sine_u8(frames, rate))
        return buffer.getvalue()

    return make


def tone_au(frames: int, rate: int) -> Callable[[], bytes]:
    """Sun AU: a container ffmpeg decodes but the model does not accept."""

    def make() -> bytes:
        samples = _sine_u8(frames, rate)
        linear8 = 2  # AU encoding 2: 8-bit linear PCM, signed
        header = struct.pack(">4sIIIII", b".snd", 24, len(samples), linear8, rate, 1)
        return header + bytes((value - 128) % 256 for value in samples)

    return make


@cache
def _one_second_u8(rate: int) -> bytes:
    return bytes(128 + round(60 * math.sin(2 * math.pi * 330 * i / rate)) for i in range(rate))


def _sine_u8(frames: int, rate: int) -> bytes:
    # A 330 Hz tone repeats exactly every second: one second is computed, then repeated.
    return (_one_second_u8(rate) * (frames // rate + 1))[:frames]


def padded(make: Callable[[], bytes], size: int) -> Callable[[], bytes]:
    """The same media with trailing zeros up to ``size`` bytes: decoders stop at the end of the
    data, so only the file size changes."""

    def make_padded() -> bytes:
        content = make()
        return content + b"\0" * (size - len(content))

    return make_padded


def truncated(make: Callable[[], bytes]) -> Callable[[], bytes]:
    return lambda: make()[: len(make()) // 2]


def fixture(name: str) -> Callable[[], bytes]:
    return lambda: media_path(name).read_bytes()


# --- verdicts, as published -----------------------------------------------------------------

def image_verdict(width: int, height: int, fmt: str) -> str | None:
    limits = IMAGE_LIMITS
    if fmt not in limits.formats:
        return "invalidImageFormat"
    if min(width, height) < limits.min_side:
        return "invalidImageDimensions"
    if not 1 / limits.max_aspect <= width / height <= limits.max_aspect:
        return "invalidImageAspectRatio"
    return None


def audio_verdict(seconds: float) -> str | None:
    if not AUDIO_LIMITS.min_seconds <= seconds <= AUDIO_LIMITS.max_seconds:
        return "invalidAudioDuration"
    return None


# --- samples --------------------------------------------------------------------------------

_MADE: OrderedDict[str, Sample] = OrderedDict()


def _remember(sample: Sample) -> Sample:
    """Made samples are found by name (a MediaHost serves them) while recently used."""
    with _CONTENT_LOCK:
        _MADE[sample.name] = sample
        _MADE.move_to_end(sample.name)
        while len(_MADE) > 1024:
            _MADE.popitem(last=False)
    return sample


def image_sample(width: int, height: int, fmt: str, label: str = "image") -> Sample:
    extension, mime = IMAGE_FORMATS[fmt]
    return _remember(Sample(f"{label}-{width}x{height}.{extension}", "image", mime,
                            picture(width, height, fmt), image_verdict(width, height, fmt)))


def tone_sample(frames: int, rate: int, label: str = "tone") -> Sample:
    seconds = frames / rate
    exact = f"{seconds:.6f}".rstrip("0").rstrip(".")  # 1/8000 s needs 6 decimals, no more
    return _remember(Sample(f"{label}-{exact}s-at-{rate}hz.wav", "audio", "audio/wav",
                            tone_wav(frames, rate), audio_verdict(seconds), seconds))


def _image_catalog() -> tuple[Sample, ...]:
    side, aspect = IMAGE_LIMITS.min_side, IMAGE_LIMITS.max_aspect
    longest = int(side * aspect)
    jpeg = picture(400, 500, "JPEG")
    return (
        Sample("seed-portrait.jpg", "image", "image/jpeg", fixture(SEED_PORTRAIT)),
        image_sample(side, side, "PNG", "min-side"),
        image_sample(side, longest, "PNG", "tallest"),
        image_sample(longest, side, "JPEG", "widest"),
        image_sample(400, 500, "WEBP", "portrait"),
        image_sample(side - 1, 2 * side, "PNG", "narrow"),
        image_sample(side, longest + 1, "PNG", "too-tall"),
        image_sample(400, 500, "GIF", "portrait"),
        image_sample(400, 500, "BMP", "portrait"),
        Sample("truncated-400x500.jpg", "image", "image/jpeg", truncated(jpeg), UNDECODABLE),
        Sample("voice-as-portrait.jpg", "image", "image/jpeg", fixture(SEED_VOICE), UNDECODABLE),
        Sample("oversized.jpg", "image", "image/jpeg", padded(jpeg, IMAGE_LIMITS.max_bytes + 1),
               "invalidImageSize"),
    )


def _audio_catalog() -> tuple[Sample, ...]:
    shortest, longest = AUDIO_LIMITS.min_seconds, AUDIO_LIMITS.max_seconds
    return (
        *(Sample(f"seed-voice-{seconds}s.mp3", "audio", "audio/mpeg", fixture(name),
                 seconds=seconds) for name, seconds in SEED_VOICES.items()),
        tone_sample(round(shortest * 8000), 8000, "shortest"),
        tone_sample(round(longest * 4000), 4000, "longest"),
        tone_sample(round((shortest - 0.01) * 8000), 8000, "too-short"),
        tone_sample(round((longest + 0.05) * 4000), 4000, "too-long"),
        Sample("tone-3s.au", "audio", "audio/basic", tone_au(3 * 8000, 8000),
               "invalidAudioFormat"),
        Sample("portrait-as-voice.mp3", "audio", "audio/mpeg", fixture(SEED_PORTRAIT),
               UNDECODABLE),
        Sample("oversized.wav", "audio", "audio/wav",
               padded(tone_wav(3 * 8000, 8000), AUDIO_LIMITS.max_bytes + 1), "invalidAudioSize"),
    )


@cache
def catalog(kind: str) -> tuple[Sample, ...]:
    """The edge cases of ``kind`` ("image" or "audio"), valid ones first."""
    made = _image_catalog() if kind == "image" else _audio_catalog()
    for sample in made:
        _remember(sample)
    return tuple(sorted(made, key=lambda sample: not sample.valid))


def valid_samples(kind: str) -> tuple[Sample, ...]:
    return tuple(sample for sample in catalog(kind) if sample.valid)


def invalid_samples(kind: str) -> tuple[Sample, ...]:
    return tuple(sample for sample in catalog(kind) if not sample.valid)


def by_name(name: str) -> Sample:
    for sample in (*catalog("image"), *catalog("audio")):
        if sample.name == name:
            return sample
    with _CONTENT_LOCK:
        return _MADE[name]
