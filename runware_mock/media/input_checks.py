"""The checks of a model's published input limits, naming the limit and the measured value.

The limits themselves are facts of the model, kept in the catalog
(``runware_mock.contract.model_catalog``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from runware_mock.contract import model_catalog
from runware_mock.contract.model_catalog import AudioInputLimits, ImageInputLimits
from runware_mock.media.probe import AudioInfo, ImageInfo

MB = 1024 * 1024
# Above this many pixels an image is refused before decoding: a small file that would decode to
# gigabytes (a decompression bomb) never reaches the decoder.
MAX_DECODED_PIXELS = 64_000_000


@dataclass(frozen=True)
class Violation:
    code: str
    message: str


@dataclass(frozen=True)
class ImageLimits(ImageInputLimits):
    """A model's published image limits, with their checks."""

    max_pixels: int = MAX_DECODED_PIXELS

    @classmethod
    def published(cls, limits: ImageInputLimits) -> ImageLimits:
        return cls(**vars(limits))

    def check_size(self, size: int) -> Violation | None:
        if size > self.max_bytes:
            return Violation("invalidImageSize", f"inputs.image is {_mb(size)}; the limit is "
                             f"{_mb(self.max_bytes)} ({self.max_bytes} bytes)")
        return None

    def check(self, info: ImageInfo) -> Violation | None:
        if info.format not in self.formats:
            return Violation("invalidImageFormat", f"inputs.image is {info.format}; allowed "
                             "formats are JPG, PNG and WEBP")
        if info.pixels > self.max_pixels:
            return Violation("invalidImageDimensions", f"inputs.image is {info.width}x"
                             f"{info.height} px, over the {self.max_pixels} pixels accepted "
                             "(refused without decoding it)")
        if min(info.width, info.height) < self.min_side:
            return Violation("invalidImageDimensions", f"inputs.image is {info.width}x"
                             f"{info.height} px; each side must be at least {self.min_side} px")
        aspect = info.width / info.height
        if not 1 / self.max_aspect <= aspect <= self.max_aspect:
            return Violation("invalidImageAspectRatio", f"inputs.image has aspect ratio "
                             f"{aspect:.3f} ({info.width}x{info.height}); it must be between "
                             f"1:{self.max_aspect:g} ({1 / self.max_aspect:g}) and "
                             f"{self.max_aspect:g}:1 ({self.max_aspect:g})")
        return None


@dataclass(frozen=True)
class AudioLimits(AudioInputLimits):
    """A model's published audio limits (formats are ffmpeg's demuxer names), with checks."""

    @classmethod
    def published(cls, limits: AudioInputLimits) -> AudioLimits:
        return cls(**vars(limits))

    def check_size(self, size: int) -> Violation | None:
        if size > self.max_bytes:
            return Violation("invalidAudioSize", f"inputs.audio is {_mb(size)}; the limit is "
                             f"{_mb(self.max_bytes)} ({self.max_bytes} bytes)")
        return None

    def check(self, info: AudioInfo) -> Violation | None:
        if info.format not in self.formats:
            return Violation("invalidAudioFormat", f"inputs.audio is {info.format.split(',')[0]}"
                             "; allowed formats are MP3, WAV, M4A, AAC, OGG and FLAC")
        if not self.min_seconds <= info.seconds <= self.max_seconds:
            measured = (f"longer than {self.max_seconds:g} s" if info.truncated
                        else f"{info.seconds:.3f} s long")
            return Violation("invalidAudioDuration", f"inputs.audio is {measured}; it must "
                             f"last {self.min_seconds:g} to {self.max_seconds:g} seconds")
        return None


@dataclass(frozen=True)
class InputLimits:
    """The limits of a model that takes a portrait and a voice track."""

    image: ImageLimits
    audio: AudioLimits


@cache
def input_limits(air: str) -> InputLimits:
    family = model_catalog.model(air).family
    if family.image is None or family.audio is None:
        raise ValueError(f"{air} takes no image and audio inputs")
    return InputLimits(ImageLimits.published(family.image), AudioLimits.published(family.audio))


def longest_audio_measured() -> float:
    """Audio is decoded up to this many seconds: past every model's longest accepted track, so
    one measurement (kept per file) answers every model's check."""
    return max(family.audio.max_seconds for family in
               {model.family for model in model_catalog.models().values()} if family.audio)


def _mb(size: int) -> str:
    return f"{size / MB:.2f} MB"
