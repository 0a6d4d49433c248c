"""What one request or frame may cost: the transport's limits, from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from runware_mock.protocol.envelope import RequestLimits
from runware_mock.settings import Settings


@dataclass(frozen=True)
class TransportLimits:
    body_bytes: int
    request: RequestLimits

    @classmethod
    def of(cls, settings: Settings) -> TransportLimits:
        return cls(settings.max_body_bytes, RequestLimits(
            json_values=settings.max_json_values, nesting_depth=settings.max_nesting_depth,
            tasks=settings.max_tasks_per_request, errors=settings.max_errors_per_reply))
