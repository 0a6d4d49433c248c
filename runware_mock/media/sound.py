"""Placeholder sound: a real, decodable audio file of an exact length, synthesised by the bundled
ffmpeg (its ``aevalsrc`` and ``anoisesrc`` sources), never by Python on the event loop.

What it sounds like depends on what was asked (``Sound.kind``) and on the seed alone, so the
same request and seed give the same bytes:

- ``speech``: a voice-like tone, pitch and syllable rate from the seed;
- ``music``: a major chord pulsing twice a second, its root from the seed;
- ``sfx``: noise (white, pink or brown, from the seed) fading out;
- ``tone``: a quiet sine, the sound track of a placeholder video.

Files are named by everything they depend on and kept in the media cache folder (which the disk
budget trims): a repeated request finds its file on disk.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

from runware_mock.media.ffmpeg import FFmpegPool

# The 12 notes of an octave from A3, equal temperament: the music's possible roots.
_ROOTS = tuple(220.0 * 2 ** (step / 12) for step in range(12))
_NOISES = ("white", "pink", "brown")


@dataclass(frozen=True)
class AudioFormat:
    extension: str
    mime: str
    muxer: str

    def codec_args(self, bitrate: int) -> list[str]:
        if self.muxer == "mp3":
            return ["-c:a", "libmp3lame", "-b:a", f"{bitrate}k"]
        if self.muxer == "ogg":
            # Vorbis takes any sample rate with a quality (0-10); a bitrate it may refuse.
            return ["-c:a", "libvorbis", "-q:a", f"{(bitrate - 32) * 10 / 288:.1f}"]
        if self.muxer == "flac":
            return ["-c:a", "flac"]
        return ["-c:a", "pcm_s16le"]


FORMATS = {
    "MP3": AudioFormat("mp3", "audio/mpeg", "mp3"),
    "WAV": AudioFormat("wav", "audio/wav", "wav"),
    "FLAC": AudioFormat("flac", "audio/flac", "flac"),
    "OGG": AudioFormat("ogg", "audio/ogg", "ogg"),
}


@dataclass(frozen=True)
class Sound:
    kind: str
    seconds: float
    seed: int
    output_format: str
    sample_rate: int
    bitrate: int
    channels: int

    @property
    def format(self) -> AudioFormat:
        return FORMATS[self.output_format]

    def key(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:40]

    def source(self) -> list[str]:
        """The ffmpeg input (``-f lavfi -i ...``) that generates this sound."""
        rng = random.Random(f"{self.kind}:{self.seed}")
        length = f"{self.seconds:.6f}"
        if self.kind == "sfx":
            graph = (f"anoisesrc=d={length}:c={rng.choice(_NOISES)}:r={self.sample_rate}:"
                     f"a=0.3:s={self.seed % 2**31},"
                     f"afade=t=out:st=0:d={length}")
        else:
            graph = f"aevalsrc=exprs='{self._expression(rng)}':s={self.sample_rate}:d={length}"
        return ["-f", "lavfi", "-i", graph]

    def _expression(self, rng: random.Random) -> str:
        if self.kind == "speech":
            pitch, syllables, wobble = rng.uniform(110, 230), rng.uniform(3, 5), rng.uniform(4, 7)
            return (f"0.5*sin(2*PI*{pitch:.2f}*t+3*sin(2*PI*{wobble:.2f}*t))"
                    f"*(0.55+0.45*sin(2*PI*{syllables:.2f}*t))")
        if self.kind == "music":
            root = rng.choice(_ROOTS)
            return (f"(0.25*sin(2*PI*{root:.2f}*t)+0.2*sin(2*PI*{root * 5 / 4:.2f}*t)"
                    f"+0.15*sin(2*PI*{root * 3 / 2:.2f}*t))*(0.6+0.4*sin(2*PI*2*t))")
        return f"0.1*sin(2*PI*{rng.uniform(220, 880):.2f}*t)"  # tone


class SoundMaker:
    def __init__(self, pool: FFmpegPool, cache_dir: Path) -> None:
        self._pool = pool
        self._cache_dir = cache_dir

    async def make(self, sound: Sound) -> Path:
        """The file of ``sound``, synthesised unless an identical one is on disk already."""
        path = self._cache_dir / f"sound-{sound.key()}.{sound.format.extension}"
        if path.exists():
            return path
        partial = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.part")
        try:
            # -bitexact: no encoder version in the file, so the bytes depend on the sound alone.
            await self._pool.run([
                "-v", "error", "-y", *sound.source(), "-ac", str(sound.channels),
                "-ar", str(sound.sample_rate), *sound.format.codec_args(sound.bitrate),
                "-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1",
                "-f", sound.format.muxer, str(partial),
            ])
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return path
