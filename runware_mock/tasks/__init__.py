"""The task types the API offers: one module each, exporting ``TASK_TYPE``.

Adding a task type is adding a module here (and its request schema under
``contract/schemas``): nothing else names it.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from runware_mock.handling.task_type import TaskType


@cache
def task_types() -> dict[str, TaskType]:
    """Every task type by each name it is sent under (its name and its aliases), read from
    this package's modules."""
    found: dict[str, TaskType] = {}
    for module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
        task_type = getattr(importlib.import_module(f"{__name__}.{module}"), "TASK_TYPE", None)
        if isinstance(task_type, TaskType):
            found.update(dict.fromkeys(task_type.names(), task_type))
    return found
