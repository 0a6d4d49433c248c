"""A follower's kept answers stay within their bounds: a count, and a size each."""

from __future__ import annotations

from runware_mock.transport.offload import KEPT_BYTES, ExchangeClient


def _answered(client: ExchangeClient, body: bytes, answer: bytes) -> None:
    """As when the leader answers ``body`` with a reusable ``answer`` (made at revision 1)."""
    reply = client._reply(("Bearer k", body), None, (0, 200, b"content-type: x\r\n", answer, 1))
    assert reply == (200, b"content-type: x\r\n", answer)


def test_kept_answers_are_bounded_by_count_and_by_size() -> None:
    client = ExchangeClient("unused", reused=3)
    for number in range(5):
        _answered(client, b"poll %d" % number, b"{}")
    assert [key[1] for key in client._kept] == [b"poll 2", b"poll 3", b"poll 4"]
    _answered(client, b"large", b"x" * KEPT_BYTES)  # answered, not kept
    assert b"large" not in {key[1] for key in client._kept}
    nothing = ExchangeClient("unused", reused=0)
    _answered(nothing, b"poll", b"{}")
    assert not nothing._kept
