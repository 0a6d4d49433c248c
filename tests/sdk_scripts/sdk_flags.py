"""The command line every runware-sdk script shares: which transport, the emulator's two URLs
and the API key (the scripts run from this folder, so they import it as a sibling)."""

from __future__ import annotations

import argparse


def runware_sdk_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["websocket", "rest"], required=True)
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--http-url", required=True)
    parser.add_argument("--api-key", required=True)
    return parser
