"""runware-mock: an offline emulator of the Runware API for KlingAI Avatar 2.0."""

from mockserver.app import create_app
from mockserver.settings import Settings

__all__ = ["Settings", "create_app"]
