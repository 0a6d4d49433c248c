"""The one seeded source of every random choice.

Each choice draws from a generator derived from the run seed and a stable key (for instance
``("latency", taskUUID, index)``), so a replay with the same seed gives the same choices even
when tasks interleave differently.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid


class Randomness:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def stream(self, *key: object) -> random.Random:
        """A generator owned by ``key``: same seed and key, same sequence."""
        return random.Random(self._digest(key))

    def draws(self, *key: object) -> Draws:
        """Two numbers owned by ``key``, for a draw made on every submit (a latency)."""
        return Draws(hashlib.sha256(self._material(key)).digest())

    def result_seed(self, task_uuid: str, index: int) -> int:
        """The ``seed`` reported for one generation, in the 32-bit range clients expect.

        One number needs no generator: it is taken from the digest directly (cheaper on the
        submit path than seeding a Mersenne Twister)."""
        return 1 + self._digest(("result-seed", task_uuid, index)) % (2**31 - 1)

    def result_uuid(self, task_uuid: str, index: int) -> str:
        """The UUID of one result's file (videoUUID, imageUUID, audioUUID): a function of the
        seed, the task and the result, so a result can be made again exactly (after a restart,
        or lazily at its first download). Shaped as a version-4 UUID, as the platform's are."""
        digest = hashlib.sha256(self._material(("result-uuid", task_uuid.lower(), index)))
        return str(uuid.UUID(bytes=digest.digest()[:16], version=4))

    def _digest(self, key: tuple[object, ...]) -> int:
        return int.from_bytes(hashlib.sha256(self._material(key)).digest()[:8], "big")

    def _material(self, key: tuple[object, ...]) -> bytes:
        return repr((self.seed, *key)).encode()


class Draws:
    """``uniform`` and ``lognormvariate`` from two uniforms cut from one SHA-256 digest.

    For the one draw every submit makes: building a ``random.Random`` costs more than the rest
    of the draw, because CPython seeds its Mersenne Twister twice (in ``__new__`` and again in
    ``__init__``). Each method uses the same uniforms: one draw per object."""

    __slots__ = ("_first", "_second")

    def __init__(self, digest: bytes) -> None:
        # 53 bits each: every double in [0, 1) that random.random() could give.
        self._first = (int.from_bytes(digest[:8], "big") >> 11) * 2.0**-53
        self._second = (int.from_bytes(digest[8:16], "big") >> 11) * 2.0**-53

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self._first

    def lognormvariate(self, mu: float, sigma: float) -> float:
        # Box-Muller; 1 - u is in (0, 1], so the logarithm is defined.
        radius = math.sqrt(-2.0 * math.log(1.0 - self._first))
        normal = radius * math.cos(2.0 * math.pi * self._second)
        return math.exp(mu + sigma * normal)
