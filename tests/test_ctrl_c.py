"""tests/ctrl_c.py: a process a test starts inside ``children_take_ctrl_c()`` takes Ctrl-C as a
user's does, even when the tests run with SIGINT ignored (a background job of a
non-interactive shell: `python3 dev.py test &`); outside it, the child inherits the ignore."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.ctrl_c import children_take_ctrl_c

ASK = ("import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, "
       "end='')")


def sigint_of_a_child() -> str:
    return subprocess.run([sys.executable, "-c", ASK], capture_output=True, text=True,
                          timeout=60, check=True).stdout


def test_a_child_started_for_ctrl_c_takes_it_though_the_tests_ignore_it() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with children_take_ctrl_c():
            taken = sigint_of_a_child()
        ignored = sigint_of_a_child()
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN, "the tests' own is as it was"
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (taken, ignored) == ("True", "False")


def test_where_ctrl_c_is_not_ignored_nothing_changes() -> None:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with children_take_ctrl_c():
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
            assert sigint_of_a_child() == "True"
    finally:
        signal.signal(signal.SIGINT, previous)
