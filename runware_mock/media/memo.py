"""Async memoisation with in-flight sharing: many tasks asking for the same result at once
cause one computation, not one each (a burst of submits of one portrait probes it once)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class AsyncMemo(Generic[T]):
    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._done: OrderedDict[str, T] = OrderedDict()
        self._pending: dict[str, asyncio.Future[T]] = {}

    def peek(self, key: str) -> T | None:
        """The value if it is already computed: no waiting, no computing."""
        value = self._done.get(key)
        if value is not None:
            self._done.move_to_end(key)
        return value

    async def get(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key]
        if key in self._pending:
            return await asyncio.shield(self._pending[key])
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await compute()
        except BaseException as exc:
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # retrieved: the caller that computed it raises it
            else:
                future.cancel()
            raise
        finally:
            del self._pending[key]
        future.set_result(value)
        self._remember(key, value)
        return value

    def _remember(self, key: str, value: T) -> None:
        self._done[key] = value
        if len(self._done) > self._capacity:
            self._done.popitem(last=False)
