"""The one seeded source of every random choice.

Each choice draws from a generator derived from the run seed and a stable key (for instance
``("latency", taskUUID, index)``), so a replay with the same seed gives the same choices even
when tasks interleave differently.
"""

from __future__ import annotations

import hashlib
import random


class Randomness:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def stream(self, *key: object) -> random.Random:
        """A generator owned by ``key``: same seed and key, same sequence."""
        return random.Random(self._digest(key))

    def result_seed(self, task_uuid: str, index: int) -> int:
        """The ``seed`` reported for one generation, in the 32-bit range clients expect.

        One number needs no generator: it is taken from the digest directly (cheaper on the
        submit path than seeding a Mersenne Twister)."""
        return 1 + self._digest(("result-seed", task_uuid, index)) % (2**31 - 1)

    def _digest(self, key: tuple[object, ...]) -> int:
        material = repr((self.seed, *key)).encode()
        return int.from_bytes(hashlib.sha256(material).digest()[:8], "big")
