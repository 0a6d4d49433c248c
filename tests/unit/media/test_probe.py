"""A PCM WAV measured from its chunks says what ffmpeg's decode of it says (format, codec,
rate, length to the sample, truncation at the cap); whatever is not plainly PCM WAV is left
to ffmpeg."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path
from unittest import mock

import pytest

from runware_mock.media import probe
from runware_mock.media.ffmpeg import FFmpegPool


def wav(tag: int, channels: int, rate: int, bits: int, frames: int, *,
        extra_chunk: bytes = b"", declared_frames: int | None = None) -> bytes:
    block = channels * bits // 8
    data = bytes(range(256)) * (frames * block // 256) + bytes(frames * block % 256)
    declared = (declared_frames if declared_frames is not None else frames) * block
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunk
            + b"data" + struct.pack("<I", declared) + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


CASES = {
    "16-bit mono": wav(1, 1, 8000, 16, 12345),
    "8-bit stereo": wav(1, 2, 11025, 8, 5000),
    "24-bit stereo": wav(1, 2, 48000, 24, 48000 + 7),
    "32-bit": wav(1, 1, 16000, 32, 3200),
    "float": wav(3, 2, 22050, 32, 22050 * 2),
    "a LIST chunk of odd size first": wav(1, 1, 8000, 16, 4000,
                                          extra_chunk=b"LIST" + struct.pack("<I", 5) + b"abcde\0"),
    "cut short of its data chunk": wav(1, 1, 8000, 16, 3000, declared_frames=9000),
    "longer than the cap": wav(1, 1, 2000, 16, 2000 * 9),
}
CAP = 5.0


async def decoded(path: Path) -> probe.AudioInfo:
    with mock.patch.object(probe, "pcm_wav_info", return_value=None):
        return await probe.probe_audio(FFmpegPool(1), path, CAP - 1.0)


@pytest.mark.parametrize("name", CASES)
def test_the_chunks_say_what_the_decoder_says(tmp_path: Path, name: str) -> None:
    path = tmp_path / "track.wav"
    path.write_bytes(CASES[name])
    fast = probe.pcm_wav_info(path, CAP)
    slow = asyncio.run(decoded(path))
    assert fast is not None
    assert (fast.format, fast.codec, fast.sample_rate, fast.truncated) == (
        slow.format, slow.codec, slow.sample_rate, slow.truncated)
    assert fast.seconds == pytest.approx(slow.seconds, abs=1 / slow.sample_rate)


@pytest.mark.parametrize("content", [
    wav(1, 1, 8000, 16, 0),  # no samples: ffmpeg's own words say why
    wav(2, 1, 8000, 4, 100),  # ADPCM: compressed
    wav(1, 2, 8000, 16, 100)[:-400].replace(b"fmt ", b"fmtX"),  # no fmt chunk
    b"RIFF\0\0\0\0AVI LIST",
    b"ID3\3\0\0\0\0\0\0",
])
def test_anything_else_is_left_to_ffmpeg(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "track.wav"
    path.write_bytes(content)
    assert probe.pcm_wav_info(path, CAP) is None
