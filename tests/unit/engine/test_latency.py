"""Latency profiles: seeded, replayable, and distributed as documented."""

from __future__ import annotations

import math
import statistics

import pytest

from runware_mock.contract import model_catalog
from runware_mock.engine.latency import parse_profile
from runware_mock.engine.randomness import Randomness

# Also against serve --workers 2: one emulator whichever worker a connection reaches.
pytestmark = pytest.mark.workers

KEYS = [("latency", f"task-{number}", 0) for number in range(4000)]


AVATAR = model_catalog.model("klingai:avatar@2.0-standard").family


def latencies(spec: str, seed: int = 0, audio: float = 5.0, scale: float = 1.0,
              typical: float = AVATAR.typical_seconds) -> list[float]:
    """An avatar task's latencies, unless another family's typical time is given."""
    profile, randomness = parse_profile(spec), Randomness(seed)
    return [profile.latency(randomness.draws(*key), audio, scale, typical) for key in KEYS]


def test_the_same_seed_replays_the_same_latencies_and_another_seed_does_not() -> None:
    assert latencies("realistic", seed=7) == latencies("realistic", seed=7)
    different = sum(a != b for a, b in zip(latencies("realistic", 7), latencies("realistic", 8),
                                           strict=True))
    assert different == len(KEYS)


def test_uniform_stays_within_its_bounds_and_fills_them() -> None:
    drawn = latencies("uniform:2:4")
    assert min(drawn) >= 2.0 and max(drawn) < 4.0
    assert min(drawn) < 2.01 and max(drawn) > 3.99
    assert statistics.mean(drawn) == pytest.approx(3.0, abs=0.05)


def test_lognormal_has_the_median_and_spread_it_was_given() -> None:
    logs = [math.log(value) for value in latencies("lognormal:30:0.5")]
    assert math.exp(statistics.median(logs)) == pytest.approx(30.0, rel=0.05)
    assert statistics.stdev(logs) == pytest.approx(0.5, rel=0.05)


def test_realistic_takes_minutes_and_longer_clips_take_longer() -> None:
    short, long = latencies("realistic", audio=5.0), latencies("realistic", audio=120.0)
    assert 250 < statistics.median(short) < 400
    assert all(b > a for a, b in zip(short, long, strict=True))


def test_realistic_follows_the_model_familys_typical_time() -> None:
    image = model_catalog.model(model_catalog.airs("imageInference")[0]).family
    drawn = latencies("realistic", audio=0.0, typical=image.typical_seconds)
    assert statistics.median(drawn) == pytest.approx(image.typical_seconds, rel=0.05)
    assert statistics.median(drawn) < 30 < statistics.median(latencies("realistic", audio=0.0))


def test_fast_takes_a_few_seconds_growing_with_the_clip() -> None:
    drawn = latencies("fast", audio=10.0)
    assert min(drawn) >= 1.5 * 0.8 and max(drawn) <= 1.5 * 1.2
    assert statistics.median(latencies("fast", audio=60.0)) > statistics.median(drawn)


def test_time_scale_scales_every_profile_and_instant_is_zero() -> None:
    assert latencies("fixed:10", scale=0.1) == [1.0] * len(KEYS)
    assert latencies("instant") == [0.0] * len(KEYS)
    scaled = latencies("realistic", scale=0.01)
    assert scaled == pytest.approx([value * 0.01 for value in latencies("realistic")])
