"""Latency profiles: how long a task's results take, in simulated seconds.

Profiles take the output's length into account (the real service renders longer clips for
longer); ``realistic`` also takes the model family's usual time (the catalog's
``typical_seconds``: minutes for an avatar video, seconds for an image). They draw from a seeded
generator, so the same seed replays the same latencies.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from runware_mock import settings
from runware_mock.engine.randomness import Draws

# (draws, output seconds, the family's typical seconds) -> seconds
Draw = Callable[[Draws, float, float], float]
# What ``realistic`` means where no model family applies (a transport fault's latency).
UNTYPED_TYPICAL_SECONDS = 1.0


@dataclass(frozen=True)
class Profile:
    spec: str
    draw: Draw

    def latency(self, draws: Draws, output_seconds: float, time_scale: float,
                typical_seconds: float = UNTYPED_TYPICAL_SECONDS) -> float:
        return max(0.0, self.draw(draws, output_seconds, typical_seconds)) * time_scale


def _fast(draws: Draws, output: float, typical: float) -> float:
    # A few seconds, growing gently with the clip, so polling loops are exercised.
    return (1.0 + 0.05 * output) * draws.uniform(0.8, 1.2)


def _realistic(draws: Draws, output: float, typical: float) -> float:
    # Around the family's usual time (an avatar's: 300 s, from measured real renders of
    # 213-520 s for a 5 s clip); longer clips take longer.
    return draws.lognormvariate(math.log(typical), 0.3) * (1.0 + output / 60.0)


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
            return lambda draws, output, typical: 0.0
        case "fast", []:
            return _fast
        case "realistic", []:
            return _realistic
        case "fixed", [seconds] if seconds >= 0:
            return lambda draws, output, typical: seconds
        case "uniform", [low, high] if 0 <= low <= high:
            return lambda draws, output, typical: draws.uniform(low, high)
        case "lognormal", [median, sigma] if median > 0 and sigma >= 0:
            return lambda draws, output, typical: draws.lognormvariate(math.log(median), sigma)
    return None


settings.check_with("latency", parse_profile)
