"""The settings `runware-mock serve ARGV` would run with, read through the real command
parser (tests/test_settings.py checks every source; tests/test_cli.py the boolean flags)."""

from __future__ import annotations

from runware_mock import settings as settings_module
from runware_mock.cli import given_on_command_line, serve
from runware_mock.settings import Settings


def load(argv: list[str], env: dict[str, str] | None = None) -> Settings:
    """What `runware-mock serve ARGV` would run with, in this environment."""
    context = serve.make_context("serve", list(argv))
    return settings_module.load(given_on_command_line(context, context.params), env=env or {},
                                config_file=context.params["config"])
