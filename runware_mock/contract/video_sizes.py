"""What a video family's resolution names and aspect ratios (``contract/models/video.toml``)
stand for in pixels: read by the emulator to size a video, and by the strategies to predict it."""

from __future__ import annotations


def sized(resolution: str, ratio: str) -> tuple[int, int]:
    """``720p`` at ``9:16`` is 720x1280: the number is the short side ("4K" is 2160), the long
    side follows the ratio, rounded to an even number of pixels."""
    short = 2160 if resolution.lower() == "4k" else int(resolution.removesuffix("p"))
    across, down = (int(part) for part in ratio.split(":"))
    long = round(short * max(across, down) / min(across, down) / 2) * 2
    return (long, short) if across >= down else (short, long)
