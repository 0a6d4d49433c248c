"""``runware-mock serve``: start the emulator."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

import uvicorn

from runware_mock import settings as settings_module
from runware_mock.app import create_app, server_options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runware-mock",
        description="Offline emulator of the Runware API for KlingAI Avatar 2.0.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the emulator")
    settings_module.add_arguments(serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        settings = settings_module.load(vars(arguments), config_file=arguments.config)
    except (OSError, ValueError) as exc:
        print(f"runware-mock: {exc}", file=sys.stderr)
        return 2
    print(f"runware-mock: serving {settings.base_url}/v1 (REST) - latency {settings.latency}, "
          f"seed {settings.seed}, data in {settings.data_dir}", file=sys.stderr)
    tune_garbage_collector()
    uvicorn.run(create_app(settings), log_level=settings.log_level, **server_options(settings))
    return 0


def tune_garbage_collector() -> None:
    """Thousands of pending tasks are long-lived objects that the default thresholds rescan
    constantly (a quarter of the submit cost under load, measured). Done here, in the process
    the server owns, not in create_app: an embedding process keeps its own settings."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


if __name__ == "__main__":
    sys.exit(main())
