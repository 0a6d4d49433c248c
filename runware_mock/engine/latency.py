"""Latency profiles: how long a generation takes, in simulated seconds.

Profiles take the audio length into account (the real service renders longer clips for longer)
and draw from a seeded generator, so the same seed replays the same latencies.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from runware_mock.engine.randomness import Draws

Draw = Callable[[Draws, float], float]


@dataclass(frozen=True)
class Profile:
    spec: str
    draw: Draw

    def latency(self, draws: Draws, audio_seconds: float, time_scale: float) -> float:
        return max(0.0, self.draw(draws, audio_seconds)) * time_scale


def _fast(draws: Draws, audio: float) -> float:
    # A few seconds, growing gently with the clip, so polling loops are exercised.
    return (1.0 + 0.05 * audio) * draws.uniform(0.8, 1.2)


def _realistic(draws: Draws, audio: float) -> float:
    # Measured real renders: 213-520 s for a 5 s clip; longer clips take longer.
    return draws.lognormvariate(math.log(300.0), 0.3) * (1.0 + audio / 60.0)


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
            return lambda draws, audio: 0.0
        case "fast", []:
            return _fast
        case "realistic", []:
            return _realistic
        case "fixed", [seconds] if seconds >= 0:
            return lambda draws, audio: seconds
        case "uniform", [low, high] if 0 <= low <= high:
            return lambda draws, audio: draws.uniform(low, high)
        case "lognormal", [median, sigma] if median > 0 and sigma >= 0:
            return lambda draws, audio: draws.lognormvariate(math.log(median), sigma)
    return None
