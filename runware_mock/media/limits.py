"""The model's published input limits, and the checks that name the limit and the measured value.

These are facts of the model (KlingAI avatar inputs), not tunables, so they live here as data.
"""

from __future__ import annotations

from dataclasses import dataclass

from runware_mock.media.probe import AudioInfo, ImageInfo

MB = 1024 * 1024


@dataclass(frozen=True)
class Violation:
    code: str
    message: str


@dataclass(frozen=True)
class ImageLimits:
    formats: tuple[str, ...] = ("JPEG", "PNG", "WEBP")
    max_bytes: int = 10 * MB
    min_side: int = 300
    max_aspect: float = 2.5
    # Above this many pixels an image is refused before decoding: a small file that would
    # decode to gigabytes (a decompression bomb) never reaches the decoder.
    max_pixels: int = 64_000_000

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
                             "1:2.5 (0.4) and 2.5:1 (2.5)")
        return None


@dataclass(frozen=True)
class AudioLimits:
    # ffmpeg's demuxer names: MP3, WAV, M4A (the mp4 family), AAC (ADTS), OGG, FLAC.
    formats: tuple[str, ...] = ("mp3", "wav", "mov,mp4,m4a,3gp,3g2,mj2", "aac", "ogg", "flac")
    max_bytes: int = 5 * MB
    min_seconds: float = 2.0
    max_seconds: float = 300.0

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


def _mb(size: int) -> str:
    return f"{size / MB:.2f} MB"
