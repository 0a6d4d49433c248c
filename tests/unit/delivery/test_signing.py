"""Webhook signing in process (delivery/signing.py), against the Standard Webhooks
specification's own example.
(Expected values come from the documentation, never from the code under test;
`python3 dev.py mutate` runs these against its mutants.)"""

from __future__ import annotations

import base64

import pytest

from runware_mock.delivery import signing


def test_standard_webhooks_signature_of_the_specification_example() -> None:
    # The example of the Standard Webhooks specification (standardwebhooks.com).
    key = signing.secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    assert signing.signed_headers(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
        "webhook-signature": expected}


def test_a_secret_without_the_prefix_is_its_own_utf8_bytes() -> None:
    assert signing.secret_key("plain secret") == b"plain secret"
    assert signing.secret_key("whsec_" + base64.b64encode(b"\x00k").decode()) == b"\x00k"
    with pytest.raises(ValueError, match="must be base64 after the prefix"):
        signing.secret_key("whsec_***")
