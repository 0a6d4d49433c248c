"""Webhook signatures in the Standard Webhooks style (https://www.standardwebhooks.com).

The real service signs nothing; signing is opt-in so a receiver's verification code can be
exercised against the emulator.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from runware_mock import settings

SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key: ``whsec_<base64>`` is decoded, anything else is used as raw UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"a secret starting with {SECRET_PREFIX} must be base64 after "
                             "the prefix") from exc
    return secret.encode()


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``{id}.{timestamp}.{body}``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(key: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, message_id, timestamp, body),
    }


settings.check_with("webhook_secret", secret_key)
