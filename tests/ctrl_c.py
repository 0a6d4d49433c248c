"""Ctrl-C (SIGINT) for the processes a test starts, even when the tests themselves run with
SIGINT ignored, as a non-interactive shell starts a background job (`python3 dev.py test &`).

A child inherits an ignored signal through exec, never a handler: started while SIGINT is
ignored here, a `runware-mock` would ignore Ctrl-C too, as a user's never does. A test that
sends one starts its process inside ``children_take_ctrl_c()``."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def children_take_ctrl_c() -> Iterator[None]:
    """Processes started inside take SIGINT's default action (Python's KeyboardInterrupt);
    this process's own handler is as it was afterwards. Main thread only, as ``signal``."""
    previous = signal.getsignal(signal.SIGINT)
    if previous != signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
