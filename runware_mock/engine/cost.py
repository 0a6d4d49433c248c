"""Price of a generation: per second of output video, which is the audio's length."""

from __future__ import annotations

PRICE_PER_SECOND = {
    "klingai:avatar@2.0-standard": 0.044,
    "klingai:avatar@2.0-pro": 0.087,
}


def cost(model: str, seconds: float) -> float:
    """USD, rounded to 5 decimals as the service reports it (12.266 s standard -> 0.5397)."""
    return round(PRICE_PER_SECOND[model] * seconds, 5)
