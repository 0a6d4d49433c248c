"""How long a failed delivery waits before its next try."""

from __future__ import annotations

import random


def retry_delay(retry: int, base: float, cap: float, rng: random.Random) -> float:
    """Simulated seconds before retry number ``retry`` (1 = the first retry), unscaled.

    Exponential (base, 2*base, 4*base, ...) up to ``cap``, with "equal jitter": between half
    and all of the step, so receivers that failed together are not all retried at one instant,
    while no retry comes sooner than half its step.
    """
    step = min(cap, base * 2 ** (retry - 1))
    return step / 2 + rng.uniform(0.0, step / 2)
