"""An emulator bound beyond loopback is never open to the network by default.

Bound to ``0.0.0.0`` (the container image's bind) or any other non-loopback address without
``--admin-token``, anyone on the network could read the journal (clients' API keys, prompts)
and reset the emulator. Refusing to start would break the container out of the box, so a token
is generated instead, printed once in the banner, and required by the admin API, the dashboard
and ``/metrics``. ``POST /v1`` and the WebSocket stay as open as the real API's (an API key,
checked only with ``--api-key``), so SDKs and plain clients work unchanged.
"""

from __future__ import annotations

import dataclasses
import secrets

from runware_mock.media.targets import is_loopback_bind
from runware_mock.settings import Settings


def guarded(settings: Settings) -> tuple[Settings, str | None]:
    """``settings`` with an admin token when bound beyond loopback, and the token if it was
    generated here (None when the user chose one, or the bind is loopback)."""
    if settings.admin_token or is_loopback_bind(settings.host):
        return settings, None
    token = secrets.token_urlsafe(24)
    return dataclasses.replace(settings, admin_token=token), token


def banner_lines(settings: Settings, generated: str | None) -> list[str]:
    """What the banner says about it."""
    if is_loopback_bind(settings.host):
        return []
    lines = [f"  bound to {settings.host}: reachable from the network; the admin API, the "
             "dashboard and /metrics need the admin token; inputs and webhooks reach public "
             "addresses only" + (" (--allow-private-targets: private ones too)"
                                 if settings.allow_private_targets else "")]
    if generated is not None:
        lines.append(f"  admin token (generated, shown once; choose one with --admin-token): "
                     f"{generated}")
    return lines
