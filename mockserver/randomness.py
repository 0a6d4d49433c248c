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
        material = repr((self.seed, *key)).encode()
        return random.Random(int.from_bytes(hashlib.sha256(material).digest()[:8], "big"))

    def result_seed(self, task_uuid: str, index: int) -> int:
        """The ``seed`` reported for one generation, in the 32-bit range clients expect."""
        return self.stream("result-seed", task_uuid, index).randrange(1, 2**31)
