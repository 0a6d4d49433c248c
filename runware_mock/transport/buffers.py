"""Memory a refused WebSocket frame leaves behind: collected soon, not whenever.

A frame over --ws-max-bytes (or a protocol error) makes the websockets parser raise inside its
generator; the exception, its traceback, that generator's frame and the connection's protocol
object then refer to each other, holding the partial frame, up to --ws-max-bytes of it, until
the cycle collector runs. ``runware-mock serve`` raises the collector's thresholds (thousands of
pending tasks would otherwise be rescanned constantly), so that could be long: the process grew
by half a gigabyte per 2,000 hostile frames, pass after pass of the same frames
(benchmarks/fuzz.py). After such a close, one full collection runs a second later (at most one
a second; about 15 ms with a full journal).
"""

from __future__ import annotations

import asyncio
import gc

# Close codes after which the connection's parser may hold a cycle: protocol error, invalid
# data, message too big, and an abnormal end.
ABNORMAL_CLOSES = frozenset({1002, 1006, 1007, 1009})
_DELAY = 1.0
_pending: asyncio.TimerHandle | None = None


def collect_soon() -> None:
    """Run one full collection a second from now, unless one is already due."""
    global _pending
    if _pending is not None and not _pending.cancelled() and \
            _pending.when() > asyncio.get_running_loop().time():
        return
    _pending = asyncio.get_running_loop().call_later(_DELAY, gc.collect)
