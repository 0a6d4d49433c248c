"""A task's input that cannot be fetched or read fails the task: the one translation of
``MediaInputError`` (code, message, parameter) into the engine's ``WorkFailed``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from runware_mock.contract.errors import error
from runware_mock.engine.lifecycle import WorkFailed
from runware_mock.media.facade import MediaInputError


@contextlib.contextmanager
def inputs_fail_the_task() -> Iterator[None]:
    try:
        yield
    except MediaInputError as exc:
        raise WorkFailed(error(exc.code, str(exc), parameter=exc.parameter)) from exc
