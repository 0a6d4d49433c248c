"""Under ``CI=true``, a test that needs a tool the test command installs fails when it skips.

``python3 dev.py test`` installs Debian's chromium (apt-get) and Playwright (the test extra);
a test module that needs them is marked ``installed_by_test_command``. Elsewhere (a developer's
machine without root) such a test still skips, saying why; in CI the skip would hide that the
install failed, so it is reported as a failure with the skip's reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

MARKER = "installed_by_test_command"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: needs a tool `python3 dev.py test` installs "
                            "(chromium, playwright): under CI=true its skip is a failure")


def missing_install(reason: str) -> NoReturn:
    """Something the test command installs is missing: a skip that says so, or under CI=true
    a failure (for a test whose other skips are legitimate, so it cannot take the marker)."""
    if in_ci():
        pytest.fail(f"skipped under CI=true, but the test command installs what it needs: "
                    f"{reason}")
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci() and item.get_closest_marker(MARKER) is not None:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        reason = str(reason).removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = (f"skipped under CI=true, but the test command installs what it "
                           f"needs: {reason}")
