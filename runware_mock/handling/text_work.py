"""What the text task types' ``Work`` share (``textInference``, ``promptEnhance``): no input to
fetch or measure, no media, a price per token."""

from __future__ import annotations

from runware_mock.contract import model_catalog
from runware_mock.contract.request_types import PromptEnhanceRequest, TextInferenceChatRequest
from runware_mock.engine.randomness import Randomness


class TextWork:
    def __init__(self, request: TextInferenceChatRequest | PromptEnhanceRequest,
                 randomness: Randomness) -> None:
        self._request = request
        self._randomness = randomness
        self._price = model_catalog.model(request["model"]).price

    def measured_now(self) -> float:
        return 0.0

    async def measure(self) -> float:
        return 0.0

    def forget_inline_data(self) -> None:
        """Text tasks hold no media."""
