"""runware-mock: an offline emulator of the Runware inference API, with a contract-test harness.

``from runware_mock import create_app, Settings`` for the ASGI app. Both are imported on first
use, so that importing a part (``runware_mock.contract``, say) does not load the whole server.
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runware_mock.app import create_app
    from runware_mock.settings import Settings

__all__ = ["Settings", "__version__", "create_app"]

try:
    __version__ = metadata.version("runware-mock")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from runware_mock.app import create_app

        return create_app
    if name == "Settings":
        from runware_mock.settings import Settings

        return Settings
    raise AttributeError(f"module 'runware_mock' has no attribute {name!r}")
