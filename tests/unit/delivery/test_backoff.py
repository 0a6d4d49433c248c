"""The webhook and upload retry backoff in process (delivery/backoff.py): docs/webhooks-admin.md's
"equal jitter", each retry between half and all of its step.
(Expected values come from the documentation, never from the code under test;
`python3 dev.py mutate` runs these against its mutants.)"""

from __future__ import annotations

import random

import pytest

from runware_mock.delivery.backoff import retry_delay

# --- delivery: backoff (docs/webhooks-admin.md) and signing (Standard Webhooks) ----------------

class Fixed(random.Random):
    """A generator whose uniform() returns one end of the range, to see the range itself."""

    def __init__(self, top: bool) -> None:
        super().__init__(0)
        self.top = top

    def uniform(self, a: float, b: float) -> float:
        return b if self.top else a


@pytest.mark.parametrize(("retry", "step"), [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0),
                                             (5, 20.0), (9, 20.0)])
def test_backoff_is_between_half_and_all_of_its_step(retry: int, step: float) -> None:
    # min(--delivery-backoff-max, --delivery-backoff x 2^(n-1)), with "equal jitter".
    assert retry_delay(retry, 2.0, 20.0, Fixed(top=False)) == step / 2
    assert retry_delay(retry, 2.0, 20.0, Fixed(top=True)) == step
