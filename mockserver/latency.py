"""Latency profiles: how long a generation takes, in simulated seconds.

Profiles take the audio length into account (the real service renders longer clips for longer)
and draw from a seeded generator, so the same seed replays the same latencies.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

Draw = Callable[[random.Random, float], float]


@dataclass(frozen=True)
class Profile:
    spec: str
    draw: Draw

    def latency(self, rng: random.Random, audio_seconds: float, time_scale: float) -> float:
        return max(0.0, self.draw(rng, audio_seconds)) * time_scale


def _fast(rng: random.Random, audio: float) -> float:
    # A few seconds, growing gently with the clip, so polling loops are exercised.
    return (1.0 + 0.05 * audio) * rng.uniform(0.8, 1.2)


def _realistic(rng: random.Random, audio: float) -> float:
    # Measured real renders: 213-520 s for a 5 s clip; longer clips take longer.
    return rng.lognormvariate(math.log(300.0), 0.3) * (1.0 + audio / 60.0)


def parse_profile(spec: str) -> Profile:
    name, _, args = spec.partition(":")
    try:
        numbers = [float(part) for part in args.split(":")] if args else []
    except ValueError as exc:
        raise ValueError(f"latency profile {spec!r}: arguments must be numbers") from exc
    draw = _build(name, numbers)
    if draw is None:
        raise ValueError(
            f"unknown latency profile {spec!r}: use instant, fast, realistic, fixed:S, "
            "uniform:A:B or lognormal:MEDIAN:SIGMA"
        )
    return Profile(spec, draw)


def _build(name: str, numbers: list[float]) -> Draw | None:
    match name, numbers:
        case "instant", []:
            return lambda rng, audio: 0.0
        case "fast", []:
            return _fast
        case "realistic", []:
            return _realistic
        case "fixed", [seconds] if seconds >= 0:
            return lambda rng, audio: seconds
        case "uniform", [low, high] if 0 <= low <= high:
            return lambda rng, audio: rng.uniform(low, high)
        case "lognormal", [median, sigma] if median > 0 and sigma >= 0:
            return lambda rng, audio: rng.lognormvariate(math.log(median), sigma)
    return None
